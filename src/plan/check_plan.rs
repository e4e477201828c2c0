//! What the run's history is checked against, decided by the workload: linearizability per key
//! against a sequential model, or transactional isolation against consistency models.

use std::path::Path;

use super::{flag, PlanError};
use crate::checker::txn::ConsistencyModel;
use crate::checker::ModelKind;
use crate::cluster::ClientKind;
use crate::workload::{TxnKind, WorkloadError, WorkloadKind, WorkloadSpec};

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
    /// The check `workload` (read from `path`) asks for on a cluster spoken to by `client`: an
    /// error when the client cannot run transactions or a consistency model is unknown.
    pub fn for_workload(
        workload: &WorkloadSpec,
        path: &Path,
        client: ClientKind,
    ) -> Result<CheckPlan, PlanError> {
        let shape = match workload.kind().map_err(|m| flag("workload", m))? {
            WorkloadKind::Single(m) => return Ok(CheckPlan::Linear(m)),
            WorkloadKind::Txn(shape) => shape,
        };
        if client == ClientKind::Zookeeper {
            return Err(flag(
                "workload",
                format!(
                    "{} runs transactions, which the zookeeper client does not; use a single-key \
                     workload (register, cas-register, kv) or an http-kv or etcd cluster",
                    path.display()
                ),
            ));
        }
        let names = workload
            .consistency_models
            .clone()
            .unwrap_or_else(|| vec![DEFAULT_CONSISTENCY_MODEL.to_string()]);
        let consistency_models = names
            .iter()
            .map(|n| {
                n.parse().map_err(|message| WorkloadError::Invalid {
                    path: path.display().to_string(),
                    field: "consistency_models",
                    message,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CheckPlan::Txn {
            kind: shape.kind,
            consistency_models,
        })
    }

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
