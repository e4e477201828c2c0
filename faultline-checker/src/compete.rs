//! Running the strategies on one (sub-)history and turning their answers into a `Verdict`.
//!
//! Phase 1 (the verdict): the exact config-set walk and WGL run in competition on the rayon pool,
//! and when the sub-history has crashed calls a third contender joins: the *relaxed* walk, which
//! lets crashed calls happen any number of times. It cannot prove validity, but its `Invalid` is
//! a proof (the real semantics allow fewer behaviours) and it stays small where crashed-call
//! bookkeeping makes the exact walk explode. Any definitive verdict cancels the other contenders.
//!
//! Phase 2 (the evidence, only for invalid histories): the exact walk is re-run with path tracking
//! to recover the Knossos counterexample (first `ok` op that cannot be linearized, prefix, final
//! paths), within the remaining budget but at most [`EVIDENCE_LIMIT`]. If it cannot finish, the
//! best evidence phase 1 produced is reported. Nothing here turns `Unknown` into `Valid`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::budget::{Budget, Stop};
use super::counterexample;
use super::linear::{Walk, WalkResult};
use super::model::Model;
use super::prep::{Event, Problem};
use super::wgl::{self, WglResult};
use super::{Counterexample, Verdict};
use crate::history::{CompactHistory, Key};

/// Below this many calls only the exact walk runs: it answers in microseconds.
const COMPETE_MIN_CALLS: usize = 48;
/// Time allowed to rebuild a detailed counterexample when the exact walk did not find the
/// violation itself (it was proven by WGL or the relaxed walk).
pub const EVIDENCE_LIMIT: Duration = Duration::from_secs(2);

/// Which search(es) to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// The walks and WGL in competition (the exact walk alone on tiny sub-histories). Default.
    #[default]
    Compete,
    /// Only the exact config-set walk.
    Walk,
    /// Only WGL (its counterexamples carry just the blocking op and the previous ok).
    Wgl,
}

/// Check one compiled sub-history.
pub fn check_problem<M: Model>(
    model: &M,
    problem: &Problem<M::Op>,
    history: &CompactHistory,
    key: Option<Key>,
    budget: &Budget,
    strategy: Strategy,
) -> Verdict {
    let done = AtomicBool::new(false);
    let finish = || done.store(true, Ordering::Relaxed);
    let exact = || {
        let mut walk = Walk::new(model, problem, false);
        let r = walk.run(budget, &done);
        if !matches!(r, WalkResult::Stopped(_)) {
            finish();
        }
        (r, walk)
    };
    let wgl_run = || {
        let r = wgl::search(model, problem, budget, &done);
        if matches!(
            r,
            WglResult::Valid | WglResult::Invalid { proven: true, .. }
        ) {
            finish();
        }
        r
    };
    let has_crashed = problem.calls.iter().any(|c| c.done.is_none());
    let relaxed = || {
        if !has_crashed {
            return None;
        }
        let mut walk = Walk::relaxed(model, problem);
        match walk.run(budget, &done) {
            WalkResult::Invalid(f) => {
                finish();
                Some(counterexample::build(&walk, &f, history, key.clone()))
            }
            _ => None,
        }
    };
    let not_run = || WglResult::Stopped(Stop::Cancelled);
    let ((walked, first_walk), wgl_result, relaxed_ce) = match strategy {
        Strategy::Walk => (exact(), not_run(), None),
        Strategy::Compete if problem.calls.len() < COMPETE_MIN_CALLS => (exact(), not_run(), None),
        Strategy::Compete => std::thread::scope(|scope| {
            // OS threads rather than rayon tasks: on a small pool a queued contender would only
            // start after the others gave up, which defeats the competition.
            let w = scope.spawn(wgl_run);
            let r = scope.spawn(relaxed);
            let a = exact();
            let b = w.join().unwrap_or(WglResult::Stopped(Stop::Cancelled));
            let c = r.join().unwrap_or(None);
            (a, b, c)
        }),
        Strategy::Wgl => {
            let no_walk = Walk::new(model, problem, false);
            (
                (WalkResult::Stopped(Stop::Cancelled), no_walk),
                wgl_run(),
                None,
            )
        }
    };
    let exact_found = matches!(walked, WalkResult::Invalid(_));
    let fallback = match (walked, wgl_result, relaxed_ce) {
        (WalkResult::Valid, _, _) | (_, WglResult::Valid, _) => return Verdict::Valid,
        (WalkResult::Invalid(fail), _, _) => {
            counterexample::build(&first_walk, &fail, history, key.clone())
        }
        (_, _, Some(ce)) => ce,
        (_, WglResult::Invalid { call, proven: true }, None) => {
            let c = &problem.calls[call as usize];
            counterexample::minimal(history, c.shown(), previous_ok(problem, call), key.clone())
        }
        (WalkResult::Stopped(a), b, None) => {
            let wgl = match b {
                WglResult::Stopped(b) => b.reason(budget.mem_limit),
                _ => "no order found, but fingerprint memo is not a proof".into(),
            };
            let reason = match a {
                Stop::Cancelled => wgl,
                a => format!(
                    "config-set walk: {}; WGL: {wgl}",
                    a.reason(budget.mem_limit)
                ),
            };
            return Verdict::Unknown { reason };
        }
    };
    let cap = (!exact_found).then_some(EVIDENCE_LIMIT);
    invalid(evidence(model, problem, history, key, budget, cap).unwrap_or(fallback))
}

/// Phase 2: the exact walk with path tracking, within a capped budget.
fn evidence<M: Model>(
    model: &M,
    problem: &Problem<M::Op>,
    history: &CompactHistory,
    key: Option<Key>,
    budget: &Budget,
    cap: Option<Duration>,
) -> Option<Counterexample> {
    let cap = cap.map(|c| Instant::now() + c);
    let deadline = match (budget.deadline(), cap) {
        (Some(d), Some(c)) => Some(d.min(c)),
        (d, c) => d.or(c),
    };
    let own = Budget::new(deadline, budget.mem_limit);
    let mut walk = Walk::new(model, problem, true);
    match walk.run(&own, &AtomicBool::new(false)) {
        WalkResult::Invalid(f) => Some(counterexample::build(&walk, &f, history, key)),
        _ => None,
    }
}

fn invalid(ce: Counterexample) -> Verdict {
    Verdict::Invalid {
        counterexample: Box::new(ce),
    }
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
