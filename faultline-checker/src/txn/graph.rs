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

/// Edges collected by the inference passes: `(from << 32) | to` beside the relationship, so
/// an edge costs 9 bytes rather than a padded 12.
/// Past `limit` edges, further ones are dropped and the set is marked over budget (so a
/// quadratic blow-up, e.g. thousands of readers of one state before thousands of unread
/// appends, ends in `unknown`, not an out-of-memory kill).
#[derive(Debug)]
pub(crate) struct Edges {
    ends: Vec<u64>,
    rels: Vec<Rel>,
    limit: usize,
    over: bool,
}

impl Default for Edges {
    fn default() -> Self {
        Edges::with_limit(usize::MAX)
    }
}

impl Edges {
    /// An empty set that holds at most `limit` edges.
    pub(crate) fn with_limit(limit: usize) -> Self {
        Edges {
            ends: Vec::new(),
            rels: Vec::new(),
            limit,
            over: false,
        }
    }

    /// Add `from -> to` with `rel`. Self-edges are dropped: a transaction never depends on itself.
    #[inline]
    pub(crate) fn link(&mut self, from: u32, to: u32, rel: Rel) {
        if from != to {
            if self.ends.len() >= self.limit {
                self.over = true;
                return;
            }
            self.ends.push(((from as u64) << 32) | to as u64);
            self.rels.push(rel);
        }
    }

    /// True when edges were dropped at the limit.
    pub(crate) fn over_limit(&self) -> bool {
        self.over
    }

    /// Number of edges held.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Make room for `n` more edges.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.ends.reserve(n);
        self.rels.reserve(n);
    }

    /// Heap bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.ends.capacity() * 8 + self.rels.capacity()
    }

    /// Move every edge of `other` here (within the limit).
    pub(crate) fn append(&mut self, mut other: Edges) {
        let room = self.limit.saturating_sub(self.ends.len());
        if other.ends.len() > room || other.over {
            self.over = true;
            other.ends.truncate(room);
            other.rels.truncate(room);
        }
        self.ends.append(&mut other.ends);
        self.rels.append(&mut other.rels);
    }
}

impl From<Vec<Edge>> for Edges {
    fn from(v: Vec<Edge>) -> Self {
        let mut e = Edges::default();
        for x in v {
            e.link(x.from, x.to, x.rel);
        }
        e
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
    /// Build from collected edges; parallel edges merge their relationship sets. Sorts each
    /// vertex's targets (counting sort by source, then a small sort per row) and compacts the
    /// duplicates in place.
    pub(crate) fn build(n_txn: u32, n: u32, edges: Edges) -> Graph {
        let mut off = vec![0u32; n as usize + 1];
        for &e in &edges.ends {
            off[(e >> 32) as usize + 1] += 1;
        }
        for i in 0..n as usize {
            off[i + 1] += off[i];
        }
        let mut fill = off.clone();
        // Targets with their relationship in the top byte, sorted per row below.
        let mut row = vec![0u64; edges.ends.len()];
        for (&e, &r) in edges.ends.iter().zip(&edges.rels) {
            let slot = &mut fill[(e >> 32) as usize];
            row[*slot as usize] = ((r as u64) << 32) | (e & 0xffff_ffff);
            *slot += 1;
        }
        drop(fill);
        drop(edges);
        let mut to = vec![0u32; row.len()];
        let mut rel = vec![0u8; row.len()];
        let mut w = 0usize;
        let mut start = 0usize;
        for v in 0..n as usize {
            let adj = &mut row[off[v] as usize..off[v + 1] as usize];
            adj.sort_unstable_by_key(|p| p & 0xffff_ffff);
            for &p in adj.iter() {
                let (t, r) = ((p & 0xffff_ffff) as u32, (p >> 32) as Rel);
                if w > start && to[w - 1] == t {
                    rel[w - 1] |= r;
                } else {
                    to[w] = t;
                    rel[w] = r;
                    w += 1;
                }
            }
            off[v] = start as u32;
            start = w;
        }
        off[n as usize] = w as u32;
        to.truncate(w);
        rel.truncate(w);
        to.shrink_to_fit();
        rel.shrink_to_fit();
        Graph {
            n_txn,
            off,
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
            vec![e(0, 2, WW), e(0, 1, RW), e(0, 2, WR), e(3, 0, REALTIME)].into(),
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
