//! Configuration sets for the config-set walk: a configuration is (model state, which open `ok`
//! calls are already linearized, how many crashed calls of each kind were used).
//!
//! Crashed calls with equal compiled ops are interchangeable, so a configuration records only how
//! many of each class it used (interned in [`CrashTable`]). Using fewer crashed calls is never
//! worse (a crashed call may always be "never happened"), so among configurations with the same
//! state and linearized set only the minimal usage vectors are kept (an antichain): (s, L, u)
//! dominates (s, L, v) when u <= v componentwise.

use std::collections::hash_map::Entry;
use std::hash::Hash;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

/// No path recorded (path tracking off, or the empty path).
pub const NO_PATH: u32 = u32::MAX;

/// Interned crashed-call usage vectors; id 0 is "nothing used".
#[derive(Debug)]
pub struct CrashTable {
    vecs: Vec<Box<[u32]>>,
    ids: FxHashMap<Box<[u32]>, u32>,
    bumps: FxHashMap<(u32, u32), u32>,
}

impl Default for CrashTable {
    fn default() -> Self {
        let empty: Box<[u32]> = Box::new([]);
        let mut ids = FxHashMap::default();
        ids.insert(empty.clone(), 0);
        CrashTable {
            vecs: vec![empty],
            ids,
            bumps: FxHashMap::default(),
        }
    }
}

impl CrashTable {
    /// How many crashed calls of `class` usage `id` has used.
    pub fn used(&self, id: u32, class: u32) -> u32 {
        self.vecs[id as usize]
            .get(class as usize)
            .copied()
            .unwrap_or(0)
    }

    /// The usage vector `id` with one more call of `class` used.
    pub fn bump(&mut self, id: u32, class: u32) -> u32 {
        if let Some(&n) = self.bumps.get(&(id, class)) {
            return n;
        }
        let mut v = self.vecs[id as usize].to_vec();
        if v.len() <= class as usize {
            v.resize(class as usize + 1, 0);
        }
        v[class as usize] += 1;
        let v = v.into_boxed_slice();
        let n = match self.ids.get(&v) {
            Some(&n) => n,
            None => {
                let n = self.vecs.len() as u32;
                self.vecs.push(v.clone());
                self.ids.insert(v, n);
                n
            }
        };
        self.bumps.insert((id, class), n);
        n
    }

    /// True if usage `a` uses at most what `b` uses, class by class.
    pub fn le(&self, a: u32, b: u32) -> bool {
        if a == b || a == 0 {
            return true;
        }
        let (va, vb) = (&self.vecs[a as usize], &self.vecs[b as usize]);
        va.iter()
            .enumerate()
            .all(|(i, &x)| x <= vb.get(i).copied().unwrap_or(0))
    }

    /// Approximate bytes held.
    pub fn bytes(&self) -> usize {
        self.vecs.iter().map(|v| v.len() * 8 + 64).sum::<usize>() + self.bumps.len() * 24
    }
}

/// One configuration (flattened for iteration).
#[derive(Debug, Clone)]
pub struct Cfg<S> {
    /// Model state.
    pub state: S,
    /// Bit i set = the `ok` call in slot i is linearized.
    pub lin: u128,
    /// Crashed-call usage id in the [`CrashTable`].
    pub crash: u32,
    /// Linearization path (arena index) when tracking, else [`NO_PATH`].
    pub path: u32,
}

/// Crashed usages (with their paths) kept for one (state, linearized set).
type Antichain = SmallVec<[(u32, u32); 1]>;

/// A deduplicated set of configurations with antichain pruning on crashed usage.
#[derive(Debug)]
pub struct CfgSet<S: Hash + Eq> {
    map: FxHashMap<(S, u128), Antichain>,
    len: usize,
    /// Heap bytes owned by the distinct states held (as the model counts them).
    heap: usize,
}

impl<S: Hash + Eq + Clone> Default for CfgSet<S> {
    fn default() -> Self {
        CfgSet {
            map: FxHashMap::default(),
            len: 0,
            heap: 0,
        }
    }
}

impl<S: Hash + Eq + Clone> CfgSet<S> {
    /// Number of configurations.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Heap bytes owned by the states held ([`crate::Model::state_heap_bytes`]).
    pub fn heap(&self) -> usize {
        self.heap
    }

    /// True when no configuration is left.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Insert unless dominated; removes configurations the new one dominates. `path` is called
    /// only when the configuration is inserted; `heap` is the state's heap bytes, counted when
    /// the state is new to the set. Returns true if inserted.
    pub fn insert(
        &mut self,
        table: &CrashTable,
        (state, heap): (S, usize),
        lin: u128,
        crash: u32,
        path: impl FnOnce() -> u32,
    ) -> bool {
        let list = match self.map.entry((state, lin)) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                self.heap += heap;
                v.insert(Antichain::new())
            }
        };
        if list.iter().any(|&(c, _)| table.le(c, crash)) {
            return false;
        }
        let before = list.len();
        list.retain(|&mut (c, _)| !table.le(crash, c));
        self.len -= before - list.len();
        list.push((crash, path()));
        self.len += 1;
        true
    }

    /// All configurations, in a deterministic order for a given insertion sequence.
    pub fn iter(&self) -> impl Iterator<Item = Cfg<S>> + '_ {
        self.map.iter().flat_map(|((s, lin), list)| {
            list.iter().map(move |&(crash, path)| Cfg {
                state: s.clone(),
                lin: *lin,
                crash,
                path,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewer_crashed_calls_dominate() {
        let mut t = CrashTable::default();
        let a = t.bump(0, 2);
        let ab = t.bump(a, 0);
        assert!(t.le(a, ab) && !t.le(ab, a));
        let mut s: CfgSet<u32> = CfgSet::default();
        assert!(s.insert(&t, (1, 0), 0, ab, || NO_PATH));
        assert!(s.insert(&t, (1, 0), 0, a, || NO_PATH));
        assert_eq!(s.len(), 1);
        assert!(!s.insert(&t, (1, 0), 0, ab, || NO_PATH));
        assert!(s.insert(&t, (1, 0), 1, ab, || NO_PATH));
        assert_eq!(s.len(), 2);
    }
}
