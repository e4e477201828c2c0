//! `faultline check`: flags and entry point.

use clap::Args;

use crate::exit::Outcome;

/// Flags of `faultline check`.
#[derive(Debug, Args)]
pub struct CheckArgs {}

/// Run `faultline check`.
pub fn run(_args: CheckArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`faultline check` is not built yet")
}
