//! Seeded transactional histories for tests and benchmarks, from a simulated store that is
//! strict serializable by construction: each transaction takes effect atomically at one instant
//! between its invoke and its completion. Clients crash (`info`: the transaction may or may
//! not have taken effect) and abort (`fail`: it did not). Keys rotate after a number of writes,
//! as Elle's generator does, so lists stay short. Optionally one anomaly of a chosen class is
//! injected on fresh keys (see [`Inject`]), and nothing else is wrong with the history.

use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use serde_json::{json, Value};

use super::TxnModel;
use crate::history::{History, Op, OpType, Process};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// RNG seed: the same config always yields the same history.
    pub seed: u64,
    /// The data model.
    pub model: TxnModel,
    /// Transactions to invoke (the history has about twice as many ops).
    pub txns: usize,
    /// Concurrent clients.
    pub processes: usize,
    /// Keys in use at any time.
    pub keys: usize,
    /// Writes a key gets before it is replaced by a fresh one.
    pub max_writes_per_key: u64,
    /// Micro-ops per transaction, inclusive range.
    pub min_len: usize,
    /// See `min_len`.
    pub max_len: usize,
    /// Probability that a transaction crashes (`info`).
    pub info_rate: f64,
    /// Probability that a transaction aborts (`fail`).
    pub fail_rate: f64,
    /// An anomaly to inject halfway through.
    pub inject: Option<Inject>,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 0,
            model: TxnModel::ListAppend,
            txns: 1000,
            processes: 10,
            keys: 10,
            max_writes_per_key: 32,
            min_len: 1,
            max_len: 6,
            info_rate: 0.02,
            fail_rate: 0.05,
            inject: None,
        }
    }
}

/// An anomaly the generator can inject, each on keys nothing else touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Inject {
    /// Two transactions' writes interleave: a write cycle.
    G0,
    /// A failed transaction's write is read.
    G1a,
    /// A transaction's intermediate write is read.
    G1b,
    /// Two transactions each read the other's write.
    G1c,
    /// A reader sees one of a transaction's writes but not the other (read skew).
    GSingle,
    /// Two transactions each miss the other's write (write skew).
    G2Item,
    /// A transaction does not see its own write.
    Internal,
    /// Two transactions read the same version and both write over it.
    LostUpdate,
    /// A read sees a write that completed, then a later read misses it (stale read).
    GSingleRealtime,
    /// A list read returns an element twice (list-append only).
    DuplicateElements,
    /// Two reads of one list disagree on the order of appends (list-append only).
    IncompatibleOrder,
}

impl Inject {
    /// Every injectable anomaly with the anomaly type a checker must report for it.
    pub const ALL: [(Inject, &'static str); 11] = [
        (Inject::G0, "G0"),
        (Inject::G1a, "G1a"),
        (Inject::G1b, "G1b"),
        (Inject::G1c, "G1c"),
        (Inject::GSingle, "G-single-item"),
        (Inject::G2Item, "G2-item"),
        (Inject::Internal, "internal"),
        (Inject::LostUpdate, "lost-update"),
        (Inject::GSingleRealtime, "G-single-item-realtime"),
        (Inject::DuplicateElements, "duplicate-elements"),
        (Inject::IncompatibleOrder, "incompatible-order"),
    ];

    /// True when the anomaly can be built in `model`.
    pub fn supports(self, model: TxnModel) -> bool {
        !(model == TxnModel::RwRegister
            && matches!(
                self,
                Inject::G0 | Inject::DuplicateElements | Inject::IncompatibleOrder
            ))
    }
}

/// One micro-op as the generator knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GMop {
    /// Append or write `value` to `key`.
    Write(u64, u64),
    /// Read `key`; `None` in an invoke, the list (or register value, `[]` = null) after.
    Read(u64, Option<Vec<u64>>),
}

/// Where generated ops go.
trait Sink {
    fn emit(&mut self, process: u64, kind: OpType, mops: &[GMop]);
}

struct HistorySink {
    model: TxnModel,
    ops: Vec<Op>,
}

fn mops_json(model: TxnModel, mops: &[GMop]) -> Value {
    Value::Array(
        mops.iter()
            .map(|m| match (m, model) {
                (GMop::Write(k, v), TxnModel::ListAppend) => json!(["append", k, v]),
                (GMop::Write(k, v), TxnModel::RwRegister) => json!(["w", k, v]),
                (GMop::Read(k, None), _) => json!(["r", k, null]),
                (GMop::Read(k, Some(l)), TxnModel::ListAppend) => json!(["r", k, l]),
                (GMop::Read(k, Some(l)), TxnModel::RwRegister) => json!(["r", k, l.last()]),
            })
            .collect(),
    )
}

impl Sink for HistorySink {
    fn emit(&mut self, process: u64, kind: OpType, mops: &[GMop]) {
        let index = self.ops.len() as u64;
        self.ops.push(Op {
            index,
            time: Some(index as i64 * 1000),
            process: Process::Client(process),
            kind,
            f: "txn".into(),
            key: None,
            value: mops_json(self.model, mops),
            node: None,
            error: None,
        });
    }
}

struct JsonlSink<W: Write> {
    model: TxnModel,
    out: W,
    index: u64,
    err: Option<std::io::Error>,
}

impl<W: Write> Sink for JsonlSink<W> {
    fn emit(&mut self, process: u64, kind: OpType, mops: &[GMop]) {
        let ty = match kind {
            OpType::Invoke => "invoke",
            OpType::Ok => "ok",
            OpType::Fail => "fail",
            OpType::Info => "info",
        };
        let mut line = format!(
            "{{\"index\":{},\"time\":{},\"process\":{process},\"type\":\"{ty}\",\"f\":\"txn\",\"value\":[",
            self.index,
            self.index * 1000
        );
        for (i, m) in mops.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            let _ = match (m, self.model) {
                (GMop::Write(k, v), TxnModel::ListAppend) => {
                    write!(line_buf(&mut line), "[\"append\",{k},{v}]")
                }
                (GMop::Write(k, v), TxnModel::RwRegister) => {
                    write!(line_buf(&mut line), "[\"w\",{k},{v}]")
                }
                (GMop::Read(k, None), _) => write!(line_buf(&mut line), "[\"r\",{k},null]"),
                (GMop::Read(k, Some(l)), TxnModel::ListAppend) => {
                    let items: Vec<String> = l.iter().map(u64::to_string).collect();
                    write!(line_buf(&mut line), "[\"r\",{k},[{}]]", items.join(","))
                }
                (GMop::Read(k, Some(l)), TxnModel::RwRegister) => match l.last() {
                    Some(v) => write!(line_buf(&mut line), "[\"r\",{k},{v}]"),
                    None => write!(line_buf(&mut line), "[\"r\",{k},null]"),
                },
            };
        }
        line.push_str("]}\n");
        self.index += 1;
        if self.err.is_none() {
            if let Err(e) = self.out.write_all(line.as_bytes()) {
                self.err = Some(e);
            }
        }
    }
}

/// `write!` into a `String` through `std::fmt::Write`.
fn line_buf(s: &mut String) -> &mut dyn std::fmt::Write {
    s
}

/// Generate a history in memory.
pub fn generate(cfg: &GenConfig) -> History {
    let mut sink = HistorySink {
        model: cfg.model,
        ops: Vec::new(),
    };
    super::generate_store::run(cfg, &mut |p, k, m| sink.emit(p, k, m));
    History { ops: sink.ops }
}

/// Generate a history straight to JSONL (for histories too large to hold as a `History`).
pub fn generate_jsonl<W: Write>(cfg: &GenConfig, out: W) -> std::io::Result<()> {
    let mut sink = JsonlSink {
        model: cfg.model,
        out,
        index: 0,
        err: None,
    };
    super::generate_store::run(cfg, &mut |p, k, m| sink.emit(p, k, m));
    match sink.err {
        Some(e) => Err(e),
        None => sink.out.flush(),
    }
}

/// The simulated store's state: each key's list (a register is its list's last element).
#[derive(Default)]
pub(crate) struct Store {
    pub lists: FxHashMap<u64, Vec<u64>>,
}

impl Store {
    /// Apply `mops` atomically, filling in reads.
    pub(crate) fn apply(&mut self, mops: &mut [GMop]) {
        for m in mops {
            match m {
                GMop::Write(k, v) => self.lists.entry(*k).or_default().push(*v),
                GMop::Read(k, r) => *r = Some(self.lists.get(k).cloned().unwrap_or_default()),
            }
        }
    }
}

/// A seeded RNG for the store.
pub(crate) fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A uniformly random index below `n` (`n > 0`).
pub(crate) fn pick(rng: &mut ChaCha8Rng, n: usize) -> usize {
    rng.random_range(0..n.max(1))
}

#[cfg(test)]
#[path = "generate_tests.rs"]
mod tests;
