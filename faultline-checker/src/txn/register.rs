//! Read-write register inference (Elle's `elle.rw-register`). Writes are unique per key, so a
//! read names its writer exactly: `wr` edges are proven. Version orders are not visible in
//! reads; they are inferred only as far as is sound (in this order, each source kept only if
//! it leaves every key's version graph acyclic, otherwise reported as `cyclic-versions`):
//!
//! - initial state: `null` precedes every value (always);
//! - writes follow reads: a transaction that read `v1` and then wrote `v2` puts `v1 < v2`;
//! - sequential keys (asked for): each process sees each key's versions in order;
//! - linearizable keys (asked for): versions follow real-time order.
//!
//! Each version edge `v1 < v2` of a key gives `ww` from the writer of `v1` to the writer of `v2`
//! and `rw` from every reader of `v1` to the writer of `v2`. Only external reads (a key's first
//! access in a transaction, before any write of it) and external writes (the last write of a
//! key) take part, as in Adya.

use rustc_hash::FxHashMap;

use super::atom::Atom;
use super::graph::{Edges, RW, WR, WW};
use super::report::{Collector, Witness};
use super::show;
use super::txns::{MopKind, Status, Txns};
use super::TxnError;

/// Where a version edge came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// `null` precedes everything.
    Initial,
    /// Transaction `.0` read the first value and then wrote the second.
    WritesFollowReads(u32),
    /// Transaction `.0` ended with the first value, and `.1`, next in its process, began with
    /// the second.
    Sequential(u32, u32),
    /// Transaction `.0` completed with the first value before `.1` was invoked with the second.
    Linearizable(u32, u32),
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Initial => "initial-state",
            Source::WritesFollowReads(_) => "wfr-keys",
            Source::Sequential(..) => "sequential-keys",
            Source::Linearizable(..) => "linearizable-keys",
        }
    }
}

/// One write of a key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Write {
    pub txn: u32,
    /// The transaction's last write of the key.
    pub external: bool,
}

/// The indices built over a rw-register history.
#[derive(Debug, Default)]
pub(crate) struct Register {
    /// (key, value) -> its unique write.
    pub writes: FxHashMap<(u32, Atom), Write>,
    /// Committed external reads as (key, value, transaction), sorted.
    pub readers: Vec<(u32, Atom, u32)>,
    /// Accepted version edges (key, earlier, later, why), sorted and unique by the first three.
    pub versions: Vec<(u32, Atom, Atom, Source)>,
}

impl Register {
    /// Why `a < b` in `k`'s version order, if it is an accepted version edge.
    pub(crate) fn version(&self, k: u32, a: Atom, b: Atom) -> Option<Source> {
        let i = self
            .versions
            .partition_point(|e| (e.0, e.1, e.2) < (k, a, b));
        self.versions
            .get(i)
            .filter(|e| (e.0, e.1, e.2) == (k, a, b))
            .map(|e| e.3)
    }

    /// The accepted version edges of the keys in `keys` (sorted, distinct).
    fn versions_of(&self, keys: &[u32]) -> Vec<(u32, Atom, Atom)> {
        let mut out = Vec::new();
        for &k in keys {
            let lo = self.versions.partition_point(|e| e.0 < k);
            out.extend(
                self.versions[lo..]
                    .iter()
                    .take_while(|e| e.0 == k)
                    .map(|e| (e.0, e.1, e.2)),
            );
        }
        out
    }
}

/// Which version-order sources to use beyond the initial state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sources {
    pub wfr: bool,
    pub sequential: bool,
    pub linearizable: bool,
}

/// A transaction's external view of a key: its first value (external read, else external
/// write) and its last (external write, else external read). Reads count only for `ok`.
pub(crate) fn first_last(t: &Txns, ti: u32, k: u32) -> Option<(Atom, Atom)> {
    let ok = t.txns[ti as usize].status == Status::Ok;
    let ms = t.mops_of(ti);
    let mut first = None;
    let mut last = None;
    let mut wrote = false;
    for m in ms.iter().filter(|m| m.key == k) {
        match m.kind {
            MopKind::Read if ok && m.known_read() && !wrote && first.is_none() => {
                first = Some(m.value);
                last = Some(m.value);
            }
            MopKind::Write => {
                wrote = true;
                first.get_or_insert(m.value);
                last = Some(m.value);
            }
            _ => {}
        }
    }
    Some((first?, last?))
}

/// Build the indices, version orders and edges; add the non-cycle anomalies.
pub(crate) fn analyze(
    t: &Txns,
    sources: Sources,
    c: &mut Collector,
    edges: &mut Edges,
) -> Result<Register, TxnError> {
    let mut r = index(t)?;
    super::register_checks::check(t, &r, c);
    let mut layers: Vec<Vec<(u32, Atom, Atom, Source)>> = vec![initial(t, &r)];
    if sources.wfr {
        layers.push(wfr(t));
    }
    if sources.sequential {
        layers.push(super::register_orders::sequential(t));
    }
    if sources.linearizable {
        layers.push(super::register_orders::linearizable(t));
    }
    let mut used: Vec<&'static str> = Vec::new();
    for layer in layers {
        let Some(&(_, _, _, src)) = layer.first() else {
            continue;
        };
        let mut new: Vec<(u32, Atom, Atom, Source)> = layer
            .into_iter()
            .filter(|&(k, a, b, _)| a != b && r.version(k, a, b).is_none())
            .collect();
        new.sort_unstable_by_key(|e| (e.0, e.1, e.2));
        new.dedup_by_key(|e| (e.0, e.1, e.2));
        // Only keys this layer touches can become cyclic; the initial state alone cannot
        // (every edge leaves null).
        let cycles = if src == Source::Initial && r.versions.is_empty() {
            Vec::new()
        } else {
            let mut keys: Vec<u32> = new.iter().map(|e| e.0).collect();
            keys.dedup();
            let mut all = r.versions_of(&keys);
            all.extend(new.iter().map(|e| (e.0, e.1, e.2)));
            super::register_orders::cyclic_keys(&all)
        };
        if cycles.is_empty() {
            r.versions.extend(new);
            r.versions.sort_unstable_by_key(|e| (e.0, e.1, e.2));
            used.push(src.name());
            continue;
        }
        let mut names = used.clone();
        names.push(src.name());
        for (k, scc) in cycles {
            c.add("cyclic-versions", || cyclic(t, k, &scc, &names));
        }
    }
    // Version edges sorted like the readers, so the readers of each earlier version are found
    // by walking both lists once rather than by a search per edge.
    let mut ri = 0;
    for &(k, a, b, _) in &r.versions {
        while ri < r.readers.len() && (r.readers[ri].0, r.readers[ri].1) < (k, a) {
            ri += 1;
        }
        let later = match r.writes.get(&(k, b)) {
            Some(w) if w.external && t.txns[w.txn as usize].possible() => w.txn,
            _ => continue,
        };
        if let Some(w) = r.writes.get(&(k, a)) {
            if w.external && t.txns[w.txn as usize].possible() {
                edges.link(w.txn, later, WW);
            }
        }
        for &(_, _, reader) in r.readers[ri..].iter().take_while(|x| (x.0, x.1) == (k, a)) {
            edges.link(reader, later, RW);
        }
    }
    for &(k, v, reader) in &r.readers {
        if let Some(w) = r.writes.get(&(k, v)) {
            if w.external && t.txns[w.txn as usize].possible() {
                edges.link(w.txn, reader, WR);
            }
        }
    }
    Ok(r)
}

fn index(t: &Txns) -> Result<Register, TxnError> {
    let mut r = Register::default();
    for (ti, x) in t.txns.iter().enumerate() {
        let ms = t.mops_of(ti as u32);
        let mut written: smallvec::SmallVec<[u32; 6]> = smallvec::SmallVec::new();
        let mut read: smallvec::SmallVec<[u32; 6]> = smallvec::SmallVec::new();
        for (j, m) in ms.iter().enumerate() {
            match m.kind {
                MopKind::Write => {
                    let external = !ms[j + 1..]
                        .iter()
                        .any(|n| n.kind == MopKind::Write && n.key == m.key);
                    let w = Write {
                        txn: ti as u32,
                        external,
                    };
                    if let Some(prev) = r.writes.insert((m.key, m.value), w) {
                        return Err(TxnError::BadOp {
                            index: x.invoke,
                            line: None,
                            message: format!(
                                "writes {} to key {}, which op {} also writes; rw-register needs \
                                 every written value to be unique per key",
                                show::val(t, m.value),
                                show::key(t, m.key),
                                t.txns[prev.txn as usize].invoke
                            ),
                        });
                    }
                    written.push(m.key);
                }
                MopKind::Read
                    if x.status == Status::Ok
                        && m.known_read()
                        && !written.contains(&m.key)
                        && !read.contains(&m.key) =>
                {
                    read.push(m.key);
                    r.readers.push((m.key, m.value, ti as u32));
                }
                _ => {}
            }
        }
    }
    r.readers.sort_unstable();
    Ok(r)
}

/// `null` precedes every value externally written (by a possible transaction) or read.
fn initial(t: &Txns, r: &Register) -> Vec<(u32, Atom, Atom, Source)> {
    let mut out: Vec<(u32, Atom, Atom, Source)> = r
        .writes
        .iter()
        .filter(|(_, w)| w.external && t.txns[w.txn as usize].possible())
        .map(|(&(k, v), _)| (k, Atom::NULL, v, Source::Initial))
        .chain(
            r.readers
                .iter()
                .map(|&(k, v, _)| (k, Atom::NULL, v, Source::Initial)),
        )
        .filter(|e| e.2 != Atom::NULL)
        .collect();
    out.sort_unstable_by_key(|e| (e.0, e.2));
    out.dedup_by_key(|e| (e.0, e.2));
    out
}

/// An ok transaction that read `v1` externally and wrote `v2` puts `v1 < v2`.
fn wfr(t: &Txns) -> Vec<(u32, Atom, Atom, Source)> {
    let mut out = Vec::new();
    for (ti, x) in t.txns.iter().enumerate() {
        if x.status != Status::Ok {
            continue;
        }
        let ms = t.mops_of(ti as u32);
        for (j, m) in ms.iter().enumerate() {
            let first_access = !ms[..j].iter().any(|p| p.key == m.key);
            if !m.known_read() || m.value == Atom::NULL || !first_access {
                continue;
            }
            let last_write = ms[j + 1..]
                .iter()
                .rev()
                .find(|n| n.kind == MopKind::Write && n.key == m.key);
            if let Some(w) = last_write {
                out.push((
                    m.key,
                    m.value,
                    w.value,
                    Source::WritesFollowReads(ti as u32),
                ));
            }
        }
    }
    out
}

fn cyclic(t: &Txns, k: u32, scc: &[Atom], sources: &[&'static str]) -> Witness {
    Witness::CyclicVersions {
        key: t.atoms.json(t.keys[k as usize]),
        scc: scc.iter().map(|v| t.atoms.json(*v)).collect(),
        sources: sources.iter().map(|s| s.to_string()).collect(),
        explanation: vec![format!(
            "the version order of {} inferred from {} is cyclic among the values {}",
            show::key(t, k),
            sources.join(", "),
            show::list(t, scc)
        )],
    }
}
