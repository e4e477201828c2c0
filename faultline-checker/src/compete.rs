//! Running the searches ("contenders") on one compiled sub-history, each on its own thread.
//!
//! In a race (the default) the first definite answer cancels the others; answers of contenders
//! that finished anyway are kept so that [`crate::decide`] can compare them. In verify mode
//! nothing is cancelled: every contender runs to completion (or to its budget) and every pair of
//! answers is compared. A contender that panics is caught here and reported by name; it cancels
//! the others, since the check ends in an error anyway.
//!
//! Which contenders run: the exact config-set walk always (it answers tiny sub-histories in
//! microseconds, so below [`Tuning::compete_min_calls`] it runs alone); WGL; and, when the
//! sub-history has crashed calls, the relaxed walk, which lets crashed calls happen any number of
//! times (its `Invalid` is a proof, its `Valid` proves nothing). Verify mode runs all three.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{Builder, Scope, ScopedJoinHandle};

use super::budget::Budget;
use super::bug::panic_message;
use super::linear::{Walk, WalkResult};
use super::model::Model;
use super::prep::Problem;
use super::wgl::{self, WglResult};
use super::Tuning;

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
    /// Only the relaxed walk: answers `invalid` (a proof) or `unknown`, never `valid`.
    RelaxedWalk,
}

/// How to search one sub-history: the strategy, verify mode and the thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchConfig {
    /// Which searches run.
    pub strategy: Strategy,
    /// Run every contender to completion and compare all answers.
    pub verify: bool,
    /// Size thresholds.
    pub tuning: Tuning,
}

/// A contender's result, or the message of its panic.
pub type Ran<T> = Result<T, String>;

/// A walk's answer together with the walk (the counterexample builder reads its state).
pub type Walked<'a, M> = (WalkResult<<M as Model>::State>, Walk<'a, M>);

/// What each contender produced; `None` when it did not run.
pub struct Outcomes<'a, M: Model> {
    /// The exact config-set walk.
    pub walk: Option<Ran<Walked<'a, M>>>,
    /// WGL.
    pub wgl: Option<Ran<WglResult>>,
    /// The relaxed walk.
    pub relaxed: Option<Ran<Walked<'a, M>>>,
}

/// Run the contenders `cfg` asks for on `problem`.
pub fn run<'a, M: Model>(
    model: &'a M,
    problem: &'a Problem<M::Op>,
    budget: &Budget,
    cfg: &SearchConfig,
) -> Outcomes<'a, M> {
    let has_crashed = problem.calls.iter().any(|c| c.done.is_none());
    let small = problem.calls.len() < cfg.tuning.compete_min_calls;
    let (walk_on, wgl_on, relaxed_on) = match cfg.strategy {
        Strategy::Walk => (true, false, false),
        Strategy::Wgl => (false, true, false),
        Strategy::RelaxedWalk => (false, false, true),
        Strategy::Compete if cfg.verify => (true, true, true),
        Strategy::Compete if small => (true, false, false),
        Strategy::Compete => (true, true, has_crashed),
    };
    let cancel = AtomicBool::new(false);
    // A definite answer ends the race (never in verify mode, where every answer is compared).
    let finish = |definite: bool| {
        if definite && !cfg.verify {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let walk = || {
        guarded(&cancel, || {
            let mut w = Walk::new(model, problem, false);
            let r = w.run(budget, &cancel);
            finish(!matches!(r, WalkResult::Stopped(_)));
            (r, w)
        })
    };
    let wgl = || {
        guarded(&cancel, || {
            let bits = cfg.tuning.wgl_exact_bits_max;
            let r = wgl::search(model, problem, budget, &cancel, bits);
            finish(matches!(
                r,
                WglResult::Valid { .. } | WglResult::Invalid { proven: true, .. }
            ));
            r
        })
    };
    let relaxed = || {
        guarded(&cancel, || {
            let mut w = Walk::relaxed(model, problem);
            let r = w.run(budget, &cancel);
            finish(matches!(r, WalkResult::Invalid(_)));
            (r, w)
        })
    };
    if u8::from(walk_on) + u8::from(wgl_on) + u8::from(relaxed_on) <= 1 {
        return Outcomes {
            walk: walk_on.then(walk),
            wgl: wgl_on.then(wgl),
            relaxed: relaxed_on.then(relaxed),
        };
    }
    // OS threads rather than rayon tasks: on a small pool a queued contender would only start
    // after the others gave up, which defeats the competition.
    std::thread::scope(|s| {
        let wgl_thread = wgl_on.then(|| spawn(s, "faultline-wgl", wgl)).flatten();
        let relaxed_thread = relaxed_on
            .then(|| spawn(s, "faultline-relaxed", relaxed))
            .flatten();
        let walk = walk_on.then(walk);
        Outcomes {
            walk,
            wgl: wgl_thread.map(join),
            relaxed: relaxed_thread.map(join),
        }
    })
}

/// Run `f`, turning a panic into its message; a panic cancels the other contenders.
fn guarded<T>(cancel: &AtomicBool, f: impl FnOnce() -> T) -> Ran<T> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        cancel.store(true, Ordering::Relaxed);
        panic_message(payload.as_ref())
    })
}

/// Start a named contender thread; `None` if the OS refuses a thread (the contender then does not
/// run: fewer answers, never a wrong one).
fn spawn<'scope, 'env, T: Send + 'scope>(
    s: &'scope Scope<'scope, 'env>,
    name: &str,
    f: impl FnOnce() -> Ran<T> + Send + 'scope,
) -> Option<ScopedJoinHandle<'scope, Ran<T>>> {
    Builder::new().name(name.into()).spawn_scoped(s, f).ok()
}

/// Wait for a contender thread. Its panics are already caught inside; this covers the rest.
fn join<T>(h: ScopedJoinHandle<'_, Ran<T>>) -> Ran<T> {
    h.join()
        .unwrap_or_else(|payload| Err(panic_message(payload.as_ref())))
}
