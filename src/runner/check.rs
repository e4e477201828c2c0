//! The run's check: linearizability per key for single-key workloads, isolation for transaction
//! workloads, on a blocking thread (the checkers are synchronous); and the "not checked" report
//! an aborted or broken run stores instead.

use crate::checker::txn::{TxnOptions, TxnReport, TxnStats, TxnVerdict};
use crate::checker::{CheckOptions, CheckReport, ModelKind, Verdict};
use crate::history::History;
use crate::plan::{CheckPlan, Plan};
use crate::report::RunCheck;

use super::RunError;

/// The checker options of a transaction plan.
fn txn_options(plan: &Plan, check: &CheckPlan) -> Option<TxnOptions> {
    let CheckPlan::Txn {
        kind,
        consistency_models,
    } = check
    else {
        return None;
    };
    Some(TxnOptions {
        model: kind.checker_model(),
        consistency_models: consistency_models.clone(),
        time_limit: Some(plan.check_time_limit),
        ..TxnOptions::default()
    })
}

/// A report that says the history was not checked, and why (its verdict is unknown).
pub(super) fn unchecked(plan: &Plan, reason: &str) -> RunCheck {
    match (&plan.check, txn_options(plan, &plan.check)) {
        (CheckPlan::Linear(model), _) => RunCheck::Linear(CheckReport {
            model: *model,
            verdict: Verdict::Unknown {
                reason: reason.to_string(),
            },
            keys: vec![],
            elapsed_ms: 0,
        }),
        (CheckPlan::Txn { .. }, opts) => {
            let opts = opts.unwrap_or_default();
            RunCheck::Txn(Box::new(TxnReport {
                valid: TxnVerdict::Unknown,
                anomaly_types: vec![],
                not: vec![],
                also_not: vec![],
                anomalies: Default::default(),
                counts: Default::default(),
                unknown_reason: Some(reason.to_string()),
                model: opts.model,
                consistency_models: opts.consistency_models,
                stats: TxnStats::default(),
            }))
        }
    }
}

/// Check `history` as the plan says. A history the checker cannot interpret, or a checker bug,
/// is an error, never a verdict.
pub(super) async fn check(plan: &Plan, history: &History) -> Result<RunCheck, RunError> {
    let h = history.clone();
    let joined = match (&plan.check, txn_options(plan, &plan.check)) {
        (CheckPlan::Txn { .. }, Some(opts)) => {
            tokio::task::spawn_blocking(move || {
                crate::checker::txn::check(&h, &opts)
                    .map(RunCheck::from)
                    .map_err(|e| e.to_string())
            })
            .await
        }
        (check, _) => {
            let model = match check {
                CheckPlan::Linear(m) => *m,
                CheckPlan::Txn { .. } => ModelKind::Kv,
            };
            let opts = CheckOptions {
                model,
                time_limit: Some(plan.check_time_limit),
                ..Default::default()
            };
            tokio::task::spawn_blocking(move || {
                crate::checker::check(&h, &opts)
                    .map(RunCheck::from)
                    .map_err(|e| e.to_string())
            })
            .await
        }
    };
    joined
        .map_err(|e| RunError::Check(e.to_string()))
        .and_then(|r| r.map_err(RunError::Check))
}
