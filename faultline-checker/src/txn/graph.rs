//! The dependency graph over transactions: vertices are possible (`ok` or `info`) transactions
//! plus auxiliary real-time vertices, edges carry a set of relationships ([`Rel`] bits), stored
//! as compressed adjacency lists. Also the induced subgraph of one strongly connected component.

/// Relationship bits of an edge. An edge may carry several.
pub(crate) type Rel = u8;
/// Write-write: the target installed the next version after the source's write.
pub(crate) const WW: Rel = 1;
/// Write-read: the target read the source's write.
pub(crate) const WR: Rel = 2;
/// Read-write (anti-dependency): the target overwrote the version the source read.
pub(crate) const RW: Rel = 4;
/// Session order: the same process ran the source before the target.
pub(crate) const PROCESS: Rel = 8;
/// Real time: the source completed before the target was invoked. Real-time order is encoded
/// through auxiliary vertices (a chain in history order), so it costs O(n) edges, not O(n·c).
pub(crate) const REALTIME: Rel = 16;

/// Every relationship.
pub(crate) const ALL: Rel = WW | WR | RW | PROCESS | REALTIME;

/// The name of a single relationship.
pub(crate) fn rel_name(r: Rel) -> &'static str {
    match r {
        WW => "ww",
        WR => "wr",
        RW => "rw",
        PROCESS => "process",
        _ => "realtime",
    }
}

/// One edge before the graph is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edge {
    pub from: u32,
    pub to: u32,
    pub rel: Rel,
}

/// Edges collected by the inference passes.
#[derive(Debug, Default)]
pub(crate) struct Edges(pub Vec<Edge>);

impl Edges {
    /// Add `from -> to` with `rel`. Self-edges are dropped: a transaction never depends on itself.
    #[inline]
    pub(crate) fn link(&mut self, from: u32, to: u32, rel: Rel) {
        if from != to {
            self.0.push(Edge { from, to, rel });
        }
    }
}

/// A directed graph in compressed sparse row form. Vertices `0..n_txn` are transactions (by
/// transaction id); `n_txn..n` are auxiliary real-time vertices.
/// Invariant: `off.len() == n + 1`; the targets of `v` are `to[off[v]..off[v+1]]`, sorted and
/// distinct, with their relationship sets in `rel` at the same positions.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    pub n_txn: u32,
    pub off: Vec<u32>,
    pub to: Vec<u32>,
    pub rel: Vec<Rel>,
}

impl Graph {
    /// Build from an edge list; parallel edges merge their relationship sets.
    pub(crate) fn build(n_txn: u32, n: u32, edges: Vec<Edge>) -> Graph {
        let mut off = vec![0u32; n as usize + 1];
        for e in &edges {
            off[e.from as usize + 1] += 1;
        }
        for i in 0..n as usize {
            off[i + 1] += off[i];
        }
        let mut fill = off.clone();
        let mut pairs = vec![(0u32, 0u8); edges.len()];
        for e in edges {
            let slot = &mut fill[e.from as usize];
            pairs[*slot as usize] = (e.to, e.rel);
            *slot += 1;
        }
        let mut to = Vec::with_capacity(pairs.len());
        let mut rel = Vec::with_capacity(pairs.len());
        let mut new_off = Vec::with_capacity(off.len());
        new_off.push(0u32);
        for v in 0..n as usize {
            let adj = &mut pairs[off[v] as usize..off[v + 1] as usize];
            adj.sort_unstable_by_key(|p| p.0);
            for &(t, r) in adj.iter() {
                if to.last() == Some(&t) && to.len() > *new_off.last().unwrap_or(&0) as usize {
                    if let Some(last) = rel.last_mut() {
                        *last |= r;
                    }
                } else {
                    to.push(t);
                    rel.push(r);
                }
            }
            new_off.push(to.len() as u32);
        }
        Graph {
            n_txn,
            off: new_off,
            to,
            rel,
        }
    }

    /// Number of vertices (transactions and auxiliary ones).
    pub(crate) fn n(&self) -> u32 {
        self.off.len() as u32 - 1
    }

    /// Targets and relationship sets of `v`.
    #[inline]
    pub(crate) fn out(&self, v: u32) -> impl Iterator<Item = (u32, Rel)> + '_ {
        let (a, b) = (
            self.off[v as usize] as usize,
            self.off[v as usize + 1] as usize,
        );
        self.to[a..b]
            .iter()
            .copied()
            .zip(self.rel[a..b].iter().copied())
    }

    /// True for an auxiliary (real-time) vertex.
    #[inline]
    pub(crate) fn is_aux(&self, v: u32) -> bool {
        v >= self.n_txn
    }

    /// Number of edges.
    pub(crate) fn edge_count(&self) -> usize {
        self.to.len()
    }

    /// Heap bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.off.capacity() * 4 + self.to.capacity() * 4 + self.rel.capacity()
    }

    /// The subgraph induced by `nodes` (global ids), renumbered `0..nodes.len()` in that order.
    pub(crate) fn induced(&self, nodes: &[u32]) -> Local {
        let mut local = rustc_hash::FxHashMap::default();
        local.reserve(nodes.len());
        for (i, &v) in nodes.iter().enumerate() {
            local.insert(v, i as u32);
        }
        let mut off = Vec::with_capacity(nodes.len() + 1);
        let (mut to, mut rel) = (Vec::new(), Vec::new());
        off.push(0u32);
        for &v in nodes {
            for (w, r) in self.out(v) {
                if let Some(&l) = local.get(&w) {
                    to.push(l);
                    rel.push(r);
                }
            }
            off.push(to.len() as u32);
        }
        let aux = nodes.iter().map(|&v| self.is_aux(v)).collect();
        Local {
            nodes: nodes.to_vec(),
            aux,
            g: Graph {
                n_txn: nodes.len() as u32,
                off,
                to,
                rel,
            },
        }
    }
}

/// The subgraph of one strongly connected component, with local vertex ids.
#[derive(Debug)]
pub(crate) struct Local {
    /// Local id -> global id.
    pub nodes: Vec<u32>,
    /// Local id -> is an auxiliary real-time vertex.
    pub aux: Vec<bool>,
    /// Edges between local ids (its `n_txn` is meaningless; use `aux`).
    pub g: Graph,
}

impl Local {
    /// Number of transactions (not auxiliary vertices) in the component.
    pub(crate) fn txn_count(&self) -> usize {
        self.aux.iter().filter(|a| !**a).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_edges_merge_and_lists_sort() {
        let e = |from, to, rel| Edge { from, to, rel };
        let g = Graph::build(
            3,
            4,
            vec![e(0, 2, WW), e(0, 1, RW), e(0, 2, WR), e(3, 0, REALTIME)],
        );
        assert_eq!(g.out(0).collect::<Vec<_>>(), vec![(1, RW), (2, WW | WR)]);
        assert_eq!(g.out(1).count(), 0);
        assert_eq!(g.out(3).collect::<Vec<_>>(), vec![(0, REALTIME)]);
        assert!(g.is_aux(3) && !g.is_aux(2));
        let l = g.induced(&[2, 0]);
        assert_eq!(l.g.out(1).collect::<Vec<_>>(), vec![(0, WW | WR)]);
        assert_eq!(l.g.out(0).count(), 0);
    }
}
