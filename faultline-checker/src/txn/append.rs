//! List-append inference (Elle's `elle.list-append`). Every appended value is unique per key,
//! so each committed read of a list shows a prefix of that key's version order. The longest
//! read of a key *is* its version order (every other read must be a prefix of it, or the orders
//! are incompatible); an append never read came after the last element any read saw.
//!
//! From the order: `ww` from the writer of each element to the writer of the next, `wr` from
//! the writer of a read's last element to the reader, `rw` from every reader of a state to the
//! writer of the element that came next. Non-cycle anomalies live in `append_checks.rs`,
//! explanations of edges in `append_explain.rs`.

use rustc_hash::FxHashMap;

use super::atom::Atom;
use super::graph::{Edges, RW, WR, WW};
use super::report::Collector;
use super::show;
use super::txns::{MopKind, Status, Txns, NONE as NO_INDEX};
use super::TxnError;

/// "No such element / position / state".
pub(crate) const NONE: u32 = u32::MAX;

/// One key's version order: the (deduplicated) longest committed read of it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Order {
    /// Elements in `Append::order_elems`.
    pub start: u32,
    pub len: u32,
    /// The global micro-op index of the read it came from; [`NONE`] when inferred from the
    /// key's only append.
    pub source: u32,
    /// Position in the raw longest read of its first repeated element, or [`NONE`].
    pub dup_at: u32,
    /// Position in the raw longest read of its first element appended by a failed
    /// transaction, or [`NONE`].
    pub fail_at: u32,
    /// False when some committed read of the key is not a prefix of the longest.
    pub compatible: bool,
}

/// The indices built over a list-append history. States: state `s` of key `k` is "the list
/// equals the first `s` elements of `k`'s order"; its global id is `state_base[k] + s`.
#[derive(Debug)]
pub(crate) struct Append {
    /// (key, value) -> element id, for every appended value of any transaction.
    pub elem_ids: FxHashMap<(u32, Atom), u32>,
    /// Element -> the transaction that appended it.
    pub writer: Vec<u32>,
    /// Element -> its global micro-op index.
    pub wmop: Vec<u32>,
    /// Element -> appended again to the same key later in the same transaction.
    pub intermediate: Vec<bool>,
    /// Element -> position in its key's order, or [`NONE`] when never read.
    pub pos: Vec<u32>,
    /// Key -> order (absent: `len == 0`).
    pub orders: Vec<Order>,
    pub order_elems: Vec<Atom>,
    pub state_base: Vec<u32>,
    /// Readers of each state (compressed rows over global state ids).
    pub readers_off: Vec<u32>,
    pub readers: Vec<u32>,
}

impl Append {
    /// The element id of `v` appended to `k`.
    #[inline]
    pub(crate) fn elem(&self, k: u32, v: Atom) -> Option<u32> {
        self.elem_ids.get(&(k, v)).copied()
    }

    /// The order of key `k`.
    pub(crate) fn order(&self, k: u32) -> &[Atom] {
        let o = &self.orders[k as usize];
        &self.order_elems[o.start as usize..(o.start + o.len) as usize]
    }

    /// The state a read of `k` returning `list` observed: the position after its last element,
    /// 0 for the empty list, `None` when the last element is not in the order.
    pub(crate) fn read_state(&self, k: u32, list: &[Atom]) -> Option<u32> {
        let Some(&last) = list.last() else {
            return Some(0);
        };
        let e = self.elem(k, last)?;
        let p = self.pos[e as usize];
        (p != NONE).then_some(p + 1)
    }

    /// The state element `e` (of key `k`) was appended to: its position, or the end of the
    /// order when no read saw it.
    pub(crate) fn prev_state(&self, k: u32, e: u32) -> u32 {
        match self.pos[e as usize] {
            NONE => self.orders[k as usize].len,
            p => p,
        }
    }

    /// Transactions that read state `s` of key `k`.
    pub(crate) fn readers_of(&self, k: u32, s: u32) -> &[u32] {
        let g = (self.state_base[k as usize] + s) as usize;
        &self.readers[self.readers_off[g] as usize..self.readers_off[g + 1] as usize]
    }

    /// Heap bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.elem_ids.capacity() * 24
            + (self.writer.capacity() + self.wmop.capacity() + self.pos.capacity()) * 4
            + self.intermediate.capacity()
            + self.orders.capacity() * std::mem::size_of::<Order>()
            + self.order_elems.capacity() * 8
            + (self.state_base.capacity() + self.readers_off.capacity() + self.readers.capacity())
                * 4
    }
}

/// Build the indices, add the dependency edges and the non-cycle anomalies.
pub(crate) fn analyze(t: &Txns, c: &mut Collector, edges: &mut Edges) -> Result<Append, TxnError> {
    let mut a = index_appends(t)?;
    build_orders(t, &mut a);
    let reads = index_reads(t, &mut a, edges);
    super::append_checks::check(t, &a, &reads, c);
    write_edges(t, &a, edges);
    Ok(a)
}

/// Element ids for every append; unique appends are a requirement of the workload.
fn index_appends(t: &Txns) -> Result<Append, TxnError> {
    let mut a = Append {
        elem_ids: FxHashMap::default(),
        writer: Vec::new(),
        wmop: Vec::new(),
        intermediate: Vec::new(),
        pos: Vec::new(),
        orders: Vec::new(),
        order_elems: Vec::new(),
        state_base: Vec::new(),
        readers_off: Vec::new(),
        readers: Vec::new(),
    };
    a.elem_ids.reserve(t.mops.len() / 2);
    for (ti, x) in t.txns.iter().enumerate() {
        let ms = t.mops_of(ti as u32);
        for (j, m) in ms.iter().enumerate() {
            if m.kind != MopKind::Append {
                continue;
            }
            let id = a.writer.len() as u32;
            if let Some(&other) = a.elem_ids.get(&(m.key, m.value)) {
                let first = &t.txns[a.writer[other as usize] as usize];
                return Err(TxnError::BadOp {
                    index: x.invoke,
                    line: None,
                    message: format!(
                        "appends {} to key {}, which op {} also appends; list-append needs every \
                         appended value to be unique per key",
                        show::val(t, m.value),
                        show::key(t, m.key),
                        first.invoke
                    ),
                });
            }
            a.elem_ids.insert((m.key, m.value), id);
            a.writer.push(ti as u32);
            a.wmop.push(x.mops + j as u32);
            let later = ms[j + 1..]
                .iter()
                .any(|n| n.kind == MopKind::Append && n.key == m.key);
            a.intermediate.push(later);
        }
    }
    a.pos = vec![NONE; a.writer.len()];
    Ok(a)
}

/// Each key's order: its longest committed read, or its only append when nothing was read.
fn build_orders(t: &Txns, a: &mut Append) {
    let nk = t.keys.len();
    let mut best = vec![(0u32, NONE); nk];
    let mut appends = vec![(0u32, NONE); nk];
    for (ti, x) in t.txns.iter().enumerate() {
        let base = x.mops;
        for (j, m) in t.mops_of(ti as u32).iter().enumerate() {
            match m.kind {
                MopKind::Read if x.status == Status::Ok && m.known_read() => {
                    let b = &mut best[m.key as usize];
                    if m.len > b.0 {
                        *b = (m.len, base + j as u32);
                    }
                }
                MopKind::Append if x.possible() => {
                    let s = &mut appends[m.key as usize];
                    s.0 += 1;
                    s.1 = base + j as u32;
                }
                _ => {}
            }
        }
    }
    let mut seen = rustc_hash::FxHashSet::default();
    let mut states = 0u32;
    a.orders.reserve(nk);
    a.state_base.reserve(nk);
    for k in 0..nk {
        let start = a.order_elems.len() as u32;
        let (mut dup_at, mut fail_at, mut source) = (NONE, NONE, NONE);
        if best[k].1 != NONE {
            source = best[k].1;
            let raw = t.list(&t.mops[source as usize]);
            seen.clear();
            for (i, &e) in raw.iter().enumerate() {
                if !seen.insert(e) {
                    dup_at = dup_at.min(i as u32);
                    continue;
                }
                a.order_elems.push(e);
                if fail_at == NONE {
                    if let Some(id) = a.elem(k as u32, e) {
                        if t.txns[a.writer[id as usize] as usize].status == Status::Fail {
                            fail_at = i as u32;
                        }
                    }
                }
            }
        } else if appends[k].0 == 1 {
            a.order_elems.push(t.mops[appends[k].1 as usize].value);
        }
        let len = a.order_elems.len() as u32 - start;
        for (p, &e) in a.order_elems[start as usize..].iter().enumerate() {
            if let Some(id) = a.elem(k as u32, e) {
                a.pos[id as usize] = p as u32;
            }
        }
        a.orders.push(Order {
            start,
            len,
            source,
            dup_at,
            fail_at,
            compatible: true,
        });
        a.state_base.push(states);
        states += len + 1;
    }
    a.state_base.push(states);
}

/// Per committed read: prefix check, its state, and its wr edge. Returns the reads for the
/// non-cycle checks: (transaction, global micro-op index, is a prefix of the order source).
pub(crate) type ReadInfo = Vec<(u32, u32, bool)>;

fn index_reads(t: &Txns, a: &mut Append, edges: &mut Edges) -> ReadInfo {
    let mut reads: ReadInfo = Vec::new();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for (ti, x) in t.txns.iter().enumerate() {
        if x.status != Status::Ok {
            continue;
        }
        for (j, m) in t.mops_of(ti as u32).iter().enumerate() {
            if !m.known_read() {
                continue;
            }
            let k = m.key as usize;
            let list = t.list(m);
            let o = a.orders[k];
            let prefix = if o.source == NONE {
                list.is_empty()
            } else {
                let longest = t.list(&t.mops[o.source as usize]);
                list.len() <= longest.len() && longest[..list.len()] == *list
            };
            if !prefix {
                a.orders[k].compatible = false;
            }
            reads.push((ti as u32, x.mops + j as u32, prefix));
            if let Some(s) = a.read_state(m.key, list) {
                pairs.push((a.state_base[k] + s, ti as u32));
            }
            if let Some(&last) = list.last() {
                if let Some(e) = a.elem(m.key, last) {
                    let w = a.writer[e as usize];
                    if t.txns[w as usize].possible() {
                        edges.link(w, ti as u32, WR);
                    }
                }
            }
        }
    }
    let n_states = *a.state_base.last().unwrap_or(&0) as usize;
    let mut off = vec![0u32; n_states + 1];
    for &(s, _) in &pairs {
        off[s as usize + 1] += 1;
    }
    for i in 0..n_states {
        off[i + 1] += off[i];
    }
    let mut fill = off.clone();
    let mut readers = vec![0u32; pairs.len()];
    for (s, r) in pairs {
        readers[fill[s as usize] as usize] = r;
        fill[s as usize] += 1;
    }
    a.readers_off = off;
    a.readers = readers;
    reads
}

/// ww and rw edges into every append of a transaction that may have happened.
fn write_edges(t: &Txns, a: &Append, edges: &mut Edges) {
    for (e, &w) in a.writer.iter().enumerate() {
        let x = &t.txns[w as usize];
        if !x.possible() {
            continue;
        }
        let m = &t.mops[a.wmop[e] as usize];
        let s = a.prev_state(m.key, e as u32);
        if s > 0 {
            let prev = a.order(m.key)[s as usize - 1];
            if let Some(pe) = a.elem(m.key, prev) {
                let pw = a.writer[pe as usize];
                if t.txns[pw as usize].possible() {
                    edges.link(pw, w, WW);
                }
            }
        }
        for &r in a.readers_of(m.key, s) {
            edges.link(r, w, RW);
        }
    }
    let _ = NO_INDEX;
}
