//! `faultline bench SUITE`: run a built-in benchmark suite and print its table.

use clap::Args;

use crate::bench::BenchOptions;
use crate::exit::Outcome;

/// Flags of `faultline bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Which suite: checker, raft, bugs, throughput, zookeeper.
    pub suite: String,
    /// Smaller sizes and fewer runs (smoke test).
    #[arg(long)]
    pub quick: bool,
    /// Repetitions (seeds) per case, where the suite repeats.
    #[arg(long, default_value_t = 10)]
    pub runs: u32,
    /// bugs: find each seeded bug with the defaults (workload, nemesis, time limit), nothing
    /// tuned per bug.
    #[arg(long)]
    pub defaults: bool,
    /// bugs --defaults: each try is a series of up to N default runs, stopping at the first
    /// invalid one.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub test_count: u32,
}

/// Run `faultline bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<Outcome> {
    let opts = BenchOptions {
        quick: args.quick,
        runs: args.runs,
        defaults: args.defaults,
        test_count: args.test_count,
    };
    let table = crate::bench::run(&args.suite, &opts)?;
    println!("{table}");
    Ok(Outcome::Valid)
}
