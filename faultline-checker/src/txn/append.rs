//! List-append inference (Elle's `elle.list-append`). Every appended value is unique per key,
//! so each committed read of a list shows a prefix of that key's version order. The longest
//! read of a key *is* its version order (every other read must be a prefix of it, or the orders
//! are incompatible); an append never read came after the last element any read saw.
//!
//! From the order: `ww` from the writer of each element to the writer of the next, `wr` from
//! the writer of a read's last element to the reader, `rw` from every reader of a state to the
//! writer of the element that came next. Non-cycle anomalies live in `append_checks.rs`,
//! explanations of edges in `append_explain.rs`, building the indices in `append_index.rs`.

use super::atom::Atom;
use super::graph::{Edges, RW, WW};
use super::report::Collector;
use super::txns::{Status, Txns};
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

/// The indices built over a list-append history. Elements (appended values) are numbered in
/// append order; each key's elements are also kept sorted by value, so finding the element of
/// a value is a binary search in one key's short slice rather than a probe into one huge hash
/// table (cache misses dominated that). States: state `s` of key `k` is "the list equals the
/// first `s` elements of `k`'s order"; its global id is `state_base[k] + s`.
#[derive(Debug, Default)]
pub(crate) struct Append {
    /// Element -> the transaction that appended it.
    pub writer: Vec<u32>,
    /// Element -> its global micro-op index.
    pub wmop: Vec<u32>,
    /// Element -> its value.
    pub evalue: Vec<Atom>,
    /// Element -> how its writer ended (a compact copy: random access stays in cache).
    pub estatus: Vec<Status>,
    /// Element -> appended again to the same key later in the same transaction.
    pub intermediate: Vec<bool>,
    /// Element -> position in its key's order, or [`NONE`] when never read.
    pub pos: Vec<u32>,
    /// Key -> its elements sorted by value: `by_value[key_off[k]..key_off[k + 1]]`.
    pub key_off: Vec<u32>,
    pub by_value: Vec<u32>,
    /// Key -> order (absent: `len == 0`).
    pub orders: Vec<Order>,
    pub order_elems: Vec<Atom>,
    /// Parallel to `order_elems`: the element at each position, or [`NONE`] for a value that
    /// nobody appended.
    pub order_ids: Vec<u32>,
    pub state_base: Vec<u32>,
    /// Readers of each state (compressed rows over global state ids).
    pub readers_off: Vec<u32>,
    pub readers: Vec<u32>,
}

impl Append {
    /// The element id of `v` appended to `k`.
    #[inline]
    pub(crate) fn elem(&self, k: u32, v: Atom) -> Option<u32> {
        let s = &self.by_value
            [self.key_off[k as usize] as usize..self.key_off[k as usize + 1] as usize];
        s.binary_search_by(|&e| self.evalue[e as usize].cmp(&v))
            .ok()
            .map(|i| s[i])
    }

    /// The order of key `k`.
    pub(crate) fn order(&self, k: u32) -> &[Atom] {
        let o = &self.orders[k as usize];
        &self.order_elems[o.start as usize..(o.start + o.len) as usize]
    }

    /// The element at position `p` of key `k`'s order, if someone appended it.
    pub(crate) fn order_id(&self, k: u32, p: u32) -> Option<u32> {
        let id = self.order_ids[(self.orders[k as usize].start + p) as usize];
        (id != NONE).then_some(id)
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
        (self.writer.capacity() + self.wmop.capacity() + self.pos.capacity()) * 4
            + self.evalue.capacity() * 8
            + self.estatus.capacity()
            + self.intermediate.capacity()
            + (self.key_off.capacity() + self.by_value.capacity()) * 4
            + self.orders.capacity() * std::mem::size_of::<Order>()
            + self.order_elems.capacity() * 8
            + self.order_ids.capacity() * 4
            + (self.state_base.capacity() + self.readers_off.capacity() + self.readers.capacity())
                * 4
    }
}

/// One committed read whose result is known, for the non-cycle checks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Read {
    pub txn: u32,
    /// Global micro-op index.
    pub mop: u32,
    /// The list is a prefix of the key's longest read.
    pub prefix: bool,
    /// The element of its last value, or [`NONE`] (empty list, or nobody appended it).
    pub last: u32,
}

/// Build the indices and the `wr` edges; returns the committed reads for the checks.
pub(crate) fn prepare(t: &Txns, edges: &mut Edges) -> Result<(Append, Vec<Read>), TxnError> {
    let mut a = super::append_index::index_appends(t)?;
    super::append_index::build_orders(t, &mut a);
    let reads = super::append_index::index_reads(t, &mut a, edges);
    Ok((a, reads))
}

/// The non-cycle anomalies (independent of the edges, so they may run alongside them).
pub(crate) fn checks(t: &Txns, a: &Append, reads: &[Read], c: &mut Collector) {
    super::append_checks::check(t, a, reads, c);
}

/// ww and rw edges into every append of a transaction that may have happened.
pub(crate) fn write_edges(t: &Txns, a: &Append, edges: &mut Edges) {
    for (e, &w) in a.writer.iter().enumerate() {
        if a.estatus[e] == Status::Fail {
            continue;
        }
        let m = &t.mops[a.wmop[e] as usize];
        let s = a.prev_state(m.key, e as u32);
        if s > 0 {
            if let Some(pe) = a.order_id(m.key, s - 1) {
                if a.estatus[pe as usize] != Status::Fail {
                    edges.link(a.writer[pe as usize], w, WW);
                }
            }
        }
        for &r in a.readers_of(m.key, s) {
            edges.link(r, w, RW);
        }
    }
}
