//! Shortest witness cycles of one anomaly class inside one strongly connected component: a
//! breadth-first search over (vertex, automaton state), where the automaton counts `rw` edges,
//! their adjacency, `wr` edges and process / real-time edges exactly as Elle classifies cycles.
//! Auxiliary real-time vertices cost nothing to pass through, so lengths count transactions.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use super::graph::{Local, Rel, PROCESS, REALTIME, RW, WR, WW};
use super::lattice::AnomalyType;

/// The data-dependency part of a cycle's class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base {
    /// Only ww edges.
    G0,
    /// ww and wr edges, at least one wr.
    G1c,
    /// Exactly one rw edge.
    Single,
    /// Two or more rw edges, no two adjacent.
    Nonadjacent,
    /// Two or more rw edges, some adjacent.
    G2Item,
}

/// Whether session or real-time order was needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Variant {
    /// Data dependencies only.
    Plain,
    /// At least one process edge (no real-time edge).
    Process,
    /// At least one real-time edge.
    Realtime,
}

/// A cycle anomaly class, e.g. `G-single-item-process`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Class {
    pub base: Base,
    pub variant: Variant,
}

/// Every class, in the order they are searched: most severe data dependencies first, then the
/// process variants, then the real-time ones.
pub(crate) const CLASSES: [Class; 15] = {
    use Base::*;
    use Variant::*;
    let b = [G0, G1c, Single, Nonadjacent, G2Item];
    let mut out = [Class {
        base: G0,
        variant: Plain,
    }; 15];
    let vs = [Plain, Process, Realtime];
    let mut i = 0;
    while i < 15 {
        out[i] = Class {
            base: b[i % 5],
            variant: vs[i / 5],
        };
        i += 1;
    }
    out
};

impl Class {
    /// Elle's name for the class.
    pub(crate) fn name(self) -> AnomalyType {
        let base = match self.base {
            Base::G0 => "G0",
            Base::G1c => "G1c",
            Base::Single => "G-single-item",
            Base::Nonadjacent => "G-nonadjacent-item",
            Base::G2Item => "G2-item",
        };
        let name: &'static str = match (base, self.variant) {
            (b, Variant::Plain) => b,
            ("G0", Variant::Process) => "G0-process",
            ("G1c", Variant::Process) => "G1c-process",
            ("G-single-item", Variant::Process) => "G-single-item-process",
            ("G-nonadjacent-item", Variant::Process) => "G-nonadjacent-item-process",
            (_, Variant::Process) => "G2-item-process",
            ("G0", _) => "G0-realtime",
            ("G1c", _) => "G1c-realtime",
            ("G-single-item", _) => "G-single-item-realtime",
            ("G-nonadjacent-item", _) => "G-nonadjacent-item-realtime",
            _ => "G2-item-realtime",
        };
        AnomalyType::known(name)
    }

    /// Relationships usable as non-rw edges.
    fn plain(self) -> Rel {
        let data = if self.base == Base::G0 { WW } else { WW | WR };
        data | match self.variant {
            Variant::Plain => 0,
            Variant::Process => PROCESS,
            Variant::Realtime => PROCESS | REALTIME,
        }
    }

    fn uses_rw(self) -> bool {
        matches!(self.base, Base::Single | Base::Nonadjacent | Base::G2Item)
    }

    /// The relationship every cycle of this class has, used to pick start vertices.
    fn special(self) -> Rel {
        match (self.variant, self.base) {
            (Variant::Process, _) => PROCESS,
            (Variant::Realtime, _) => REALTIME,
            (_, Base::G0) => WW,
            (_, Base::G1c) => WR,
            _ => RW,
        }
    }

    fn min_len(self) -> usize {
        if self.base == Base::Nonadjacent {
            4
        } else {
            2
        }
    }
}

/// One edge of a witness: from a transaction (local id) along `rel` to the next step's.
pub(crate) type Step = (u32, Rel);

/// The class of a simple cycle, as Elle names it; `None` for an empty cycle.
pub(crate) fn classify(steps: &[Step]) -> Option<Class> {
    let n = steps.len();
    if n == 0 {
        return None;
    }
    let count = |r: Rel| steps.iter().filter(|s| s.1 == r).count();
    let rw = count(RW);
    let adjacent = (0..n).any(|i| steps[i].1 == RW && steps[(i + 1) % n].1 == RW);
    let base = match rw {
        0 if count(WR) > 0 => Base::G1c,
        0 => Base::G0,
        1 => Base::Single,
        _ if adjacent => Base::G2Item,
        _ => Base::Nonadjacent,
    };
    let variant = if count(REALTIME) > 0 {
        Variant::Realtime
    } else if count(PROCESS) > 0 {
        Variant::Process
    } else {
        Variant::Plain
    };
    Some(Class { base, variant })
}

// Automaton state bits.
const RW_COUNT: u8 = 0b11;
const LAST_RW: u8 = 1 << 2;
const FIRST_RW: u8 = 1 << 3;
const ADJ: u8 = 1 << 4;
const SEEN_WR: u8 = 1 << 5;
const SEEN_VAR: u8 = 1 << 6;
const STARTED: u8 = 1 << 7;

fn step(c: Class, s: u8, r: Rel) -> Option<u8> {
    let first = s & STARTED == 0;
    let mut t = s | STARTED;
    if r == RW {
        let n = s & RW_COUNT;
        if !c.uses_rw() || (c.base == Base::Single && n >= 1) {
            return None;
        }
        if c.base == Base::Nonadjacent && s & LAST_RW != 0 {
            return None;
        }
        if s & LAST_RW != 0 {
            t |= ADJ;
        }
        t = (t & !RW_COUNT) | (n + 1).min(2) | LAST_RW;
        if first {
            t |= FIRST_RW;
        }
        return Some(t);
    }
    if r & c.plain() == 0 {
        return None;
    }
    t &= !LAST_RW;
    if r == WR {
        t |= SEEN_WR;
    }
    let var = match c.variant {
        Variant::Plain => 0,
        Variant::Process => PROCESS,
        Variant::Realtime => REALTIME,
    };
    if r == var {
        t |= SEEN_VAR;
    }
    Some(t)
}

fn accepts(c: Class, s: u8) -> bool {
    if c.variant != Variant::Plain && s & SEEN_VAR == 0 {
        return false;
    }
    let rw = s & RW_COUNT;
    let wrap_adjacent = s & LAST_RW != 0 && s & FIRST_RW != 0;
    match c.base {
        Base::G0 => true,
        Base::G1c => s & SEEN_WR != 0,
        Base::Single => rw == 1,
        Base::Nonadjacent => rw == 2 && !wrap_adjacent,
        Base::G2Item => rw == 2 && (s & ADJ != 0 || wrap_adjacent),
    }
}

/// Why a search ended without covering every start vertex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// The work limit (states expanded) was reached.
    Work,
    /// The caller's deadline or memory budget stopped it.
    Budget,
}

/// The outcome of a class search.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Simple cycles, shortest first; the first is of the searched class when any is. Others
    /// are simple cycles split off a closed walk that revisited a vertex (other classes).
    pub cycles: Vec<Vec<Step>>,
    /// Set when the search stopped early.
    pub cut: Option<Cut>,
}

/// Search `local` for a shortest cycle of class `c`, expanding at most `limit` states;
/// `keep_going` is polled now and then and stops the search when it returns false.
pub(crate) fn search(
    local: &Local,
    c: Class,
    limit: usize,
    keep_going: &mut dyn FnMut() -> bool,
) -> Found {
    let g = &local.g;
    let mut found = Found::default();
    let mut best: Option<Vec<Step>> = None;
    let mut work = 0usize;
    let mut bfs = Bfs::default();
    for s in 0..local.nodes.len() as u32 {
        if local.aux[s as usize] || !g.out(s).any(|(_, r)| r & c.special() != 0) {
            continue;
        }
        if work >= limit {
            found.cut = Some(Cut::Work);
            break;
        }
        if !keep_going() {
            found.cut = Some(Cut::Budget);
            break;
        }
        let Some(walk) = bfs.run(local, c, s, &mut work, limit) else {
            continue;
        };
        for cyc in split_simple(&walk) {
            let better = |b: &Vec<Step>| cyc.len() < b.len();
            if classify(&cyc) == Some(c) && best.as_ref().is_none_or(better) {
                best = Some(cyc);
            } else if classify(&cyc) != Some(c) {
                found.cycles.push(cyc);
            }
        }
        if best.as_ref().is_some_and(|b| b.len() <= c.min_len()) {
            break;
        }
    }
    if let Some(b) = best {
        found.cycles.insert(0, b);
    }
    found
}

#[derive(Default)]
struct Bfs {
    dist: FxHashMap<u64, (u32, u64, Rel)>,
    queue: VecDeque<(u64, u32)>,
}

fn key(v: u32, s: u8) -> u64 {
    ((v as u64) << 8) | s as u64
}

impl Bfs {
    /// Shortest closed walk from `start` back to `start` accepted for `c`, aux vertices collapsed.
    fn run(
        &mut self,
        local: &Local,
        c: Class,
        start: u32,
        work: &mut usize,
        limit: usize,
    ) -> Option<Vec<Step>> {
        const ROOT: u64 = u64::MAX;
        self.dist.clear();
        self.queue.clear();
        let k0 = key(start, 0);
        self.dist.insert(k0, (0, ROOT, 0));
        self.queue.push_back((k0, 0));
        while let Some((k, d)) = self.queue.pop_front() {
            if self.dist.get(&k).is_some_and(|e| e.0 < d) {
                continue;
            }
            *work += 1;
            if *work > limit {
                return None;
            }
            let (v, s) = ((k >> 8) as u32, k as u8);
            for (w, rels) in local.g.out(v) {
                let mut bits = rels;
                while bits != 0 {
                    let r = bits & bits.wrapping_neg();
                    bits &= bits - 1;
                    let Some(t) = step(c, s, r) else { continue };
                    if w == start {
                        if accepts(c, t) {
                            let mut walk = self.path(local, k, (v, r));
                            walk.reverse();
                            return Some(collapse(local, &walk));
                        }
                        continue;
                    }
                    let cost = u32::from(!local.aux[w as usize]);
                    let kw = key(w, t);
                    if self.dist.get(&kw).is_none_or(|e| e.0 > d + cost) {
                        self.dist.insert(kw, (d + cost, k, r));
                        if cost == 0 {
                            self.queue.push_front((kw, d));
                        } else {
                            self.queue.push_back((kw, d + 1));
                        }
                    }
                }
            }
        }
        None
    }

    /// The edges from the start to state `k`, then `last`, newest first.
    fn path(&self, _local: &Local, mut k: u64, last: (u32, Rel)) -> Vec<(u32, Rel)> {
        let mut out = vec![last];
        while let Some(&(_, parent, r)) = self.dist.get(&k) {
            if parent == u64::MAX {
                break;
            }
            out.push(((parent >> 8) as u32, r));
            k = parent;
        }
        out
    }
}

/// Replace every run `txn -realtime-> aux ... aux -> txn` by one real-time step.
fn collapse(local: &Local, walk: &[(u32, Rel)]) -> Vec<Step> {
    walk.iter()
        .filter(|(v, _)| !local.aux[*v as usize])
        .map(|&(v, r)| (v, r))
        .collect()
}

/// Split a closed walk into simple cycles (at repeated vertices), in order of discovery.
fn split_simple(walk: &[Step]) -> Vec<Vec<Step>> {
    let mut out = Vec::new();
    let mut stack: Vec<Step> = Vec::new();
    for &st in walk {
        if let Some(i) = stack.iter().position(|x| x.0 == st.0) {
            out.push(stack.split_off(i));
        }
        stack.push(st);
    }
    if !stack.is_empty() {
        out.push(stack);
    }
    out
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
