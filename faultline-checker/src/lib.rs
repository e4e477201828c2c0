//! Linearizability checking: the `Model` trait and its models, the Wing & Gong / Lowe search with
//! memoization, a competing configuration-set search, per-key splitting (rayon), budgets and
//! counterexamples. Synchronous (no tokio, no file I/O; contenders run on scoped threads). Never
//! turns `Unknown` into `Valid`, and never lets one search's answer silently override another's.
//!
//! # Using it as a library
//!
//! Record what your test's clients did with a [`HistoryBuilder`] (or build [`history::Op`]s
//! yourself), pick a [`ModelKind`] and budgets in [`CheckOptions`], and [`check`]:
//!
//! ```
//! use std::time::Duration;
//! use faultline_checker::{check, CheckOptions, HistoryBuilder, ModelKind, Verdict};
//! use serde_json::{json, Value};
//!
//! // Client 0 writes 1 while client 1 reads; then client 2 reads the old value.
//! let mut h = HistoryBuilder::new();
//! h.invoke(0, "write", json!(1))
//!     .invoke(1, "read", Value::Null)
//!     .ok(1, json!(1)) // 1 overlaps the write: fine
//!     .ok(0, json!(1))
//!     .invoke(2, "read", Value::Null)
//!     .ok(2, Value::Null); // after the write completed: stale
//! let history = h.build()?;
//!
//! let opts = CheckOptions {
//!     model: ModelKind::Register,
//!     time_limit: Some(Duration::from_secs(10)),
//!     memory_limit: 1 << 30,
//!     ..CheckOptions::default()
//! };
//! let report = check(&history, &opts)?;
//! match &report.verdict {
//!     Verdict::Invalid { counterexample } => {
//!         assert_eq!(counterexample.op.index, 5); // the stale read
//!         println!("{}", faultline_checker::render_text(&report));
//!     }
//!     other => panic!("expected invalid, got {other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The verdict is three-valued: `Valid`, `Invalid` with a Knossos-style [`Counterexample`], or
//! `Unknown` with the budget that ran out. Malformed input is an `Err`, never a verdict, and so
//! is a checker bug ([`CheckerBug`]: two searches disagreeing, a search panicking).
//! `examples/simulated_register.rs` records a simulated replicated register and checks it.
//!
//! # Layout
//!
//! - [`history`]: `Op`, `History`, JSONL read/write, Jepsen EDN import, well-formedness checks;
//!   `builder.rs`: [`HistoryBuilder`].
//! - [`Model`] (`model.rs`) and [`models`]: one file per sequential specification.
//! - `prep.rs`: pair invokes/completions, drop `fail`s and crashed reads, compile values (each
//!   distinct (f, value, result) once per key).
//! - `split.rs`: per-key sub-histories (P-compositionality) of a [`CompactHistory`]; `run.rs`
//!   checks them in parallel.
//! - `linear.rs` + `configs.rs`: the config-set walk (Knossos `linear`), exact or relaxed;
//!   `reduce.rs`: its partial-order reduction around crashed calls.
//! - `wgl.rs`: Wing & Gong / Lowe with a (bitset, state) memo (Porcupine).
//! - `equal.rs`: equal ops are interchangeable; both exact searches try one of each set.
//! - `compete.rs`: runs the contenders (race, or verify mode), catching panics.
//! - `decide.rs`: compares their answers into a verdict or a [`CheckerBug`] (`bug.rs`), and
//!   rebuilds evidence; `witness.rs` replays a search's linearization independently.
//! - `counterexample.rs`, `render.rs`: Knossos-style counterexamples and their text form.
//! - `budget.rs`: time / memory budgets and cancellation. [`synth`]: seeded history generator.
//! - [`txn`]: Elle-style transactional isolation checking (list-append, rw-register).
//!
//! # Strategy
//!
//! Per sub-history, three contenders race and the first definitive answer cancels the others:
//! the exact config-set walk (bounded by concurrency, not length; reads are linearized eagerly
//! and crashed calls are tracked as per-class usage counts with antichain dominance), WGL (fast
//! on valid histories, hopeless on large invalid ones) and a relaxed walk that lets crashed calls
//! happen any number of times (its `Invalid` is a proof; it stays small where crashed-call
//! bookkeeping explodes). Answers that did arrive are compared, and WGL's `Valid` is replayed;
//! in verify mode ([`CheckOptions::verify`], `FAULTLINE_VERIFY=1`) every contender runs to the
//! end and every pair is compared. Counterexamples come from the exact walk re-run with path
//! tracking, so they match Knossos (first `ok` op that cannot be linearized); when that cannot
//! finish within its cap the evidence of whichever contender proved invalidity is reported.

#![warn(missing_docs)]

mod budget;
mod bug;
mod builder;
mod compete;
mod configs;
mod counterexample;
mod decide;
mod equal;
pub mod history;
mod linear;
mod model;
pub mod models;
mod prep;
mod reduce;
mod render;
mod run;
mod split;
pub mod synth;
pub mod txn;
mod wgl;
mod witness;

pub use budget::{Budget, Stop};
pub use bug::{CheckerBug, Search};
pub use builder::HistoryBuilder;
pub use compete::Strategy;
pub use model::{render_value, Interner, Model};
pub use prep::{prepare, Call, Event, Problem};
pub use run::CheckStats;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::history::{CompactHistory, History, HistoryError, Key, Op};

/// Which sequential specification to check a history against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Read / write register.
    Register,
    /// Read / write / compare-and-set register.
    CasRegister,
    /// Knossos `:txn` micro-ops over several registers.
    MultiRegister,
    /// Acquire / release lock (owner not tracked, as in Knossos).
    Mutex,
    /// Add / read set.
    Set,
    /// Add / read counter.
    Counter,
    /// Enqueue / dequeue FIFO queue.
    FifoQueue,
    /// Keyed cas-register: split by key and checked per key.
    Kv,
}

impl ModelKind {
    /// Every model, with the name the CLI accepts.
    pub const ALL: [(&'static str, ModelKind); 8] = [
        ("register", ModelKind::Register),
        ("cas-register", ModelKind::CasRegister),
        ("multi-register", ModelKind::MultiRegister),
        ("mutex", ModelKind::Mutex),
        ("set", ModelKind::Set),
        ("counter", ModelKind::Counter),
        ("fifo-queue", ModelKind::FifoQueue),
        ("kv", ModelKind::Kv),
    ];

    /// The CLI name of this model.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, m)| *m == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

impl std::str::FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown model {s:?}; known models: {}; for transactions: list-append, \
                     rw-register",
                    names.join(", ")
                )
            })
    }
}

/// What to check and within which budgets.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOptions {
    /// The sequential specification.
    pub model: ModelKind,
    /// Initial value of registers (default `null` = absent).
    pub init: Value,
    /// Wall-clock budget for the whole check; `None` = unlimited.
    pub time_limit: Option<Duration>,
    /// Approximate memory budget for search state, in bytes: memo tables, configuration sets
    /// and the model states they hold (sets, queues, strings).
    pub memory_limit: usize,
    /// Run every search to completion and compare all their answers, instead of letting the
    /// first definite answer cancel the others. Slower; for tests and bug hunts. Also switched
    /// on by the environment variable `FAULTLINE_VERIFY=1`.
    pub verify: bool,
    /// Search thresholds; the defaults are what ships.
    pub tuning: Tuning,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            model: ModelKind::CasRegister,
            init: Value::Null,
            time_limit: None,
            memory_limit: 4 << 30,
            verify: false,
            tuning: Tuning::default(),
        }
    }
}

/// Size thresholds of the searches. Tests lower them so that paths which normally need large
/// histories (the race between searches, WGL's fingerprint memo) run on small ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// Sub-histories with fewer calls are checked by the exact walk alone (it answers them in
    /// microseconds); from this size on the searches race. Default 48.
    pub compete_min_calls: usize,
    /// WGL's memo stores exact linearized-set bitsets for sub-histories of up to this many
    /// calls, and only 128-bit fingerprints above (whose "no order" is then not a proof).
    /// Default 4096.
    pub wgl_exact_bits_max: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            compete_min_calls: 48,
            wgl_exact_bits_max: wgl::EXACT_BITS_MAX,
        }
    }
}

/// A three-valued verdict that carries its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Verdict {
    /// Linearizable.
    Valid,
    /// Not linearizable; the counterexample says why.
    Invalid {
        /// The evidence.
        counterexample: Box<Counterexample>,
    },
    /// A budget ran out before an answer was found.
    Unknown {
        /// Which budget, and how far the search got.
        reason: String,
    },
}

/// One step of a candidate order: an op applied to the model and the state (or error) after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathStep {
    /// The op (its completion when it has one; the invoke for crashed ops).
    pub op: Op,
    /// The model state after the op, rendered for humans; or the inconsistency message.
    pub state: String,
    /// False for the step where the model became inconsistent (always the last step).
    pub legal: bool,
}

/// Why a history is not linearizable (Knossos's analysis map, trimmed to a readable size).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counterexample {
    /// The key whose sub-history failed, for keyed histories.
    pub key: Option<Key>,
    /// The first `ok` completion that could not be linearized.
    pub op: Op,
    /// The last `ok` before it, if any.
    pub previous_ok: Option<Op>,
    /// Indices of the ops in the longest linearizable prefix found, in linearization order.
    pub longest_prefix: Vec<u64>,
    /// Model states reachable just before `op`, rendered for humans.
    pub states: Vec<String>,
    /// Candidate orders that fail (Knossos `:final-paths`), each ending in an illegal step.
    pub final_paths: Vec<Vec<PathStep>>,
}

/// The outcome of checking one key's sub-history (or the whole history when un-keyed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyResult {
    /// The key, `None` for un-keyed histories.
    pub key: Option<Key>,
    /// Ops (invokes) checked for this key.
    pub ops: usize,
    /// The verdict for this key.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// The result of a whole check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// The model checked against.
    pub model: ModelKind,
    /// Overall verdict: invalid if any key is invalid, else unknown if any is unknown, else valid.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Per-key results (one entry for un-keyed histories).
    pub keys: Vec<KeyResult>,
    /// Wall-clock time spent checking.
    pub elapsed_ms: u64,
}

/// Why a check gave no verdict: a history the checker cannot interpret under the chosen model
/// (bad input), or a checker bug (its searches contradicted each other). Never a verdict.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The history is not well formed (see [`history::validate`]).
    #[error(transparent)]
    History(#[from] HistoryError),
    /// An op's value does not fit the model.
    #[error("op {index}: {message}")]
    BadOp {
        /// History index of the offending op.
        index: u64,
        /// Its 1-based line in the file, when known.
        line: Option<u64>,
        /// What is wrong and what was expected.
        message: String,
    },
    /// The initial value does not fit the model (`--init`).
    #[error("--init: {message}")]
    BadInit {
        /// What is wrong and what was expected.
        message: String,
    },
    /// The checker contradicted itself: a bug to report, not a verdict.
    #[error(transparent)]
    Bug(Box<CheckerBug>),
}

impl CheckError {
    /// True for checker bugs (as opposed to bad input).
    pub fn is_bug(&self) -> bool {
        matches!(self, CheckError::Bug(_))
    }
}

impl From<CheckerBug> for CheckError {
    fn from(b: CheckerBug) -> Self {
        CheckError::Bug(Box::new(b))
    }
}

/// Check `history` for linearizability under `opts`.
///
/// The history is validated first (a malformed one is an error, never a verdict). Keyed
/// histories are split per key and the keys are checked in parallel (rayon). Budgets apply to
/// the whole check; a key whose search runs out of budget is `Unknown`, never `Valid`.
pub fn check(history: &History, opts: &CheckOptions) -> Result<CheckReport, CheckError> {
    run::check(history, opts, Strategy::Compete)
}

/// Like [`check`] on the compact form (what `faultline check` reads files into). The history
/// must have been validated ([`CompactHistory::validate`]).
pub fn check_compact(
    history: &CompactHistory,
    opts: &CheckOptions,
) -> Result<CheckReport, CheckError> {
    run::check_compact(history, opts, Strategy::Compete).map(|(r, _)| r)
}

/// Like [`check_compact`] with an explicit strategy, also returning measurements.
pub fn check_compact_measured(
    history: &CompactHistory,
    opts: &CheckOptions,
    strategy: Strategy,
) -> Result<(CheckReport, CheckStats), CheckError> {
    run::check_compact(history, opts, strategy)
}

/// Like [`check`] with an explicit search strategy (tests and benchmarks compare them).
pub fn check_with(
    history: &History,
    opts: &CheckOptions,
    strategy: Strategy,
) -> Result<CheckReport, CheckError> {
    run::check(history, opts, strategy)
}

/// Like [`check_with`], also returning measurements (peak accounted search memory).
pub fn check_measured(
    history: &History,
    opts: &CheckOptions,
    strategy: Strategy,
) -> Result<(CheckReport, CheckStats), CheckError> {
    run::check_measured(history, opts, strategy)
}

/// Render a report as readable text (verdict, per-key summary, counterexample).
pub fn render_text(report: &CheckReport) -> String {
    render::render_text(report)
}

#[cfg(test)]
mod tests;
