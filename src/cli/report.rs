//! `faultline report`: re-render `report.html` of a stored run from its `results.json` and
//! `history.jsonl`. Never re-runs the checker: the verdict comes from `results.json`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::exit::Outcome;
use crate::report::stored::{load_run, REPORT_HTML};
use crate::report::write_run_report;

/// Flags of `faultline report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results directory, e.g. `results/latest` or `results/<test>/<time>/`.
    #[arg(value_name = "RESULTS_DIR")]
    pub dir: PathBuf,
}

/// Run `faultline report`: prints the path of the written report. The outcome is the stored
/// verdict, so the exit code matches the original run (0 valid, 1 invalid, 2 unknown).
pub fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    if !args.dir.is_dir() {
        anyhow::bail!(
            "{}: not a directory; pass a results directory such as results/latest",
            args.dir.display()
        );
    }
    let stored = load_run(&args.dir)?;
    let out = args.dir.join(REPORT_HTML);
    write_run_report(&out, &stored.history, &stored.results)
        .with_context(|| format!("writing {}", out.display()))?;
    println!("{}", out.display());
    Ok(stored.results.check.outcome())
}
