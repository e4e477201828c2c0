//! Building a [`Counterexample`] from a failed config-set walk: the failing op, the previous `ok`,
//! the states the model could be in, the longest linearizable prefix, and Knossos-style final
//! paths (from each configuration: permutations of subsets of the pending calls, then the failing
//! op, each path stopping at its first inconsistent step), trimmed to a readable size.

use std::collections::{BTreeSet, HashSet, VecDeque};

use super::configs::Cfg;
use super::linear::{Failure, Walk};
use super::model::Model;
use super::prep::Event;
use super::{Counterexample, PathStep};
use crate::history::{CompactHistory, Key};

/// At most this many final paths are kept (Jepsen trims to 10 as well).
pub const MAX_PATHS: usize = 10;
/// At most this many configurations are explored for final paths.
const MAX_CONFIGS: usize = 10;
/// At most this many distinct states are listed.
const MAX_STATES: usize = 20;
/// Model steps spent enumerating final paths, in total.
const STEP_BUDGET: usize = 20_000;

/// The counterexample for `fail`, found by `walk` over `history`.
pub fn build<M: Model>(
    walk: &Walk<'_, M>,
    fail: &Failure<M::State>,
    history: &CompactHistory,
    key: Option<Key>,
) -> Counterexample {
    let calls = &walk.problem.calls;
    let shown = |c: u32| history.op(calls[c as usize].shown());
    let previous_ok = walk.problem.events[..fail.event]
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Return(c) => Some(shown(*c)),
            Event::Invoke(_) => None,
        });
    let states: BTreeSet<String> = fail
        .configs
        .iter()
        .map(|c| walk.model.render_state(&c.state))
        .collect();

    // Prefer configurations that got furthest, then a stable order.
    let mut configs: Vec<(Vec<u32>, &Cfg<M::State>)> = fail
        .configs
        .iter()
        .map(|c| (walk.path_calls(c.path), c))
        .collect();
    configs.sort_by_cached_key(|(p, c)| {
        (
            std::cmp::Reverse(p.len()),
            walk.model.render_state(&c.state),
            p.clone(),
        )
    });
    let longest_prefix = configs
        .first()
        .map(|(p, _)| p.iter().map(|&c| shown(c).index).collect())
        .unwrap_or_default();

    let mut seen: HashSet<Vec<(u32, String)>> = HashSet::new();
    let mut final_paths = Vec::new();
    let mut steps = 0usize;
    for (path, cfg) in configs.iter().take(MAX_CONFIGS) {
        let start: Vec<(u32, String, bool)> = path
            .last()
            .map(|&c| vec![(c, walk.model.render_state(&cfg.state), true)])
            .unwrap_or_default();
        let pending = pending_calls(walk, fail, cfg);
        for p in final_paths_from(walk, cfg, &pending, fail.call, start, &mut steps) {
            let k: Vec<(u32, String)> = p.iter().map(|(c, s, _)| (*c, s.clone())).collect();
            if final_paths.len() < MAX_PATHS && seen.insert(k) {
                final_paths.push(
                    p.into_iter()
                        .map(|(c, state, legal)| PathStep {
                            op: shown(c),
                            state,
                            legal,
                        })
                        .collect(),
                );
            }
        }
        if final_paths.len() >= MAX_PATHS || steps >= STEP_BUDGET {
            break;
        }
    }
    Counterexample {
        key,
        op: shown(fail.call),
        previous_ok,
        longest_prefix,
        states: states.into_iter().take(MAX_STATES).collect(),
        final_paths,
    }
}

/// Calls that could still be linearized from `cfg`, except the failing one: open `ok` calls not
/// yet linearized, and one representative per crashed class with calls left.
fn pending_calls<M: Model>(
    walk: &Walk<'_, M>,
    fail: &Failure<M::State>,
    cfg: &Cfg<M::State>,
) -> Vec<u32> {
    let mut out = Vec::new();
    let mut open = fail.occupied & !cfg.lin & !(1u128 << fail.slot);
    while open != 0 {
        let s = open.trailing_zeros();
        open &= open - 1;
        out.push(fail.slot_call[s as usize]);
    }
    for (k, members) in walk.classes.members.iter().enumerate() {
        let used = walk.table.used(cfg.crash, k as u32) as usize;
        // Only crashed calls invoked before the failing return count.
        if let Some(&c) = members.get(used) {
            if walk.problem.calls[c as usize].invoke
                < walk.problem.calls[fail.call as usize].shown()
            {
                out.push(c);
            }
        }
    }
    out.sort_unstable();
    out.truncate(60);
    out
}

type Step = (u32, String, bool);

/// Breadth-first: shorter failing paths first.
fn final_paths_from<M: Model>(
    walk: &Walk<'_, M>,
    cfg: &Cfg<M::State>,
    pending: &[u32],
    target: u32,
    start: Vec<Step>,
    steps: &mut usize,
) -> Vec<Vec<Step>> {
    let mut out = Vec::new();
    let mut queue: VecDeque<(M::State, u64, Vec<Step>)> = VecDeque::new();
    queue.push_back((cfg.state.clone(), 0, start));
    while let Some((state, used, path)) = queue.pop_front() {
        let choices = pending
            .iter()
            .enumerate()
            .filter(|(i, _)| used & (1 << i) == 0)
            .map(|(i, &c)| (Some(i), c))
            .chain(std::iter::once((None, target)));
        for (i, call) in choices {
            if *steps >= STEP_BUDGET || out.len() >= MAX_PATHS {
                return out;
            }
            *steps += 1;
            let mut p = path.clone();
            match walk
                .model
                .step(&state, &walk.problem.calls[call as usize].op)
            {
                Err(msg) => {
                    p.push((call, msg, false));
                    out.push(p);
                }
                Ok(next) => {
                    if let Some(i) = i {
                        p.push((call, walk.model.render_state(&next), true));
                        queue.push_back((next, used | (1 << i), p));
                    }
                }
            }
        }
    }
    out
}

/// Used when no path was recorded: the failing op alone, with the previous ok (no paths).
pub fn minimal(
    history: &CompactHistory,
    op_pos: usize,
    prev_pos: Option<usize>,
    key: Option<Key>,
) -> Counterexample {
    Counterexample {
        key,
        op: history.op(op_pos),
        previous_ok: prev_pos.map(|p| history.op(p)),
        longest_prefix: Vec::new(),
        states: Vec::new(),
        final_paths: Vec::new(),
    }
}
