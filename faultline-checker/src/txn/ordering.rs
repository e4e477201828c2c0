//! Process (session) and real-time edges, in O(n) edges whatever the concurrency.
//!
//! Process: each process's transactions in order, skipping failed ones (they are not in the
//! graph); an `info` transaction is always its process's last.
//!
//! Real time: `a` precedes `b` when `a` completed `ok` before `b` was invoked. Instead of the
//! O(n·c) edges of the transitive reduction, walk the history once and keep a chain of
//! auxiliary vertices: each invoke that follows new completions opens a new chain vertex, the
//! completed transactions point at it, the chain points forward, and every invoked transaction
//! hangs off the current chain vertex. A path `a -> aux ... aux -> b` exists exactly when `a`
//! completed before `b` was invoked.

use rustc_hash::FxHashMap;

use super::graph::{Edges, PROCESS, REALTIME};
use super::txns::{Status, Txns};

/// Link consecutive transactions of each process.
pub(crate) fn process_edges(t: &Txns, edges: &mut Edges) {
    let mut last: FxHashMap<u64, u32> = FxHashMap::default();
    for (i, x) in t.txns.iter().enumerate() {
        if !x.possible() {
            continue;
        }
        if let Some(prev) = last.insert(x.process, i as u32) {
            edges.link(prev, i as u32, PROCESS);
        }
    }
}

/// Link real-time order through auxiliary vertices numbered from `t.txns.len()`; returns how
/// many auxiliary vertices were used.
pub(crate) fn realtime_edges(t: &Txns, edges: &mut Edges) -> u32 {
    let first_aux = t.txns.len() as u32;
    let mut next_aux = first_aux;
    let mut current: Option<u32> = None;
    let mut pending: Vec<u32> = Vec::new();
    let mut done = t.oks_by_completion.iter().copied().peekable();
    for (i, x) in t.txns.iter().enumerate() {
        // Every ok completion before this invoke.
        while let Some(&d) = done.peek() {
            if t.txns[d as usize].complete > x.invoke {
                break;
            }
            pending.push(d);
            done.next();
        }
        if !x.possible() {
            continue;
        }
        if !pending.is_empty() {
            let aux = next_aux;
            next_aux += 1;
            if let Some(prev) = current {
                edges.link(prev, aux, REALTIME);
            }
            for &d in &pending {
                edges.link(d, aux, REALTIME);
            }
            pending.clear();
            current = Some(aux);
        }
        if let Some(aux) = current {
            edges.link(aux, i as u32, REALTIME);
        }
    }
    debug_assert!(t
        .txns
        .iter()
        .all(|x| x.status != Status::Ok || x.complete != u64::MAX));
    next_aux - first_aux
}
