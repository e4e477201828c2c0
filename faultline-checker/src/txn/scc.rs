//! Strongly connected components (Tarjan, iterative: no recursion depth limit) over any graph
//! that can enumerate its out-edges by cursor: the dependency graph restricted to a set of
//! relationships, or the two-layer product graph that finds cycles with no two adjacent `rw`
//! edges (Elle's "sequential extension" of ww/wr by rw, without materializing it).

use super::graph::{Graph, Rel, RW};

/// A graph whose out-edges of `v` are cursor positions `range(v)`, each leading to `target` or
/// nowhere (filtered out).
pub(crate) trait Digraph {
    /// Number of vertices.
    fn n(&self) -> u32;
    /// Cursor positions of `v`'s out-edges.
    fn range(&self, v: u32) -> (u32, u32);
    /// The target of cursor position `i` of `v`, if that edge exists in this view.
    fn target(&self, v: u32, i: u32) -> Option<u32>;
}

/// `g` restricted to edges carrying any of `mask`.
pub(crate) struct Masked<'a> {
    pub g: &'a Graph,
    pub mask: Rel,
}

impl Digraph for Masked<'_> {
    fn n(&self) -> u32 {
        self.g.n()
    }
    #[inline]
    fn range(&self, v: u32) -> (u32, u32) {
        (self.g.off[v as usize], self.g.off[v as usize + 1])
    }
    #[inline]
    fn target(&self, _v: u32, i: u32) -> Option<u32> {
        (self.g.rel[i as usize] & self.mask != 0).then(|| self.g.to[i as usize])
    }
}

/// The product of `g` with "was the last edge rw?": vertex `2v + b`. A non-rw edge (any of
/// `base`) leads to layer 0 from either layer; an rw edge leads from layer 0 to layer 1 only. A
/// cycle here is a closed walk of `g` with no two cyclically adjacent rw edges, and every such
/// walk contains a simple cycle with the same property (split it at a repeated vertex: one half
/// keeps it).
pub(crate) struct Extension<'a> {
    pub g: &'a Graph,
    pub base: Rel,
}

impl Digraph for Extension<'_> {
    fn n(&self) -> u32 {
        self.g.n() * 2
    }
    #[inline]
    fn range(&self, v: u32) -> (u32, u32) {
        let x = v / 2;
        (self.g.off[x as usize] * 2, self.g.off[x as usize + 1] * 2)
    }
    #[inline]
    fn target(&self, v: u32, i: u32) -> Option<u32> {
        let (e, rw_choice) = ((i / 2) as usize, i % 2 == 1);
        let r = self.g.rel[e];
        let w = self.g.to[e];
        if rw_choice {
            (r & RW != 0 && v.is_multiple_of(2)).then_some(w * 2 + 1)
        } else {
            (r & self.base != 0).then_some(w * 2)
        }
    }
}

const UNSEEN: u32 = u32::MAX;

/// Call `found` with every strongly connected component of more than one vertex. Stops early
/// when `found` returns false. Returns false if stopped early.
pub(crate) fn tarjan<G: Digraph>(g: &G, mut found: impl FnMut(&[u32]) -> bool) -> bool {
    let n = g.n() as usize;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut frames: Vec<(u32, u32, u32)> = Vec::new();
    let mut next = 0u32;
    for s in 0..n as u32 {
        if index[s as usize] != UNSEEN {
            continue;
        }
        let (a, b) = g.range(s);
        index[s as usize] = next;
        low[s as usize] = next;
        next += 1;
        stack.push(s);
        on_stack[s as usize] = true;
        frames.push((s, a, b));
        while let Some(top) = frames.last_mut() {
            let (v, cur, end) = *top;
            if cur < end {
                top.1 += 1;
                let Some(w) = g.target(v, cur) else { continue };
                if index[w as usize] == UNSEEN {
                    index[w as usize] = next;
                    low[w as usize] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    let (a, b) = g.range(w);
                    frames.push((w, a, b));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
                continue;
            }
            frames.pop();
            if let Some(parent) = frames.last() {
                let p = parent.0 as usize;
                low[p] = low[p].min(low[v as usize]);
            }
            if low[v as usize] == index[v as usize] {
                let at = stack.iter().rposition(|&x| x == v).unwrap_or(0);
                for &x in &stack[at..] {
                    on_stack[x as usize] = false;
                }
                if stack.len() - at > 1 && !found(&stack[at..]) {
                    return false;
                }
                stack.truncate(at);
            }
        }
    }
    true
}

/// True if `g` has a cycle (a component of more than one vertex).
#[cfg(test)]
pub(crate) fn has_cycle<G: Digraph>(g: &G) -> bool {
    !tarjan(g, |_| false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txn::graph::{Edge, WR, WW};

    fn graph(n: u32, edges: &[(u32, u32, Rel)]) -> Graph {
        let e: Vec<Edge> = edges
            .iter()
            .map(|&(from, to, rel)| Edge { from, to, rel })
            .collect();
        Graph::build(n, n, e.into())
    }

    fn components<G: Digraph>(g: &G) -> Vec<Vec<u32>> {
        let mut out = Vec::new();
        tarjan(g, |c| {
            let mut c = c.to_vec();
            c.sort();
            out.push(c);
            true
        });
        out.sort();
        out
    }

    #[test]
    fn finds_components_and_respects_masks() {
        let g = graph(
            6,
            &[
                (0, 1, WW),
                (1, 0, WR),
                (1, 2, WW),
                (2, 3, RW),
                (3, 2, WW),
                (4, 5, WW),
            ],
        );
        assert_eq!(
            components(&Masked {
                g: &g,
                mask: WW | WR | RW
            }),
            vec![vec![0, 1], vec![2, 3]]
        );
        assert_eq!(
            components(&Masked {
                g: &g,
                mask: WW | WR
            }),
            vec![vec![0, 1]]
        );
        assert!(!has_cycle(&Masked { g: &g, mask: WW }));
    }

    #[test]
    fn extension_rejects_adjacent_rw_only() {
        // rw, rw: adjacent (G2-item), not an SI cycle.
        let g = graph(2, &[(0, 1, RW), (1, 0, RW)]);
        assert!(!has_cycle(&Extension {
            g: &g,
            base: WW | WR
        }));
        // rw, wr, rw, wr: nonadjacent.
        let g = graph(4, &[(0, 1, RW), (1, 2, WR), (2, 3, RW), (3, 0, WR)]);
        assert!(has_cycle(&Extension {
            g: &g,
            base: WW | WR
        }));
        // rw, rw, wr: the wrap-around pair is fine but the middle pair is adjacent.
        let g = graph(3, &[(0, 1, RW), (1, 2, RW), (2, 0, WR)]);
        assert!(!has_cycle(&Extension {
            g: &g,
            base: WW | WR
        }));
    }

    #[test]
    fn deep_chains_do_not_overflow() {
        let n = 200_000u32;
        let mut e: Vec<(u32, u32, Rel)> = (0..n - 1).map(|i| (i, i + 1, WW)).collect();
        e.push((n - 1, 0, WW));
        let g = graph(n, &e);
        let mut sizes = Vec::new();
        tarjan(&Masked { g: &g, mask: WW }, |c| {
            sizes.push(c.len());
            true
        });
        assert_eq!(sizes, vec![n as usize]);
    }
}
