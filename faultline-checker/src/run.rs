//! The check driver: split by key, build one model per key, compile, search in parallel, and
//! combine the per-key verdicts (invalid beats unknown beats valid).

use std::time::Instant;

use rayon::prelude::*;

use super::budget::Budget;
use super::compete::{SearchConfig, Strategy};
use super::decide::check_problem;
use super::model::Model;
use super::models::{
    AppendRegister, CasRegister, Counter, FifoQueue, MultiRegister, Mutex, Register, Set,
};
use super::prep::prepare;
use super::split::{by_key, Group};
use super::{CheckError, CheckOptions, CheckReport, KeyResult, ModelKind, Verdict};
use crate::history::History;

/// Measurements of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckStats {
    /// Peak bytes of search state (memo tables, configuration sets) accounted at once.
    pub peak_bytes: usize,
}

/// See [`super::check_with`].
pub fn check(
    history: &History,
    opts: &CheckOptions,
    strategy: Strategy,
) -> Result<CheckReport, CheckError> {
    check_measured(history, opts, strategy).map(|(r, _)| r)
}

/// See [`super::check_measured`].
pub fn check_measured(
    history: &History,
    opts: &CheckOptions,
    strategy: Strategy,
) -> Result<(CheckReport, CheckStats), CheckError> {
    let start = Instant::now();
    let budget = Budget::new(opts.time_limit.map(|t| start + t), opts.memory_limit);
    let strategy = SearchConfig {
        strategy,
        verify: opts.verify || verify_from_env(),
        tuning: opts.tuning,
    };
    let groups = by_key(history);
    let init = &opts.init;
    let bad_init = |message: String| CheckError::BadInit { message };
    let keys = match opts.model {
        // Appends need string states; histories without them keep integer states.
        ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv if has_append(history) => {
            let cas = opts.model != ModelKind::Register;
            run_all(history, &groups, &budget, strategy, || {
                Ok(AppendRegister::new(init, cas))
            })
        }
        ModelKind::Register => run_all(history, &groups, &budget, strategy, || {
            Ok(Register::new(init))
        }),
        ModelKind::CasRegister | ModelKind::Kv => {
            run_all(history, &groups, &budget, strategy, || {
                Ok(CasRegister::new(init))
            })
        }
        ModelKind::MultiRegister => run_all(history, &groups, &budget, strategy, || {
            MultiRegister::new(init).map_err(bad_init)
        }),
        ModelKind::Mutex => run_all(history, &groups, &budget, strategy, || Ok(Mutex)),
        ModelKind::Set => run_all(history, &groups, &budget, strategy, || {
            Set::new(init).map_err(bad_init)
        }),
        ModelKind::Counter => run_all(history, &groups, &budget, strategy, || {
            Counter::new(init).map_err(bad_init)
        }),
        ModelKind::FifoQueue => run_all(history, &groups, &budget, strategy, || {
            Ok(FifoQueue::default())
        }),
    }?;
    let report = CheckReport {
        model: opts.model,
        verdict: combine(&keys),
        keys,
        elapsed_ms: start.elapsed().as_millis() as u64,
    };
    Ok((
        report,
        CheckStats {
            peak_bytes: budget.peak(),
        },
    ))
}

/// True if a client op of `history` is an `append`.
fn has_append(history: &History) -> bool {
    history
        .ops
        .iter()
        .any(|o| o.f == "append" && o.process != crate::history::Process::Nemesis)
}

/// True when `FAULTLINE_VERIFY` asks for verify mode (`1`, `true` or `yes`).
fn verify_from_env() -> bool {
    std::env::var("FAULTLINE_VERIFY")
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

fn run_all<M, F>(
    history: &History,
    groups: &[Group],
    budget: &Budget,
    cfg: SearchConfig,
    make: F,
) -> Result<Vec<KeyResult>, CheckError>
where
    M: Model,
    F: Fn() -> Result<M, CheckError> + Sync,
{
    groups
        .par_iter()
        .map(|g| {
            let mut model = make()?;
            let problem = prepare(&mut model, history, &g.positions)?;
            let verdict = check_problem(&model, &problem, history, g.key.clone(), budget, &cfg)?;
            Ok(KeyResult {
                key: g.key.clone(),
                ops: g.invokes(history),
                verdict,
            })
        })
        .collect()
}

/// Invalid if any key is invalid (the first one's counterexample), else unknown if any key is
/// unknown, else valid.
pub fn combine(keys: &[KeyResult]) -> Verdict {
    if let Some(k) = keys
        .iter()
        .find(|k| matches!(k.verdict, Verdict::Invalid { .. }))
    {
        return k.verdict.clone();
    }
    let unknown: Vec<&KeyResult> = keys
        .iter()
        .filter(|k| matches!(k.verdict, Verdict::Unknown { .. }))
        .collect();
    match unknown.first() {
        None => Verdict::Valid,
        Some(first) => {
            let Verdict::Unknown { reason } = &first.verdict else {
                return Verdict::Valid;
            };
            if keys.len() == 1 {
                Verdict::Unknown {
                    reason: reason.clone(),
                }
            } else {
                Verdict::Unknown {
                    reason: format!(
                        "{} of {} keys unknown; first: {reason}",
                        unknown.len(),
                        keys.len()
                    ),
                }
            }
        }
    }
}
