//! Turning the contenders' answers into one `Verdict` — or into a [`CheckerBug`] when they
//! contradict each other. No answer ever silently overrides another.
//!
//! 1. A contender that panicked is a bug. WGL's `valid` comes with an order, which is replayed
//!    independently ([`witness`](super::witness)); an order that does not replay is a bug.
//! 2. Every `valid` (exact walk, WGL) is compared with every `invalid` (exact walk, relaxed walk,
//!    WGL, including WGL's fingerprint-memo answer): both present is a bug.
//! 3. Evidence, only for invalid histories: the exact walk is re-run with path tracking to recover
//!    the Knossos counterexample, within the remaining budget but at most [`EVIDENCE_LIMIT`] when
//!    another search proved the violation. It is one more independent answer: if it finds a
//!    linearization, that is a bug too. If it cannot finish, the best evidence of phase 1 is
//!    reported.
//!
//! Nothing here turns `Unknown` into `Valid`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::budget::{Budget, Stop};
use super::bug::{panic_message, CheckerBug, Search};
use super::compete::{self, Outcomes, SearchConfig};
use super::counterexample;
use super::linear::{Walk, WalkResult};
use super::model::Model;
use super::prep::{Event, Problem};
use super::wgl::WglResult;
use super::witness;
use super::{Counterexample, Verdict};
use crate::history::{CompactHistory, Key};

/// Time allowed to rebuild a detailed counterexample when the exact walk did not find the
/// violation itself (it was proven by WGL or the relaxed walk).
pub const EVIDENCE_LIMIT: Duration = Duration::from_secs(2);

/// Check one compiled sub-history.
pub fn check_problem<M: Model>(
    model: &M,
    problem: &Problem<M::Op>,
    history: &CompactHistory,
    key: Option<Key>,
    budget: &Budget,
    cfg: &SearchConfig,
) -> Result<Verdict, CheckerBug> {
    let out = compete::run(model, problem, budget, cfg);
    decide(model, problem, history, key, budget, out)
}

/// A definite `invalid` claim: who made it, which op it could not linearize, and whether it is
/// a proof (WGL's fingerprint memo is not).
struct Invalid {
    by: Search,
    op: u64,
    proven: bool,
}

fn decide<M: Model>(
    model: &M,
    problem: &Problem<M::Op>,
    history: &CompactHistory,
    key: Option<Key>,
    budget: &Budget,
    out: Outcomes<'_, M>,
) -> Result<Verdict, CheckerBug> {
    let panicked = |search: Search, message: &String| CheckerBug::Panicked {
        key: key.clone(),
        search,
        message: message.clone(),
    };
    let walk = out
        .walk
        .transpose()
        .map_err(|m| panicked(Search::Walk, &m))?;
    let wgl = out.wgl.transpose().map_err(|m| panicked(Search::Wgl, &m))?;
    let relaxed = out
        .relaxed
        .transpose()
        .map_err(|m| panicked(Search::RelaxedWalk, &m))?;
    if let Some(WglResult::Valid { order }) = &wgl {
        witness::replay(model, problem, history, order).map_err(|message| {
            CheckerBug::BadWitness {
                key: key.clone(),
                search: Search::Wgl,
                message,
            }
        })?;
    }

    let op = |call: u32| op_index(problem, history, call);
    let valid = match (&walk, &wgl) {
        (Some((WalkResult::Valid, _)), _) => Some(Search::Walk),
        (_, Some(WglResult::Valid { .. })) => Some(Search::Wgl),
        _ => None,
    };
    let claim = |by, op, proven| Some(Invalid { by, op, proven });
    let invalid = match (&walk, &relaxed, &wgl) {
        (Some((WalkResult::Invalid(f), _)), _, _) => claim(Search::Walk, op(f.call), true),
        (_, Some((WalkResult::Invalid(f), _)), _) => claim(Search::RelaxedWalk, op(f.call), true),
        (_, _, Some(WglResult::Invalid { call, proven })) => claim(Search::Wgl, op(*call), *proven),
        _ => None,
    };
    match (valid, invalid) {
        (Some(valid), Some(i)) => Err(CheckerBug::Disagreement {
            key,
            valid,
            invalid: i.by,
            op: i.op,
            proven: i.proven,
        }),
        (Some(_), None) => Ok(Verdict::Valid),
        (None, Some(i)) if i.proven => {
            let fallback = match (&walk, &relaxed, &wgl) {
                (Some((WalkResult::Invalid(f), w)), _, _)
                | (_, Some((WalkResult::Invalid(f), w)), _) => {
                    Some(counterexample::build(w, f, history, key.clone()))
                }
                (_, _, Some(WglResult::Invalid { call, .. })) => {
                    problem.calls.get(*call as usize).map(|c| {
                        let prev = previous_ok(problem, *call);
                        counterexample::minimal(history, c.shown(), prev, key.clone())
                    })
                }
                _ => None,
            };
            let cap = (i.by != Search::Walk).then_some(EVIDENCE_LIMIT);
            let ce = evidence(model, problem, history, &key, budget, cap, &i)?;
            Ok(match ce.or(fallback) {
                Some(ce) => invalid_verdict(ce),
                None => Verdict::Unknown {
                    reason: format!("{} found no order but left no evidence", i.by),
                },
            })
        }
        (None, _) => Ok(Verdict::Unknown {
            reason: unknown_reason(&walk, &wgl, &relaxed, budget.mem_limit),
        }),
    }
}

/// Phase 2: the exact walk with path tracking, within a capped budget. `Ok(None)` when it ran
/// out of budget; a linearization or a panic is a bug.
fn evidence<M: Model>(
    model: &M,
    problem: &Problem<M::Op>,
    history: &CompactHistory,
    key: &Option<Key>,
    budget: &Budget,
    cap: Option<Duration>,
    claim: &Invalid,
) -> Result<Option<Counterexample>, CheckerBug> {
    let cap = cap.map(|c| Instant::now() + c);
    let deadline = match (budget.deadline(), cap) {
        (Some(d), Some(c)) => Some(d.min(c)),
        (d, c) => d.or(c),
    };
    let own = Budget::new(deadline, budget.mem_limit);
    let run = catch_unwind(AssertUnwindSafe(|| {
        let mut walk = Walk::new(model, problem, true);
        match walk.run(&own, &AtomicBool::new(false)) {
            WalkResult::Invalid(f) => {
                Some(Some(counterexample::build(&walk, &f, history, key.clone())))
            }
            WalkResult::Valid => None,
            WalkResult::Stopped(_) => Some(None),
        }
    }));
    match run {
        Ok(Some(ce)) => Ok(ce),
        Ok(None) => Err(CheckerBug::Disagreement {
            key: key.clone(),
            valid: Search::EvidenceWalk,
            invalid: claim.by,
            op: claim.op,
            proven: claim.proven,
        }),
        Err(payload) => Err(CheckerBug::Panicked {
            key: key.clone(),
            search: Search::EvidenceWalk,
            message: panic_message(payload.as_ref()),
        }),
    }
}

/// Why no contender answered: each one's reason, or the one reason they share.
fn unknown_reason<M: Model>(
    walk: &Option<compete::Walked<'_, M>>,
    wgl: &Option<WglResult>,
    relaxed: &Option<compete::Walked<'_, M>>,
    mem_limit: usize,
) -> String {
    let stopped = |r: &WalkResult<M::State>| match r {
        WalkResult::Stopped(s) => Some(s.clone()),
        _ => None,
    };
    let mut parts: Vec<(&str, String)> = Vec::new();
    let mut cancelled = 0;
    let mut add = |name, stop: Option<Stop>, other: Option<String>| match (stop, other) {
        (Some(Stop::Cancelled), _) => cancelled += 1,
        (Some(s), _) => parts.push((name, s.reason(mem_limit))),
        (None, Some(o)) => parts.push((name, o)),
        (None, None) => {}
    };
    if let Some((r, _)) = walk {
        add("config-set walk", stopped(r), None);
    }
    match wgl {
        Some(WglResult::Stopped(s)) => add("WGL", Some(s.clone()), None),
        Some(WglResult::Invalid { proven: false, .. }) => add(
            "WGL",
            None,
            Some("no order found, but its fingerprint memo is not a proof".into()),
        ),
        _ => {}
    }
    if let Some((r, _)) = relaxed {
        let valid = matches!(r, WalkResult::Valid);
        let note = valid.then(|| "found an order, which proves nothing".to_string());
        add("relaxed walk", stopped(r), note);
    }
    let mut reasons: Vec<&String> = parts.iter().map(|(_, r)| r).collect();
    reasons.dedup();
    match (reasons.as_slice(), cancelled) {
        ([], _) => Stop::Cancelled.reason(mem_limit),
        ([one], _) if parts.len() > 1 || parts[0].0 != "relaxed walk" => (*one).clone(),
        _ => parts
            .iter()
            .map(|(n, r)| format!("{n}: {r}"))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn invalid_verdict(ce: Counterexample) -> Verdict {
    Verdict::Invalid {
        counterexample: Box::new(ce),
    }
}

/// History index of the op that shows call `call` (`u64::MAX` if there is no such call).
fn op_index<O>(problem: &Problem<O>, history: &CompactHistory, call: u32) -> u64 {
    problem
        .calls
        .get(call as usize)
        .map(|c| c.shown())
        .filter(|&p| p < history.len())
        .map_or(u64::MAX, |p| history.index(p))
}

/// Position of the last `ok` completion returned before call `call` returns.
fn previous_ok<O>(problem: &Problem<O>, call: u32) -> Option<usize> {
    let at = problem
        .events
        .iter()
        .position(|e| *e == Event::Return(call))?;
    problem.events[..at].iter().rev().find_map(|e| match e {
        Event::Return(c) => problem.calls[*c as usize].done,
        Event::Invoke(_) => None,
    })
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
