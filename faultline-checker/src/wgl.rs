//! Wing & Gong / Lowe search with memoization of (linearized set, state), as in Porcupine.
//!
//! Calls and returns form a doubly linked list in real-time order. The search repeatedly tries to
//! linearize a call that is "minimal" (appears before the first pending return), lifting it out of
//! the list; when it meets the return of a call not yet linearized it backtracks. A memo of
//! (linearized bitset, state) pairs prunes configurations already explored. Crashed calls have no
//! return entry, so they may be linearized anywhere after their invoke or never: the search
//! succeeds as soon as no `ok` return is left.
//!
//! Two reductions keep it exact while cutting the branching:
//! - a legal read-only candidate (read, failed CAS) is taken without trying the others: it changes
//!   no state wherever it stands, so it can be moved to the front of any order that works;
//! - among candidates with equal ops only the one returning first (crashed calls last) is tried:
//!   swapping two equal calls keeps every state, and the earlier-returning one meets every
//!   real-time bound the other does.

use std::hash::{Hash, Hasher};
use std::sync::atomic::AtomicBool;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::{FxHashMap, FxHashSet};

use super::budget::{Budget, MemTicket, Stop, ACCOUNT_STEP};
use super::equal;
use super::model::Model;
use super::prep::{Event, Problem};

/// The result of a WGL search.
#[derive(Debug)]
pub enum WglResult {
    /// Every `ok` call linearized, in this order (call ids; crashed calls that never happened
    /// are absent). A witness anyone can replay.
    Valid {
        /// The linearization.
        order: Vec<u32>,
    },
    /// Not linearizable; `call` is the `ok` call whose return blocked the deepest attempt.
    Invalid {
        /// The blocking call.
        call: u32,
        /// False when the memo stored fingerprints (large histories): then a hash collision
        /// could in theory have pruned the one valid order, so this is not a proof.
        proven: bool,
    },
    /// A budget ran out.
    Stopped(Stop),
}

/// A memo entry: the linearized set as a 128-bit Zobrist fingerprint plus, for histories up to
/// `exact_bits_max` calls ([`EXACT_BITS_MAX`] by default), the exact bitset. Above that the bitset would make the memo the
/// memory hog that Porcupine is known for (n/8 bytes per entry), so only the fingerprint is kept.
struct MemoKey<S> {
    hash: u64,
    hash2: u64,
    bits: Box<[u64]>,
    state: S,
}

/// Default largest history (in calls) whose memo stores exact bitsets.
pub const EXACT_BITS_MAX: usize = 4096;

impl<S: Hash> Hash for MemoKey<S> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.hash.hash(h);
        self.state.hash(h);
    }
}
impl<S: Eq> PartialEq for MemoKey<S> {
    fn eq(&self, o: &Self) -> bool {
        self.hash == o.hash && self.hash2 == o.hash2 && self.state == o.state && self.bits == o.bits
    }
}
impl<S: Eq> Eq for MemoKey<S> {}

/// Per-call random words whose xor is the incremental hash of a linearized set: one independent
/// ChaCha8 stream per fingerprint half, so the two 64-bit halves are unrelated (a shared linear
/// generator would make them correlated, and the 128-bit fingerprint weaker than it looks).
fn zobrist(n: usize, stream: u64) -> Vec<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(ZOBRIST_SEED);
    rng.set_stream(stream);
    (0..n).map(|_| rng.next_u64()).collect()
}

/// Fixed so that runs are reproducible; the streams differ per half.
const ZOBRIST_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// Run WGL over `problem` within `budget`; the memo keeps exact bitsets for histories of up to
/// `exact_bits_max` calls and only fingerprints above.
pub fn search<M: Model>(
    model: &M,
    problem: &Problem<M::Op>,
    budget: &Budget,
    cancel: &AtomicBool,
    exact_bits_max: usize,
) -> WglResult {
    let n = problem.calls.len();
    // Entries: calls are 0..n, returns n..2n; HEAD = 2n, END = 2n+1.
    let (head, end) = (2 * n, 2 * n + 1);
    let mut next = vec![end; 2 * n + 2];
    let mut prev = vec![head; 2 * n + 2];
    let mut last = head;
    for ev in &problem.events {
        let e = match *ev {
            Event::Invoke(c) => c as usize,
            Event::Return(c) => n + c as usize,
        };
        next[last] = e;
        prev[e] = last;
        last = e;
    }
    next[last] = end;
    prev[end] = last;
    let has_return: Vec<bool> = problem.calls.iter().map(|c| c.done.is_some()).collect();

    // Equal ops are interchangeable: only the first of each class to return is tried.
    let class = equal::classes(problem);
    let read_only: Vec<bool> = problem
        .calls
        .iter()
        .map(|c| model.is_read_only(&c.op))
        .collect();
    let rank = |c: usize| equal::rank(problem, c);
    let mut first_of: FxHashMap<u32, usize> = FxHashMap::default();

    let z = zobrist(n, 1);
    let z2 = zobrist(n, 2);
    let exact = n <= exact_bits_max;
    let mut hash2 = 0u64;
    let words = n.div_ceil(64);
    let mut bits = vec![0u64; words];
    let mut hash = 0u64;
    let mut memo: FxHashSet<MemoKey<M::State>> = FxHashSet::default();
    let entry_bytes =
        if exact { words * 8 } else { 0 } + std::mem::size_of::<MemoKey<M::State>>() + 32;
    let mut ticket = MemTicket::new(budget);
    // Heap bytes owned by the states in the memo and on the stack (sets, queues, ...).
    let (mut memo_heap, mut stack_heap) = (0usize, 0usize);
    let mut state = model.init();
    let mut stack: Vec<Frame<M::State>> = Vec::new();
    let mut best = (0usize, u32::MAX);
    let mut entry = next[head];
    // At the start of a level: look for a forced step and rebuild `first_of`.
    let mut fresh = true;
    let mut iters = 0usize;
    let mut accounted = 0usize;
    loop {
        // Re-account periodically, and at once when heavy states (sets, queues) pile up.
        let bytes = memo.len() * entry_bytes + memo_heap + stack.len() * 64 + stack_heap;
        let check_now = iters.is_multiple_of(4096) || bytes > accounted + ACCOUNT_STEP;
        iters += 1;
        if check_now {
            accounted = bytes;
            ticket.set(bytes);
            if let Err(stop) = budget.check(cancel) {
                return WglResult::Stopped(stop);
            }
        }
        let mut fail = false;
        if fresh {
            fresh = false;
            // Candidates: the calls before the first pending return. A read-only candidate (a read,
            // a failed CAS) that fits the current state can be moved to the front of any order
            // that works (it changes no state wherever it stood), so it is taken without
            // branching. Ops that merely leave *this* state unchanged (a rewrite) do not qualify.
            if first_of_class(&mut first_of, &next, head, n, &class, rank) == end {
                let order = stack.iter().map(|f| f.call as u32).collect();
                return WglResult::Valid { order };
            }
            let forced = candidates(&next, head, n)
                .find(|&e| read_only[e] && model.try_step(&state, &problem.calls[e].op).is_some());
            entry = next[head];
            if let Some(c) = forced {
                let key = mark(c, &mut bits, &mut hash, &mut hash2, &z, &z2, exact, &state);
                if memo.insert(key) {
                    let heap = model.state_heap_bytes(&state);
                    memo_heap += heap;
                    stack_heap += heap;
                    stack.push(Frame {
                        call: c,
                        state: state.clone(),
                        forced: true,
                    });
                    lift(c, n, has_return[c], &mut next, &mut prev);
                    fresh = true;
                    continue;
                }
                // Seen before, and it failed then: so does every order from here.
                unmark(c, &mut bits, &mut hash, &mut hash2, &z, &z2);
                fail = true;
            }
        }
        if !fail && entry < n {
            let c = entry;
            if first_of.get(&class[c]) == Some(&c) {
                if let Some(s2) = model.try_step(&state, &problem.calls[c].op) {
                    let key = mark(c, &mut bits, &mut hash, &mut hash2, &z, &z2, exact, &s2);
                    if memo.insert(key) {
                        memo_heap += model.state_heap_bytes(&s2);
                        stack_heap += model.state_heap_bytes(&state);
                        stack.push(Frame {
                            call: c,
                            state: std::mem::replace(&mut state, s2),
                            forced: false,
                        });
                        lift(c, n, has_return[c], &mut next, &mut prev);
                        fresh = true;
                        continue;
                    }
                    unmark(c, &mut bits, &mut hash, &mut hash2, &z, &z2);
                }
            }
            entry = next[entry];
            continue;
        }
        // A pending return blocks (or a forced step failed): backtrack to the last real choice.
        if !fail && stack.len() >= best.0 {
            best = (stack.len(), (entry - n) as u32);
        }
        loop {
            let Some(f) = stack.pop() else {
                return WglResult::Invalid {
                    call: best.1,
                    proven: exact,
                };
            };
            stack_heap = stack_heap.saturating_sub(model.state_heap_bytes(&f.state));
            state = f.state;
            unmark(f.call, &mut bits, &mut hash, &mut hash2, &z, &z2);
            for e in [n + f.call, f.call] {
                if e == f.call || has_return[f.call] {
                    next[prev[e]] = e;
                    prev[next[e]] = e;
                }
            }
            if !f.forced {
                entry = next[f.call];
                break;
            }
        }
        // The level is restored as it was: rebuild its classes (it had no forced step).
        first_of_class(&mut first_of, &next, head, n, &class, rank);
    }
}

/// The calls before the first pending return (entries below `n` are calls).
fn candidates(next: &[usize], head: usize, n: usize) -> impl Iterator<Item = usize> + '_ {
    let mut e = next[head];
    std::iter::from_fn(move || {
        (e < n).then(|| {
            let c = e;
            e = next[e];
            c
        })
    })
}

/// For each op class among the candidates, the member to try: the one that returns first.
/// Returns the entry after the candidates (a pending return, or the end of the list).
fn first_of_class(
    first_of: &mut FxHashMap<u32, usize>,
    next: &[usize],
    head: usize,
    n: usize,
    class: &[u32],
    rank: impl Fn(usize) -> (usize, usize),
) -> usize {
    first_of.clear();
    let mut e = next[head];
    while e < n {
        first_of
            .entry(class[e])
            .and_modify(|b| {
                if rank(e) < rank(*b) {
                    *b = e
                }
            })
            .or_insert(e);
        e = next[e];
    }
    e
}

/// One linearized call on the search stack: the state before it, and whether it was forced
/// (then its failure fails the level below too).
struct Frame<S> {
    call: usize,
    state: S,
    forced: bool,
}

/// Add call `c` to the linearized set; the memo key for the resulting configuration.
#[allow(clippy::too_many_arguments)]
fn mark<S: Clone>(
    c: usize,
    bits: &mut [u64],
    hash: &mut u64,
    hash2: &mut u64,
    z: &[u64],
    z2: &[u64],
    exact: bool,
    state: &S,
) -> MemoKey<S> {
    bits[c / 64] |= 1 << (c % 64);
    *hash ^= z[c];
    *hash2 ^= z2[c];
    MemoKey {
        hash: *hash,
        hash2: *hash2,
        bits: if exact {
            bits.to_vec().into_boxed_slice()
        } else {
            Box::new([])
        },
        state: state.clone(),
    }
}

/// Remove call `c` from the linearized set.
fn unmark(c: usize, bits: &mut [u64], hash: &mut u64, hash2: &mut u64, z: &[u64], z2: &[u64]) {
    bits[c / 64] &= !(1 << (c % 64));
    *hash ^= z[c];
    *hash2 ^= z2[c];
}

/// Lift call `c` (and its return, if it has one) out of the linked list.
fn lift(c: usize, n: usize, has_return: bool, next: &mut [usize], prev: &mut [usize]) {
    for e in [c, n + c] {
        if e == c || has_return {
            next[prev[e]] = next[e];
            prev[next[e]] = prev[e];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zobrist_halves_are_independent_reproducible_streams() {
        let (a, b) = (zobrist(4096, 1), zobrist(4096, 2));
        assert_eq!(a, zobrist(4096, 1));
        let mut all: Vec<u64> = a.iter().chain(&b).copied().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(
            all.len(),
            8192,
            "no word repeats within or across the halves"
        );
    }
}
