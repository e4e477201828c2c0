//! rw-register anomalies found without cycles: internal (a read that contradicts the
//! transaction's own earlier read or write of the key), G1a (a read of a failed transaction's
//! write), G1b (a read of another transaction's overwritten, intermediate write) and
//! lost-update (committed transactions that read the same version of a key and all wrote it).

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::atom::Atom;
use super::register::Register;
use super::report::{Collector, OpWitness, Witness};
use super::show::{self, mop_json, txn_op};
use super::txns::{Mop, MopKind, Status, Txns};

/// Run every check and add what it finds to `c`.
pub(crate) fn check(t: &Txns, r: &Register, c: &mut Collector) {
    let mut lost: FxHashMap<(u32, Atom), Vec<u32>> = FxHashMap::default();
    for (ti, x) in t.txns.iter().enumerate() {
        if x.status != Status::Ok {
            continue;
        }
        let ti = ti as u32;
        internal(t, ti, c);
        let ms = t.mops_of(ti);
        let mut read: SmallVec<[(u32, Atom); 6]> = SmallVec::new();
        let mut wrote: SmallVec<[u32; 6]> = SmallVec::new();
        for m in ms {
            match m.kind {
                MopKind::Read if m.known_read() => {
                    dirty_reads(t, r, ti, m, c);
                    if !wrote.contains(&m.key) && !read.iter().any(|p| p.0 == m.key) {
                        read.push((m.key, m.value));
                    }
                }
                MopKind::Write if !wrote.contains(&m.key) => {
                    wrote.push(m.key);
                    if let Some(&(_, v)) = read.iter().find(|p| p.0 == m.key) {
                        lost.entry((m.key, v)).or_default().push(ti);
                    }
                }
                _ => {}
            }
        }
    }
    let mut cases: Vec<((u32, Atom), Vec<u32>)> =
        lost.into_iter().filter(|(_, v)| v.len() > 1).collect();
    cases.sort_unstable();
    for ((k, v), txns) in cases {
        c.add("lost-update", || {
            let names: Vec<String> = txns.iter().map(|x| show::txn(t, *x)).collect();
            Witness::LostUpdate {
                key: t.atoms.json(t.keys[k as usize]),
                value: t.atoms.json(v),
                txns: txns.iter().map(|x| txn_op(t, *x)).collect(),
                explanation: vec![format!(
                    "{} committed transactions read {} = {} and then wrote it: each overwrote a \
                     version the others also read ({})",
                    txns.len(),
                    show::key(t, k),
                    show::val(t, v),
                    names.join("; ")
                )],
            }
        });
    }
}

fn op_witness(
    t: &Txns,
    ti: u32,
    m: &Mop,
    writer: Option<u32>,
    expected: Option<Atom>,
    words: String,
) -> Witness {
    Witness::Op(Box::new(OpWitness {
        op: txn_op(t, ti),
        mop: mop_json(t, m),
        writer: writer.map(|w| txn_op(t, w)),
        element: writer.map(|_| t.atoms.json(m.value)),
        expected: expected.map(|e| t.atoms.json(e)),
        duplicates: None,
        explanation: vec![words],
    }))
}

/// G1a and G1b for one read.
fn dirty_reads(t: &Txns, r: &Register, ti: u32, m: &Mop, c: &mut Collector) {
    let Some(w) = r.writes.get(&(m.key, m.value)) else {
        return;
    };
    if w.txn == ti {
        return;
    }
    let writer = &t.txns[w.txn as usize];
    if writer.status == Status::Fail {
        c.add("G1a", || {
            let words = format!(
                "{} read {} = {}, written by {}, which failed (aborted)",
                show::txn(t, ti),
                show::key(t, m.key),
                show::val(t, m.value),
                show::txn(t, w.txn)
            );
            op_witness(t, ti, m, Some(w.txn), None, words)
        });
    } else if !w.external {
        c.add("G1b", || {
            let words = format!(
                "{} read {} = {}, which {} wrote and then overwrote within the same \
                 transaction: an intermediate state",
                show::txn(t, ti),
                show::key(t, m.key),
                show::val(t, m.value),
                show::txn(t, w.txn)
            );
            op_witness(t, ti, m, Some(w.txn), None, words)
        });
    }
}

/// A read must return the transaction's own last write of the key, or what it read before.
fn internal(t: &Txns, ti: u32, c: &mut Collector) {
    let ms = t.mops_of(ti);
    if ms.len() < 2 {
        return;
    }
    let mut state: SmallVec<[(u32, Atom); 6]> = SmallVec::new();
    for m in ms {
        let slot = state.iter().position(|p| p.0 == m.key);
        match m.kind {
            MopKind::Write => match slot {
                Some(i) => state[i].1 = m.value,
                None => state.push((m.key, m.value)),
            },
            MopKind::Read if m.known_read() => match slot {
                Some(i) if state[i].1 != m.value => {
                    let expected = state[i].1;
                    c.add("internal", || {
                        let words = format!(
                            "{} read {} = {}, but its own earlier micro-ops say it must be {}",
                            show::txn(t, ti),
                            show::key(t, m.key),
                            show::val(t, m.value),
                            show::val(t, expected)
                        );
                        op_witness(t, ti, m, None, Some(expected), words)
                    });
                    return;
                }
                Some(_) => {}
                None => state.push((m.key, m.value)),
            },
            _ => {}
        }
    }
}
