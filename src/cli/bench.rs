//! `faultline bench`: flags and entry point.

use clap::Args;

use crate::exit::Outcome;

/// Flags of `faultline bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {}

/// Run `faultline bench`.
pub fn run(_args: BenchArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`faultline bench` is not built yet")
}
