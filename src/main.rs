//! `faultline`: the controller binary. Parses arguments, calls the library, maps the outcome to an
//! exit code (0 valid, 1 invalid, 2 unknown, 3 harness error).

use std::process::ExitCode;

use clap::Parser;
use faultline::cli::Cli;
use faultline::exit::Outcome;

fn main() -> ExitCode {
    // Started under the bundled node's name (see `cluster::resolve`): be that node.
    let argv0 = std::env::args_os().next().unwrap_or_default();
    if std::path::Path::new(&argv0).file_name() == Some(std::ffi::OsStr::new("faultline-raft")) {
        return faultline::raft::cli::main(std::env::args_os());
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap's own exit code for usage errors is 2, which means "unknown" here.
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(Outcome::HARNESS_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match faultline::cli::run(cli) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(Outcome::HARNESS_ERROR)
        }
    }
}
