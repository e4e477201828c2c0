//! Building the list-append indices: element ids per append (checking that appends are unique),
//! each key's order from its longest committed read, and every committed read's state (with the
//! `wr` edge from the writer of its last element).

use super::append::{Append, Order, Read, NONE};
use super::atom::Atom;
use super::graph::{Edges, WR};
use super::show;
use super::txns::{MopKind, Status, Txns};
use super::TxnError;

/// Element ids for every append; unique appends are a requirement of the workload.
pub(crate) fn index_appends(t: &Txns) -> Result<Append, TxnError> {
    let nk = t.keys.len();
    let mut a = Append {
        key_off: vec![0; nk + 1],
        ..Append::default()
    };
    let mut ekey: Vec<u32> = Vec::new();
    for (ti, x) in t.txns.iter().enumerate() {
        let ms = t.mops_of(ti as u32);
        for (j, m) in ms.iter().enumerate() {
            if m.kind != MopKind::Append {
                continue;
            }
            a.writer.push(ti as u32);
            a.wmop.push(x.mops + j as u32);
            a.evalue.push(m.value);
            a.estatus.push(x.status);
            ekey.push(m.key);
            a.key_off[m.key as usize + 1] += 1;
            let later = ms[j + 1..]
                .iter()
                .any(|n| n.kind == MopKind::Append && n.key == m.key);
            a.intermediate.push(later);
        }
    }
    for k in 0..nk {
        a.key_off[k + 1] += a.key_off[k];
    }
    let mut fill = a.key_off.clone();
    a.by_value = vec![0; ekey.len()];
    for (e, &k) in ekey.iter().enumerate() {
        a.by_value[fill[k as usize] as usize] = e as u32;
        fill[k as usize] += 1;
    }
    for k in 0..nk {
        let (lo, hi) = (a.key_off[k] as usize, a.key_off[k + 1] as usize);
        let evalue = &a.evalue;
        a.by_value[lo..hi].sort_unstable_by_key(|&e| (evalue[e as usize], e));
        let dup = a.by_value[lo..hi]
            .windows(2)
            .find(|w| evalue[w[0] as usize] == evalue[w[1] as usize]);
        if let Some(w) = dup {
            let (first, second) = (w[0] as usize, w[1] as usize);
            return Err(TxnError::BadOp {
                index: t.txns[a.writer[second] as usize].invoke,
                line: None,
                message: format!(
                    "appends {} to key {}, which op {} also appends; list-append needs every \
                     appended value to be unique per key",
                    show::val(t, a.evalue[second]),
                    show::key(t, k as u32),
                    t.txns[a.writer[first] as usize].invoke
                ),
            });
        }
    }
    a.pos = vec![NONE; a.writer.len()];
    Ok(a)
}

/// Each key's order: its longest committed read, or its only append when nothing was read.
pub(crate) fn build_orders(t: &Txns, a: &mut Append) {
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
    let mut garbage: Vec<Atom> = Vec::new();
    let mut states = 0u32;
    a.orders.reserve(nk);
    a.state_base.reserve(nk);
    for k in 0..nk {
        let start = a.order_elems.len() as u32;
        let (mut dup_at, mut fail_at, mut source) = (NONE, NONE, NONE);
        let push = |a: &mut Append, e: Atom, id: Option<u32>| {
            if let Some(id) = id {
                a.pos[id as usize] = a.order_elems.len() as u32 - start;
            }
            a.order_elems.push(e);
            a.order_ids.push(id.unwrap_or(NONE));
        };
        if best[k].1 != NONE {
            source = best[k].1;
            garbage.clear();
            for (i, &e) in t.list(&t.mops[source as usize]).iter().enumerate() {
                let id = a.elem(k as u32, e);
                // A repeated value: its element already has a position, or it was garbage.
                let repeated = match id {
                    Some(id) => a.pos[id as usize] != NONE,
                    None => garbage.contains(&e),
                };
                if repeated {
                    dup_at = dup_at.min(i as u32);
                    continue;
                }
                if id.is_none() {
                    garbage.push(e);
                }
                let failed = id.is_some_and(|id| a.estatus[id as usize] == Status::Fail);
                if failed && fail_at == NONE {
                    fail_at = i as u32;
                }
                push(a, e, id);
            }
        } else if appends[k].0 == 1 {
            let m = &t.mops[appends[k].1 as usize];
            let id = a.elem(k as u32, m.value);
            push(a, m.value, id);
        }
        let len = a.order_elems.len() as u32 - start;
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

/// Per committed read: prefix check, its state, and its wr edge. Returns the reads.
pub(crate) fn index_reads(t: &Txns, a: &mut Append, edges: &mut Edges) -> Vec<Read> {
    let mut reads: Vec<Read> = Vec::new();
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
            // A prefix of a duplicate-free order ends at its own length: no lookup needed.
            let (state, last) = match list.last() {
                None => (Some(0), NONE),
                Some(_) if prefix && o.dup_at == NONE => {
                    let n = list.len() as u32;
                    (Some(n), a.order_ids[(o.start + n - 1) as usize])
                }
                Some(&v) => match a.elem(m.key, v) {
                    Some(e) => {
                        let p = a.pos[e as usize];
                        ((p != NONE).then_some(p + 1), e)
                    }
                    None => (None, NONE),
                },
            };
            reads.push(Read {
                txn: ti as u32,
                mop: x.mops + j as u32,
                prefix,
                last,
            });
            if let Some(s) = state {
                pairs.push((a.state_base[k] + s, ti as u32));
            }
            if last != NONE && a.estatus[last as usize] != Status::Fail {
                edges.link(a.writer[last as usize], ti as u32, WR);
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
