//! The `results.json` schema: everything a tool (or `faultline report`) needs about a stored run.
//! Field-by-field reference with an example: README.md, "Results directory and `results.json`". Units: `*_ns` nanoseconds since
//! the test started, `*_us` microseconds, `*_s` seconds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::checker::CheckReport;
use crate::nemesis::coverage::Coverage;

/// Latency percentiles of one op kind, in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Ok completions measured.
    pub count: u64,
    /// Median latency (invoke to ok completion), microseconds.
    pub p50_us: u64,
    /// 95th percentile, microseconds.
    pub p95_us: u64,
    /// 99th percentile, microseconds.
    pub p99_us: u64,
    /// Maximum, microseconds.
    pub max_us: u64,
}

/// Counts of completed client ops by outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcomes {
    /// Took effect.
    pub ok: u64,
    /// Certainly did not take effect.
    pub fail: u64,
    /// Unknown (timeouts, lost connections, invokes that never completed).
    pub info: u64,
}

/// One fault the nemesis injected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRecord {
    /// The verb: `kill`, `pause`, `partition`, ...
    pub f: String,
    /// What it targeted, e.g. `[n1 n2] [n3 n4 n5]`.
    pub value: String,
    /// Start, nanoseconds since the test started.
    pub start_ns: i64,
    /// End (heal / resume / restart), nanoseconds since the test started; `None` (JSON `null`) if
    /// it had not ended when the run stopped (the harness still heals everything on exit).
    pub end_ns: Option<i64>,
}

/// The contents of `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    /// Test name (the directory under `results/`).
    pub name: String,
    /// UTC start time, RFC 3339.
    pub started_at: String,
    /// The seed that reproduces op generation and the fault schedule.
    pub seed: u64,
    /// A complete command line that reruns this test (same seed and configuration).
    pub rerun: String,
    /// Effective configuration as flat key/value pairs (cluster, workload, nemesis, nodes, clients,
    /// ...), the same values as `test.toml`. The HTML report groups processes by `clients`.
    pub config: BTreeMap<String, String>,
    /// Test duration in seconds (workload phase, excluding setup and checking).
    pub duration_s: f64,
    /// Completed client ops by outcome, per op kind (`read`, `write`, `cas`) and in total (`all`).
    pub outcomes: BTreeMap<String, Outcomes>,
    /// Latency per op kind and `all`, over ok completions.
    pub latency: BTreeMap<String, Latency>,
    /// Ok ops per second over the workload phase (`outcomes["all"].ok / duration_s`).
    pub throughput: f64,
    /// Faults injected, in order (also recorded as `nemesis` ops in `history.jsonl`).
    pub faults: Vec<FaultRecord>,
    /// The checker's result: overall verdict (flattened: `verdict` plus `counterexample` or
    /// `reason`), per-key verdicts and the counterexample. `faultline report` shows it as stored.
    pub check: CheckReport,
    /// Which faults hit which roles, and availability during each fault window (computed from
    /// the history's nemesis ops; empty for runs stored before it existed).
    #[serde(default)]
    pub coverage: Coverage,
    /// Set when the run ended early (Ctrl-C, harness error) and the history may be incomplete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted: Option<String>,
}
