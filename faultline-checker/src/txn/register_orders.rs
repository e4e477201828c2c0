//! Register version orders from session and real-time order (Elle's `:sequential-keys?` and
//! `:linearizable-keys?`): if each key is sequentially consistent, the last value a transaction
//! saw of a key precedes the first value the next transaction of its process saw; if each key
//! is linearizable, the same holds along real-time order. Also the cycle check every source
//! must pass.

use rustc_hash::FxHashMap;

use super::atom::Atom;
use super::graph::{Edge, Graph};
use super::register::{first_last, Source};
use super::scc::{tarjan, Masked};
use super::txns::Txns;

/// Distinct keys a transaction touches, in first-use order.
fn keys_of(t: &Txns, ti: u32) -> Vec<u32> {
    let mut ks: Vec<u32> = Vec::new();
    for m in t.mops_of(ti) {
        if !ks.contains(&m.key) {
            ks.push(m.key);
        }
    }
    ks
}

/// Version edges along each process's transactions.
pub(crate) fn sequential(t: &Txns) -> Vec<(u32, Atom, Atom, Source)> {
    let mut last: FxHashMap<(u64, u32), (u32, Atom)> = FxHashMap::default();
    let mut out = Vec::new();
    for (ti, x) in t.txns.iter().enumerate() {
        if !x.possible() {
            continue;
        }
        let b = ti as u32;
        for k in keys_of(t, b) {
            let Some((first, final_)) = first_last(t, b, k) else {
                continue;
            };
            if let Some((a, v)) = last.insert((x.process, k), (b, final_)) {
                out.push((k, v, first, Source::Sequential(a, b)));
            }
        }
    }
    out
}

/// Version edges along real-time order, per key, through the frontier of transactions that
/// completed and are not yet followed by a later completed one on that key.
pub(crate) fn linearizable(t: &Txns) -> Vec<(u32, Atom, Atom, Source)> {
    let mut frontier: FxHashMap<u32, Vec<(u32, u64)>> = FxHashMap::default();
    let mut out = Vec::new();
    let mut done = t.oks_by_completion.iter().copied().peekable();
    for (ti, x) in t.txns.iter().enumerate() {
        while let Some(&a) = done.peek() {
            let xa = &t.txns[a as usize];
            if xa.complete > x.invoke {
                break;
            }
            done.next();
            for k in keys_of(t, a) {
                if first_last(t, a, k).is_none() {
                    continue;
                }
                let f = frontier.entry(k).or_default();
                f.retain(|&(_, c)| c > xa.invoke);
                f.push((a, xa.complete));
            }
        }
        if !x.possible() {
            continue;
        }
        let b = ti as u32;
        for k in keys_of(t, b) {
            let Some((first, _)) = first_last(t, b, k) else {
                continue;
            };
            for &(a, _) in frontier.get(&k).into_iter().flatten() {
                if let Some((_, v)) = first_last(t, a, k) {
                    out.push((k, v, first, Source::Linearizable(a, b)));
                }
            }
        }
    }
    out
}

/// Keys whose version graph has a cycle, with the values on it.
pub(crate) fn cyclic_keys(versions: &[(u32, Atom, Atom)]) -> Vec<(u32, Vec<Atom>)> {
    let mut ids: FxHashMap<(u32, Atom), u32> = FxHashMap::default();
    let mut names: Vec<(u32, Atom)> = Vec::new();
    let mut id = |k: u32, v: Atom| {
        *ids.entry((k, v)).or_insert_with(|| {
            names.push((k, v));
            names.len() as u32 - 1
        })
    };
    let mut edges = Vec::with_capacity(versions.len());
    for &(k, a, b) in versions {
        let (from, to) = (id(k, a), id(k, b));
        edges.push(Edge { from, to, rel: 1 });
    }
    let n = names.len() as u32;
    let g = Graph::build(n, n, edges.into());
    let mut out = Vec::new();
    tarjan(&Masked { g: &g, mask: 1 }, |comp| {
        let k = names[comp[0] as usize].0;
        let mut vs: Vec<Atom> = comp.iter().map(|&v| names[v as usize].1).collect();
        vs.sort_unstable();
        out.push((k, vs));
        true
    });
    out.sort_unstable_by_key(|c| c.0);
    out
}
