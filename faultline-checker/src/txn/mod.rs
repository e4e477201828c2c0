//! Transactional consistency checking in the style of Elle (Kingsbury & Alvaro, VLDB 2020):
//! infer a dependency graph between transactions from list-append or read-write-register
//! micro-ops, find cycles and name them as Adya does, find the anomalies visible without cycles,
//! and say which consistency models the history rules out. Synchronous, no file I/O.
//!
//! ```
//! use faultline_checker::history::History;
//! use faultline_checker::txn::{check, TxnModel, TxnOptions, TxnVerdict};
//!
//! let jsonl = r#"{"process":0,"type":"invoke","f":"txn","value":[["append","x",1],["r","y",null]]}
//! {"process":0,"type":"ok","f":"txn","value":[["append","x",1],["r","y",[1]]]}
//! {"process":1,"type":"invoke","f":"txn","value":[["append","x",2],["append","y",1]]}
//! {"process":1,"type":"ok","f":"txn","value":[["append","x",2],["append","y",1]]}
//! {"process":2,"type":"invoke","f":"txn","value":[["r","x",null]]}
//! {"process":2,"type":"ok","f":"txn","value":[["r","x",[1,2]]]}"#;
//! let history = faultline_checker::history::read_jsonl(jsonl.as_bytes()).unwrap();
//! let opts = TxnOptions { model: TxnModel::ListAppend, ..TxnOptions::default() };
//! let report = check(&history, &opts).unwrap();
//! assert_eq!(report.valid, TxnVerdict::Invalid);
//! assert_eq!(report.anomaly_types[0].name(), "G1c");
//! ```
//!
//! # Layout
//!
//! - `txns.rs`: the compact form (transactions, micro-ops, shared lists); `atom.rs`: keys and
//!   values as interned atoms; `builder.rs` fills the compact form, enforcing the history rules;
//!   `from_history.rs` reads a [`History`], `jsonl.rs` (+ `jsonl_fields.rs`, `scan.rs`) reads
//!   JSONL bytes or a stream directly (the fast path).
//! - `append.rs` (+ `append_index.rs`, `append_checks.rs`, `append_explain.rs`): list-append.
//! - `register.rs` (+ `register_orders.rs`, `register_checks.rs`, `register_explain.rs`):
//!   rw-register.
//! - `ordering.rs`: process and real-time edges; `graph.rs`: the dependency graph;
//!   `scc.rs`: Tarjan; `search.rs`: shortest witness cycles per class; `cycles.rs`: the
//!   per-component analysis; `explain.rs`, `show.rs`: explanations.
//! - [`lattice`]: consistency models and anomalies (Elle's tables in `lattice_data.rs`).
//! - `report.rs`: [`TxnReport`]; `render.rs`: its text form; `run.rs`: the pipeline.
//! - [`generate`] (+ `generate_store.rs`): seeded histories from a simulated store, with
//!   injected anomalies; [`oracle`]: brute-force serializability for small histories (tests).

mod append;
mod append_checks;
mod append_explain;
mod append_index;
mod atom;
mod builder;
mod cycles;
mod explain;
mod from_history;
pub mod generate;
mod generate_store;
mod graph;
mod jsonl;
mod jsonl_fields;
pub mod lattice;
mod lattice_data;
pub mod oracle;
mod ordering;
mod register;
mod register_checks;
mod register_explain;
mod register_orders;
mod render;
mod report;
mod run;
mod scan;
mod scc;
mod search;
mod show;
mod txns;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::history::{History, HistoryError};

pub use lattice::{AnomalyType, ConsistencyModel};
pub use render::render_text;
pub use report::{CycleWitness, OpWitness, StepWitness, TxnReport, TxnStats, TxnVerdict, Witness};

/// The data model of the micro-ops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TxnModel {
    /// Lists: `["append", k, v]` and `["r", k, [v1, v2, ...]]`.
    ListAppend,
    /// Registers: `["w", k, v]` and `["r", k, v]`.
    RwRegister,
}

impl TxnModel {
    /// Both models with their CLI names.
    pub const ALL: [(&'static str, TxnModel); 2] = [
        ("list-append", TxnModel::ListAppend),
        ("rw-register", TxnModel::RwRegister),
    ];

    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            TxnModel::ListAppend => "list-append",
            TxnModel::RwRegister => "rw-register",
        }
    }
}

impl std::str::FromStr for TxnModel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                format!("unknown transaction model {s:?}; use list-append or rw-register")
            })
    }
}

/// What to check and within which budgets.
#[derive(Debug, Clone, PartialEq)]
pub struct TxnOptions {
    /// The data model of the micro-ops.
    pub model: TxnModel,
    /// Models the history must satisfy; every anomaly they forbid makes it invalid. Default:
    /// strict-serializable. May be empty when `anomalies` says what to look for.
    pub consistency_models: Vec<ConsistencyModel>,
    /// Further anomalies (or groups such as `G1`, `G2`) that make the history invalid.
    pub anomalies: Vec<AnomalyType>,
    /// rw-register: a transaction that read a key and then wrote it installed its write after
    /// the version it read (Elle's `:wfr-keys?`; sound for every model here). Default on.
    pub wfr_keys: bool,
    /// rw-register: assume each key is sequentially consistent (process order orders versions).
    pub sequential_keys: bool,
    /// rw-register: assume each key is linearizable (real-time order orders versions).
    pub linearizable_keys: bool,
    /// Wall-clock budget; past it the verdict is `unknown` (unless something forbidden was
    /// already found).
    pub time_limit: Option<Duration>,
    /// Approximate memory budget for the check's own structures, in bytes.
    pub memory_limit: usize,
    /// Witnesses kept per anomaly type (all are counted).
    pub max_witnesses: usize,
    /// Search states one witness search may expand in one component before it reports
    /// `cycle-search-timeout` (the verdict still stands: cycle existence is decided exactly).
    pub cycle_search_limit: usize,
}

impl Default for TxnOptions {
    fn default() -> Self {
        TxnOptions {
            model: TxnModel::ListAppend,
            consistency_models: vec![ConsistencyModel::strict_serializable()],
            anomalies: Vec::new(),
            wfr_keys: true,
            sequential_keys: false,
            linearizable_keys: false,
            time_limit: None,
            memory_limit: 4 << 30,
            max_witnesses: 8,
            cycle_search_limit: 2_000_000,
        }
    }
}

/// A history the transaction checker cannot interpret (bad input, never a verdict).
#[derive(Debug, thiserror::Error)]
pub enum TxnError {
    /// The bytes are not a well-formed history (JSONL fast path).
    #[error(transparent)]
    History(#[from] HistoryError),
    /// An op does not fit the transaction model.
    #[error("{}{message} (op index {index})", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    BadOp {
        /// History index of the offending op.
        index: u64,
        /// 1-based line, when the reader knows it.
        line: Option<u64>,
        /// What is wrong and what was expected.
        message: String,
    },
}

fn limits(opts: &TxnOptions, start: Instant) -> jsonl::Limits {
    jsonl::Limits {
        memory: opts.memory_limit,
        deadline: opts.time_limit.map(|d| start + d),
    }
}

/// Check a loaded history of transactions (`f = "txn"`) against `opts`.
pub fn check(history: &History, opts: &TxnOptions) -> Result<TxnReport, TxnError> {
    let start = Instant::now();
    let txns = from_history::from_history(history, opts.model)?;
    run::run(txns, opts, start)
}

/// Check a JSONL history given as bytes, without building a [`History`]: the fast path for
/// large files (keys and values are interned as they are read). Also checks the history rules
/// (indices, one op at a time per process); errors carry the line number.
pub fn check_jsonl(bytes: &[u8], opts: &TxnOptions) -> Result<TxnReport, TxnError> {
    let start = Instant::now();
    match jsonl::read(bytes, opts.model, limits(opts, start))? {
        jsonl::Parsed::Done(txns) => run::run(*txns, opts, start),
        jsonl::Parsed::OverBudget(reason) => Ok(run::over_budget(opts, reason, start)),
    }
}

/// Like [`check_jsonl`], reading the JSONL history from a stream (a file, standard input) a
/// few MiB at a time, so the file is never held in memory whole.
pub fn check_jsonl_read<R: std::io::Read>(
    reader: R,
    opts: &TxnOptions,
) -> Result<TxnReport, TxnError> {
    let start = Instant::now();
    match jsonl::read_stream(reader, opts.model, limits(opts, start))? {
        jsonl::Parsed::Done(txns) => run::run(*txns, opts, start),
        jsonl::Parsed::OverBudget(reason) => Ok(run::over_budget(opts, reason, start)),
    }
}

#[cfg(test)]
mod tests;
