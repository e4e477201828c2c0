//! Built-in benchmarks behind `faultline bench SUITE`: each suite runs real work and returns a
//! printable table. One file per suite, owned by the module it measures.

pub mod bugs;
pub mod bugs_defaults;
pub mod checker;
mod checker_files;
mod checker_txn;
mod harness_run;
pub mod raft;
pub mod throughput;
pub mod zookeeper;

/// Options shared by every suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchOptions {
    /// Smaller sizes and fewer runs, for smoke tests.
    pub quick: bool,
    /// Repetitions (seeds) per case, where a suite repeats.
    pub runs: u32,
    /// `bugs`: run with the defaults instead of the fault tuned for each bug.
    pub defaults: bool,
    /// `bugs --defaults`: runs per try (a try stops at its first invalid run), as
    /// `faultline test --test-count`.
    pub test_count: u32,
}

/// A benchmark could not run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BenchError(pub String);

/// The suites `faultline bench` knows, by name.
pub const SUITES: [&str; 5] = ["checker", "raft", "bugs", "throughput", "zookeeper"];

/// Run the suite called `name` and return its table.
pub fn run(name: &str, opts: &BenchOptions) -> Result<String, BenchError> {
    match name {
        "checker" => checker::run(opts),
        "raft" => raft::run(opts),
        "bugs" if opts.defaults => bugs_defaults::run(opts),
        "bugs" => bugs::run(opts),
        "throughput" => throughput::run(opts),
        "zookeeper" => zookeeper::run(opts),
        _ if opts.defaults => Err(BenchError(format!(
            "--defaults applies to the bugs suite only, not {name:?}"
        ))),
        _ => Err(BenchError(format!(
            "unknown bench suite {name:?}; suites: {}",
            SUITES.join(", ")
        ))),
    }
}
