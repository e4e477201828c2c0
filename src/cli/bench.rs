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
}

/// Run `faultline bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<Outcome> {
    let opts = BenchOptions {
        quick: args.quick,
        runs: args.runs,
    };
    let table = crate::bench::run(&args.suite, &opts)?;
    println!("{table}");
    Ok(Outcome::Valid)
}
