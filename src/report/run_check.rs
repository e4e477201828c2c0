//! The checker's result as a run stores it (`results.json` → `check`): linearizability per key
//! for single-key workloads ([`CheckReport`]), or isolation for transaction workloads
//! ([`TxnReport`]: `valid`, `anomaly_types`, `not`, `also_not`, witnesses). The JSON is the
//! checker's own report either way; a reader tells them apart by `valid` (transactions) or
//! `verdict` (linearizability).

use serde::{Deserialize, Serialize};

use crate::checker::txn::{TxnReport, TxnVerdict, Witness};
use crate::checker::{CheckReport, Verdict};
use crate::exit::Outcome;

/// What a run's history was checked for, and the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RunCheck {
    /// Transactions: Elle-style isolation checking.
    Txn(Box<TxnReport>),
    /// Single keys: linearizability.
    Linear(CheckReport),
}

impl From<CheckReport> for RunCheck {
    fn from(r: CheckReport) -> Self {
        RunCheck::Linear(r)
    }
}

impl From<TxnReport> for RunCheck {
    fn from(r: TxnReport) -> Self {
        RunCheck::Txn(Box::new(r))
    }
}

impl RunCheck {
    /// The verdict as an exit outcome (0 valid, 1 invalid, 2 unknown).
    pub fn outcome(&self) -> Outcome {
        match self {
            RunCheck::Linear(r) => match r.verdict {
                Verdict::Valid => Outcome::Valid,
                Verdict::Invalid { .. } => Outcome::Invalid,
                Verdict::Unknown { .. } => Outcome::Unknown,
            },
            RunCheck::Txn(r) => match r.valid {
                TxnVerdict::Valid => Outcome::Valid,
                TxnVerdict::Invalid => Outcome::Invalid,
                TxnVerdict::Unknown => Outcome::Unknown,
            },
        }
    }

    /// The verdict in one word: `VALID`, `INVALID` or `UNKNOWN`.
    pub fn verdict_word(&self) -> &'static str {
        match self.outcome() {
            Outcome::Valid => "VALID",
            Outcome::Invalid => "INVALID",
            _ => "UNKNOWN",
        }
    }

    /// Whether a violation was found.
    pub fn is_invalid(&self) -> bool {
        self.outcome() == Outcome::Invalid
    }

    /// The model checked against (`cas-register`, `list-append`, ...).
    pub fn model_name(&self) -> &'static str {
        match self {
            RunCheck::Linear(r) => r.model.name(),
            RunCheck::Txn(r) => r.model.name(),
        }
    }

    /// Wall-clock time the check took.
    pub fn elapsed_ms(&self) -> u64 {
        match self {
            RunCheck::Linear(r) => r.elapsed_ms,
            RunCheck::Txn(r) => r.stats.elapsed_ms,
        }
    }

    /// The linearizability report, for single-key runs.
    pub fn linear(&self) -> Option<&CheckReport> {
        match self {
            RunCheck::Linear(r) => Some(r),
            RunCheck::Txn(_) => None,
        }
    }

    /// The isolation report, for transaction runs.
    pub fn txn(&self) -> Option<&TxnReport> {
        match self {
            RunCheck::Txn(r) => Some(r),
            RunCheck::Linear(_) => None,
        }
    }

    /// When (nanoseconds into the run) the evidence of an invalid verdict was complete: the
    /// failing op of a linearizability counterexample; for transactions, the earliest witness,
    /// timed by the last of its operations to complete. `None` when valid or untimed.
    pub fn violation_at_ns(&self) -> Option<i64> {
        match self {
            RunCheck::Linear(r) => match &r.verdict {
                Verdict::Invalid { counterexample } => counterexample.op.time,
                _ => None,
            },
            RunCheck::Txn(r) if r.valid == TxnVerdict::Invalid => r
                .anomalies
                .values()
                .flatten()
                .filter_map(witness_complete_at)
                .min(),
            RunCheck::Txn(_) => None,
        }
    }
}

/// The completion time of the last operation a witness names.
fn witness_complete_at(w: &Witness) -> Option<i64> {
    let times: Vec<Option<i64>> = match w {
        Witness::Cycle(c) => c.cycle.iter().map(|o| o.time).collect(),
        Witness::Op(o) => std::iter::once(o.op.time)
            .chain(o.writer.iter().map(|w| w.time))
            .collect(),
        Witness::DirtyUpdate { txns, .. } | Witness::LostUpdate { txns, .. } => {
            txns.iter().map(|o| o.time).collect()
        }
        _ => return None,
    };
    times
        .into_iter()
        .collect::<Option<Vec<i64>>>()?
        .into_iter()
        .max()
}
