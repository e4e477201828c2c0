//! `faultline report`: flags and entry point.

use clap::Args;

use crate::exit::Outcome;

/// Flags of `faultline report`.
#[derive(Debug, Args)]
pub struct ReportArgs {}

/// Run `faultline report`.
pub fn run(_args: ReportArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`faultline report` is not built yet")
}
