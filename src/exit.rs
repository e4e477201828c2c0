//! The exit-code contract shared by every subcommand (DESIGN.md, "Exit codes").

use std::process::ExitCode;

/// What a subcommand concluded. Harness errors are not an outcome: they are `Err` values that the
/// binary maps to [`Outcome::HARNESS_ERROR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The history is linearizable (or the command had nothing to judge and succeeded).
    Valid,
    /// A consistency violation was found.
    Invalid,
    /// The checker ran out of its time or memory budget.
    Unknown,
}

impl Outcome {
    /// Exit code for a harness error (bad input, a node would not start, ...).
    pub const HARNESS_ERROR: u8 = 3;

    /// The process exit code for this outcome: 0 valid, 1 invalid, 2 unknown.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Valid => 0,
            Outcome::Invalid => 1,
            Outcome::Unknown => 2,
        }
    }

    /// Convert into a process exit code.
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(self.code())
    }
}
