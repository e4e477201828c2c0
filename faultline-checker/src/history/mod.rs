//! Operation histories: the `Op` and `History` types, JSONL read/write, Jepsen/Knossos EDN import
//! and well-formedness validation. Knows nothing about models, processes or HTTP.
//!
//! Semantics (DESIGN.md, "History format"): file order is real-time order; `ok` means the op took
//! effect exactly once between its invoke and its completion; `fail` means it certainly did not
//! happen; `info` (or an invoke with no completion) means it may have happened at any time after
//! its invoke. An `ok` read of `null` means the key held nothing.
//!
//! Two forms: [`History`] (a `Vec` of [`Op`]s with JSON values: the general, public form the
//! harness records and the report and the transaction checker read) and [`CompactHistory`]
//! (interned, 48 bytes per op: what the linearizability checker reads, and what the JSONL fast
//! path parses into, in parallel). Each converts to the other without loss.

mod compact;
mod edn;
mod error;
mod independent;
mod jsonl;
mod jsonl_fast;
mod jsonl_scan;
mod key;
mod load;
mod recorder;
mod validate;

pub use compact::CompactHistory;
pub(crate) use compact::NONE;
pub use edn::parse_edn;
pub use error::{HistoryError, Location};
pub use independent::lift_tuple_keys;
pub(crate) use jsonl::parse_line;
pub use jsonl::{read_jsonl, read_jsonl_with_lines, write_jsonl, MAX_LINE_BYTES};
pub use jsonl_fast::{read_jsonl_compact, BLOCK_BYTES};
pub use key::Key;
pub use load::{load, load_compact, Format, MAX_EDN_BYTES};
pub use recorder::Recorder;
pub use validate::validate;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kind of an event in a history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpType {
    /// A client started an operation.
    Invoke,
    /// The operation took effect exactly once, between its invoke and this completion.
    Ok,
    /// The operation certainly did not take effect.
    Fail,
    /// The outcome is unknown: it may take effect at any time after its invoke, or never.
    Info,
}

/// Who performed an operation: a client process (logical thread) or the nemesis.
///
/// Serialized as an integer for clients and as the string `"nemesis"` for the nemesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Process {
    /// A client process. A process that got `info` never invokes again.
    Client(u64),
    /// The fault injector. Its ops are recorded, never checked.
    Nemesis,
}

impl Serialize for Process {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Process::Client(p) => s.serialize_u64(*p),
            Process::Nemesis => s.serialize_str("nemesis"),
        }
    }
}

impl<'de> Deserialize<'de> for Process {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than an untagged enum: untagged enums buffer every value, which is
        // measurable when loading millions of ops.
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Process;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a non-negative integer or \"nemesis\"")
            }
            fn visit_u64<E: serde::de::Error>(self, p: u64) -> Result<Process, E> {
                Ok(Process::Client(p))
            }
            fn visit_i64<E: serde::de::Error>(self, p: i64) -> Result<Process, E> {
                u64::try_from(p).map(Process::Client).map_err(|_| {
                    E::custom(format!(
                        "process must be a non-negative integer or \"nemesis\", got {p}"
                    ))
                })
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Process, E> {
                if s == "nemesis" {
                    Ok(Process::Nemesis)
                } else {
                    Err(E::custom(format!(
                        "process must be a non-negative integer or \"nemesis\", got {s:?}"
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl std::fmt::Display for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Process::Client(p) => write!(f, "{p}"),
            Process::Nemesis => f.write_str("nemesis"),
        }
    }
}

/// One event of a history (one JSONL line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    /// The op's identifier: the file's `index` when it gave one (Knossos numbering), else its
    /// position (0-based, nemesis ops included). Unique within a history.
    pub index: u64,
    /// Nanoseconds since the test started. Informative only: file order is the truth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    /// Who performed the op.
    pub process: Process,
    /// invoke / ok / fail / info.
    #[serde(rename = "type")]
    pub kind: OpType,
    /// The operation: `read`, `write`, `cas`, `txn`, `acquire`, ... or a nemesis verb.
    pub f: String,
    /// The key, for keyed histories (checked per key): a string, number or boolean, kept as
    /// typed (`3` and `"3"` are different keys). A completion without one has its invoke's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Key>,
    /// Read result on `ok`, written value, `[old, new]` for cas; `null` when absent.
    #[serde(default)]
    pub value: Value,
    /// The node that served the request, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Why an op failed or is unknown, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A whole history in real-time (file) order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The events, in real-time order. Indices identify ops (unique; gaps allowed, as in Jepsen
    /// histories filtered by hand); file order, not the index, is the real-time order.
    pub ops: Vec<Op>,
}
