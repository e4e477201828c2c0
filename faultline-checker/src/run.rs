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
use super::prep::prepare_compact;
use super::split::{by_key, Group};
use super::{CheckError, CheckOptions, CheckReport, KeyResult, ModelKind, Verdict};
use crate::history::{CompactHistory, History, HistoryError, Process};

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

/// See [`super::check_measured`]: validates a compact copy of `history`, then checks it.
pub fn check_measured(
    history: &History,
    opts: &CheckOptions,
    strategy: Strategy,
) -> Result<(CheckReport, CheckStats), CheckError> {
    let start = Instant::now();
    let mut c = CompactHistory::from_history(history)?;
    c.validate()?;
    check_from(&c, opts, strategy, start)
}

/// See [`super::check_compact_measured`].
pub fn check_compact(
    history: &CompactHistory,
    opts: &CheckOptions,
    strategy: Strategy,
) -> Result<(CheckReport, CheckStats), CheckError> {
    if !history.is_validated() {
        return Err(HistoryError::Malformed {
            at: Default::default(),
            index: 0,
            message: "the history was not validated; call CompactHistory::validate before \
                      checking it"
                .into(),
        }
        .into());
    }
    check_from(history, opts, strategy, Instant::now())
}

fn check_from(
    history: &CompactHistory,
    opts: &CheckOptions,
    strategy: Strategy,
    start: Instant,
) -> Result<(CheckReport, CheckStats), CheckError> {
    let budget = Budget::new(opts.time_limit.map(|t| start + t), opts.memory_limit);
    let groups = by_key(history);
    let init = &opts.init;
    let bad_init = |message: String| CheckError::BadInit { message };
    let run = Run {
        history,
        groups: &groups,
        budget: &budget,
        cfg: SearchConfig {
            strategy,
            verify: opts.verify || verify_from_env(),
            tuning: opts.tuning,
        },
    };
    let keys = match opts.model {
        // Appends need string states; histories without them keep integer states.
        ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv if has_append(history) => {
            let cas = opts.model != ModelKind::Register;
            run.all(|| Ok(AppendRegister::new(init, cas)))
        }
        ModelKind::Register => run.all(|| Ok(Register::new(init))),
        ModelKind::CasRegister | ModelKind::Kv => run.all(|| Ok(CasRegister::new(init))),
        ModelKind::MultiRegister => run.all(|| MultiRegister::new(init).map_err(bad_init)),
        ModelKind::Mutex => run.all(|| Ok(Mutex)),
        ModelKind::Set => run.all(|| Set::new(init).map_err(bad_init)),
        ModelKind::Counter => run.all(|| Counter::new(init).map_err(bad_init)),
        ModelKind::FifoQueue => run.all(|| Ok(FifoQueue::default())),
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
fn has_append(history: &CompactHistory) -> bool {
    (0..history.len()).any(|p| history.f(p) == "append" && history.process(p) != Process::Nemesis)
}

/// True when `FAULTLINE_VERIFY` asks for verify mode (`1`, `true` or `yes`).
fn verify_from_env() -> bool {
    std::env::var("FAULTLINE_VERIFY")
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// One check's shared inputs.
struct Run<'a> {
    history: &'a CompactHistory,
    groups: &'a [Group],
    budget: &'a Budget,
    cfg: SearchConfig,
}

impl Run<'_> {
    /// Check every group with a fresh model from `make`: in parallel when there are several, in
    /// the calling thread when there is one (a single key never starts the thread pool).
    fn all<M, F>(&self, make: F) -> Result<Vec<KeyResult>, CheckError>
    where
        M: Model,
        F: Fn() -> Result<M, CheckError> + Sync,
    {
        let one = |g: &Group| self.one(g, make()?);
        match self.groups {
            [g] => Ok(vec![one(g)?]),
            groups => groups.par_iter().map(one).collect(),
        }
    }

    fn one<M: Model>(&self, g: &Group, mut model: M) -> Result<KeyResult, CheckError> {
        let h = self.history;
        let problem = prepare_compact(&mut model, h, &g.positions)?;
        let key = g.key.and_then(|k| h.key_of(k)).cloned();
        let verdict = check_problem(&model, &problem, h, key.clone(), self.budget, &self.cfg)?;
        Ok(KeyResult {
            key,
            ops: g.invokes,
            verdict,
        })
    }
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
