//! What the run's history is checked against, decided by the workload: linearizability per key
//! against a sequential model, or transactional isolation against consistency models.

use crate::checker::txn::ConsistencyModel;
use crate::checker::ModelKind;
use crate::workload::TxnKind;

/// The check a run ends with.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckPlan {
    /// Linearizability (per key) against this sequential model.
    Linear(ModelKind),
    /// Transactional isolation.
    Txn {
        /// The micro-ops' data model (`list-append` or `rw-register`).
        kind: TxnKind,
        /// The consistency models the history must satisfy.
        consistency_models: Vec<ConsistencyModel>,
    },
}

/// The consistency model checked when a transaction workload names none.
pub const DEFAULT_CONSISTENCY_MODEL: &str = "strict-serializable";

impl CheckPlan {
    /// The model's name (`cas-register`, `list-append`, ...), as `results.json` shows it.
    pub fn name(&self) -> &'static str {
        match self {
            CheckPlan::Linear(m) => m.name(),
            CheckPlan::Txn { kind, .. } => kind.name(),
        }
    }

    /// Whether the workload runs transactions.
    pub fn is_txn(&self) -> bool {
        matches!(self, CheckPlan::Txn { .. })
    }
}
