//! `faultline test`: flags and entry point.

use clap::Args;

use crate::exit::Outcome;

/// Flags of `faultline test`.
#[derive(Debug, Args)]
pub struct TestArgs {}

/// Run `faultline test`.
pub fn run(_args: TestArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`faultline test` is not built yet")
}
