//! Command-line interface: clap structs, one file per subcommand. This is the only module that
//! imports clap; each subcommand turns its flags into domain types and calls the library.

mod bench;
mod check;
mod check_stats;
mod check_txn;
mod lab;
mod report;
mod test;

use clap::{Parser, Subcommand};

use crate::exit::Outcome;

pub use bench::BenchArgs;
pub use check::CheckArgs;
pub use lab::{LabAction, LabArgs};
pub use report::ReportArgs;
pub use test::TestArgs;

/// faultline: fault-injection testing with a linearizability checker.
#[derive(Debug, Parser)]
#[command(name = "faultline", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `faultline`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a cluster, run a workload under a nemesis, record and check the history.
    Test(TestArgs),
    /// Check a recorded history (JSONL or Jepsen EDN) for linearizability, or transactions for
    /// isolation anomalies (--model list-append|rw-register).
    Check(CheckArgs),
    /// Re-render the HTML report of a stored run.
    Report(ReportArgs),
    /// Run built-in benchmarks and print a table.
    Bench(BenchArgs),
    /// Namespaced sshd hosts on this machine for `test --hosts` (root): `lab up N`, `lab down`.
    Lab(LabArgs),
}

/// Run the parsed command line. `Err` means a harness error (exit code 3).
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Test(args) => test::run(args),
        Command::Check(args) => check::run(args),
        Command::Report(args) => report::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Lab(args) => lab::run(args),
    }
}
