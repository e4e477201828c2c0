//! Equal ops are interchangeable (the [`Model`](super::model::Model) contract), and both exact
//! searches use it: among pending calls with equal ops only the one that returns first (crashed
//! calls last) is tried next. Swapping two equal calls in any order that works keeps every state
//! the same, and the earlier-returning call meets every real-time bound the other one does.

use std::hash::Hash;

use rustc_hash::FxHashMap;

use super::linear::Walk;
use super::model::Model;
use super::prep::Problem;

/// Per call, an id shared exactly by the calls with equal ops.
pub fn classes<O: Eq + Hash>(problem: &Problem<O>) -> Vec<u32> {
    let mut ids: FxHashMap<&O, u32> = FxHashMap::default();
    problem
        .calls
        .iter()
        .map(|c| {
            let next = ids.len() as u32;
            *ids.entry(&c.op).or_insert(next)
        })
        .collect()
}

/// The order in which equal calls must be tried: by return position, crashed calls last, ties by
/// call index.
pub fn rank<O>(problem: &Problem<O>, call: usize) -> (usize, usize) {
    (problem.calls[call].done.unwrap_or(usize::MAX), call)
}

/// The tags of the members of `pending` (call id, tag) that are *not* the first of their class to
/// return.
pub fn dominated<O, T: Copy>(
    problem: &Problem<O>,
    class: &[u32],
    pending: impl Iterator<Item = (usize, T)>,
) -> Vec<T> {
    let mut first: FxHashMap<u32, (usize, T)> = FxHashMap::default();
    let mut out = Vec::new();
    for (c, tag) in pending {
        match first.entry(class[c]) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert((c, tag));
            }
            std::collections::hash_map::Entry::Occupied(mut o) => {
                let (best, best_tag) = *o.get();
                if rank(problem, c) < rank(problem, best) {
                    out.push(best_tag);
                    o.insert((c, tag));
                } else {
                    out.push(tag);
                }
            }
        }
    }
    out
}

/// The config-set walk's use of equal ops: which open slots to skip.
impl<M: Model> Walk<'_, M> {
    /// Open slots (of `open`) whose call is not the first of its equal-op class to return
    /// (see the module docs).
    pub(crate) fn dominated(&self, open: u128) -> u128 {
        let pending = slots(open).map(|s| (self.slot_call[s as usize] as usize, s));
        dominated(self.problem, &self.op_class, pending)
            .into_iter()
            .fold(0u128, |mask, s| mask | 1 << s)
    }

    /// Whether an open slot of `open` holds a call of op class `class`.
    pub(crate) fn open_has_class(&self, open: u128, class: u32) -> bool {
        slots(open).any(|s| self.op_class[self.slot_call[s as usize] as usize] == class)
    }
}

/// The slot numbers set in `mask`, lowest first.
fn slots(mut mask: u128) -> impl Iterator<Item = u32> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let s = mask.trailing_zeros();
            mask &= mask - 1;
            s
        })
    })
}
