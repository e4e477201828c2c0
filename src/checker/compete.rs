//! Running the two strategies on one (sub-)history and turning their answers into a `Verdict`.
//!
//! The config-set walk and WGL run in competition on the rayon pool with separate cancel flags:
//! a definitive answer from the walk cancels WGL; a `Valid` from WGL cancels the walk. An `Invalid`
//! from WGL does not cancel the walk, because the walk yields the Knossos-style counterexample (the
//! first `ok` op that cannot be linearized); if the walk then runs out of budget, WGL's blocking op
//! is reported instead. After a walk finds a violation it is re-run with path tracking to recover
//! the longest prefix and the final paths. Nothing here turns `Unknown` into `Valid`.

use std::sync::atomic::{AtomicBool, Ordering};

use super::budget::{Budget, Stop};
use super::counterexample;
use super::linear::{Walk, WalkResult};
use super::model::Model;
use super::prep::{Event, Problem};
use super::wgl::{self, WglResult};
use super::{Counterexample, Verdict};
use crate::history::History;

/// Below this many calls WGL is not started: the walk alone answers in microseconds.
const COMPETE_MIN_CALLS: usize = 48;

/// Which search(es) to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// The walk and WGL in competition (the walk alone on tiny sub-histories). The default.
    #[default]
    Compete,
    /// Only the config-set walk.
    Walk,
    /// Only WGL (its counterexamples carry just the blocking op and the previous ok).
    Wgl,
}

/// Check one compiled sub-history.
pub fn check_problem<M: Model>(
    model: &M,
    problem: &Problem<M::Op>,
    history: &History,
    key: Option<String>,
    budget: &Budget,
    strategy: Strategy,
) -> Verdict {
    let cancel_walk = AtomicBool::new(false);
    let cancel_wgl = AtomicBool::new(false);
    let run_walk = || {
        let mut walk = Walk::new(model, problem, false);
        let r = walk.run(budget, &cancel_walk);
        if matches!(r, WalkResult::Valid | WalkResult::Invalid(_)) {
            cancel_wgl.store(true, Ordering::Relaxed);
        }
        (r, walk)
    };
    let run_wgl = || {
        let r = wgl::search(model, problem, budget, &cancel_wgl);
        if matches!(r, WglResult::Valid) {
            cancel_walk.store(true, Ordering::Relaxed);
        }
        r
    };
    let skipped = || WglResult::Stopped(Stop::Cancelled);
    let ((walked, first_walk), wgl_result) = match strategy {
        Strategy::Walk => (run_walk(), skipped()),
        Strategy::Compete if problem.calls.len() < COMPETE_MIN_CALLS => (run_walk(), skipped()),
        Strategy::Compete => rayon::join(run_walk, run_wgl),
        Strategy::Wgl => {
            let no_walk = Walk::new(model, problem, false);
            ((WalkResult::Stopped(Stop::Cancelled), no_walk), run_wgl())
        }
    };
    match (walked, wgl_result) {
        (WalkResult::Valid, _) | (_, WglResult::Valid) => Verdict::Valid,
        (WalkResult::Invalid(fail), _) => {
            // Re-run with paths for a richer counterexample; fall back to the untracked one.
            let never = AtomicBool::new(false);
            let mut walk = Walk::new(model, problem, true);
            let ce = match walk.run(budget, &never) {
                WalkResult::Invalid(f) => counterexample::build(&walk, &f, history, key),
                _ => counterexample::build(&first_walk, &fail, history, key),
            };
            invalid(ce)
        }
        (WalkResult::Stopped(_), WglResult::Invalid { call }) => {
            let c = &problem.calls[call as usize];
            let prev = previous_ok(problem, call);
            invalid(counterexample::minimal(history, c.shown(), prev, key))
        }
        (WalkResult::Stopped(a), WglResult::Stopped(b)) => {
            let stop = if a == Stop::Cancelled { b } else { a };
            Verdict::Unknown {
                reason: stop.reason(budget.mem_limit),
            }
        }
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
