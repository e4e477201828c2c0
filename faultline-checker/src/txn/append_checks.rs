//! List-append anomalies found without cycles: G1a (aborted read), G1b (intermediate read),
//! duplicate-elements, incompatible-order, internal, future-read, dirty-update, lost-update.
//! Reads that are prefixes of their key's order share its answers (a failed or repeated
//! element at position p is in every such read longer than p), so most reads cost O(1).

use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use serde_json::Value;
use smallvec::SmallVec;

use super::append::{Append, Read, NONE};
use super::atom::Atom;
use super::report::{Collector, OpWitness, Witness};
use super::show::{self, list_json, mop_json, txn_op};
use super::txns::{Mop, MopKind, Status, Txns};

/// Run every check and add what it finds to `c`.
pub(crate) fn check(t: &Txns, a: &Append, reads: &[Read], c: &mut Collector) {
    per_read(t, a, reads, c);
    incompatible_orders(t, a, reads, c);
    for (ti, x) in t.txns.iter().enumerate() {
        if x.status == Status::Ok {
            internal(t, ti as u32, c);
            future_read(t, ti as u32, c);
        }
    }
    dirty_updates(t, a, c);
    lost_updates(t, c);
}

fn op_witness(
    t: &Txns,
    reader: u32,
    m: &Mop,
    writer: Option<u32>,
    element: Option<Atom>,
    words: String,
) -> Witness {
    Witness::Op(Box::new(OpWitness {
        op: txn_op(t, reader),
        mop: mop_json(t, m),
        writer: writer.map(|w| txn_op(t, w)),
        element: element.map(|e| t.atoms.json(e)),
        expected: None,
        duplicates: None,
        explanation: vec![words],
    }))
}

fn per_read(t: &Txns, a: &Append, reads: &[Read], c: &mut Collector) {
    for rd in reads {
        let (r, mi, prefix) = (rd.txn, rd.mop, rd.prefix);
        let m = &t.mops[mi as usize];
        let list = t.list(m);
        let o = a.orders[m.key as usize];
        let failed = if prefix {
            (o.fail_at != NONE && list.len() > o.fail_at as usize).then(|| list[o.fail_at as usize])
        } else {
            list.iter().copied().find(|&e| {
                a.elem(m.key, e)
                    .is_some_and(|id| a.estatus[id as usize] == Status::Fail)
            })
        };
        if let Some(e) = failed {
            let w = a.elem(m.key, e).map(|id| a.writer[id as usize]);
            c.add("G1a", || {
                let words = format!(
                    "{} read {} = {}, which includes {}, appended by {}, which failed (aborted)",
                    show::txn(t, r),
                    show::key(t, m.key),
                    show::list(t, list),
                    show::val(t, e),
                    w.map_or("?".into(), |w| show::txn(t, w))
                );
                op_witness(t, r, m, w, Some(e), words)
            });
        }
        if let Some(&last) = list.last() {
            if let Some(id) =
                (rd.last != NONE && a.intermediate[rd.last as usize]).then_some(rd.last)
            {
                let w = a.writer[id as usize];
                if w != r {
                    c.add("G1b", || {
                        let words = format!(
                            "{} read {} = {}, ending in {}, but {} appended more to {} after {}: \
                             an intermediate state",
                            show::txn(t, r),
                            show::key(t, m.key),
                            show::list(t, list),
                            show::val(t, last),
                            show::txn(t, w),
                            show::key(t, m.key),
                            show::val(t, last)
                        );
                        op_witness(t, r, m, Some(w), Some(last), words)
                    });
                }
            }
        }
        let dup = if prefix {
            o.dup_at != NONE && list.len() > o.dup_at as usize
        } else {
            let mut seen = FxHashSet::default();
            !list.iter().all(|e| seen.insert(*e))
        };
        if dup {
            c.add("duplicate-elements", || duplicates(t, r, m, list));
        }
    }
}

fn duplicates(t: &Txns, r: u32, m: &Mop, list: &[Atom]) -> Witness {
    let mut counts: Vec<(Atom, usize)> = Vec::new();
    for &e in list {
        match counts.iter_mut().find(|(x, _)| *x == e) {
            Some(p) => p.1 += 1,
            None => counts.push((e, 1)),
        }
    }
    counts.retain(|p| p.1 > 1);
    let shown: Vec<String> = counts
        .iter()
        .map(|(e, n)| format!("{} ({n} times)", show::val(t, *e)))
        .collect();
    Witness::Op(Box::new(OpWitness {
        op: txn_op(t, r),
        mop: mop_json(t, m),
        writer: None,
        element: None,
        expected: None,
        duplicates: Some(counts.iter().map(|(e, n)| (t.atoms.json(*e), *n)).collect()),
        explanation: vec![format!(
            "{} read {} = {}, which repeats {}; every value is appended once",
            show::txn(t, r),
            show::key(t, m.key),
            show::list(t, list),
            shown.join(", ")
        )],
    }))
}

fn incompatible_orders(t: &Txns, a: &Append, reads: &[Read], c: &mut Collector) {
    let mut by_key: FxHashMap<u32, Vec<&[Atom]>> = FxHashMap::default();
    for rd in reads {
        let m = &t.mops[rd.mop as usize];
        if !a.orders[m.key as usize].compatible && m.len > 0 {
            by_key.entry(m.key).or_default().push(t.list(m));
        }
    }
    let mut keys: Vec<u32> = by_key.keys().copied().collect();
    keys.sort_unstable();
    for k in keys {
        let mut lists = by_key.remove(&k).unwrap_or_default();
        lists.sort_by(|x, y| x.len().cmp(&y.len()).then_with(|| x.cmp(y)));
        lists.dedup();
        let pair = lists
            .windows(2)
            .find(|w| w[1].len() < w[0].len() || w[1][..w[0].len()] != *w[0]);
        if let Some(w) = pair {
            let (x, y) = (w[0], w[1]);
            c.add("incompatible-order", || Witness::IncompatibleOrder {
                key: t.atoms.json(t.keys[k as usize]),
                values: vec![list_json(t, x), list_json(t, y)],
                explanation: vec![format!(
                    "reads of {} saw {} and {}; neither is a prefix of the other, so no single \
                     order of appends explains both",
                    show::key(t, k),
                    show::list(t, x),
                    show::list(t, y)
                )],
            });
        }
    }
}

/// What a transaction expects to read next from a key, given its own earlier micro-ops: a
/// list it read (borrowed) followed by its own appends since, or an unknown prefix followed by
/// its own appends.
#[derive(Clone)]
struct Expect<'a> {
    base: Option<&'a [Atom]>,
    tail: SmallVec<[Atom; 4]>,
}

impl Expect<'_> {
    fn matches(&self, list: &[Atom]) -> bool {
        let n = self.tail.len();
        match self.base {
            Some(b) => {
                list.len() == b.len() + n
                    && list[..b.len()] == *b
                    && list[b.len()..] == self.tail[..]
            }
            None => list.len() >= n && list[list.len() - n..] == self.tail[..],
        }
    }
}

fn internal(t: &Txns, ti: u32, c: &mut Collector) {
    let ms = t.mops_of(ti);
    // Only a read of a key the transaction touched before can contradict it.
    let repeats = ms
        .iter()
        .enumerate()
        .any(|(i, m)| m.known_read() && ms[..i].iter().any(|p| p.key == m.key));
    if !repeats {
        return;
    }
    let mut state: SmallVec<[(u32, Expect); 6]> = SmallVec::new();
    for m in ms {
        let slot = state.iter().position(|(k, _)| *k == m.key);
        match m.kind {
            MopKind::Append => match slot {
                Some(i) => state[i].1.tail.push(m.value),
                None => state.push((
                    m.key,
                    Expect {
                        base: None,
                        tail: SmallVec::from_slice(&[m.value]),
                    },
                )),
            },
            MopKind::Read if m.known_read() => {
                let list = t.list(m);
                let fresh = Expect {
                    base: Some(list),
                    tail: SmallVec::new(),
                };
                match slot {
                    Some(i) if !state[i].1.matches(list) => {
                        let exp = state[i].1.clone();
                        c.add("internal", || internal_witness(t, ti, m, &exp));
                        return;
                    }
                    Some(i) => state[i].1 = fresh,
                    None => state.push((m.key, fresh)),
                }
            }
            _ => {}
        }
    }
}

fn internal_witness(t: &Txns, ti: u32, m: &Mop, exp: &Expect) -> Witness {
    let (expected, shown) = match exp.base {
        Some(b) => {
            let l: Vec<Atom> = b.iter().chain(exp.tail.iter()).copied().collect();
            (list_json(t, &l), show::list(t, &l))
        }
        None => {
            let mut v = vec![Value::String("...".into())];
            v.extend(exp.tail.iter().map(|a| t.atoms.json(*a)));
            let inner = show::list(t, &exp.tail);
            (Value::Array(v), format!("[... {}", &inner[1..]))
        }
    };
    Witness::Op(Box::new(OpWitness {
        op: txn_op(t, ti),
        mop: mop_json(t, m),
        writer: None,
        element: None,
        expected: Some(expected),
        duplicates: None,
        explanation: vec![format!(
            "{} read {} = {}, but its own earlier micro-ops say it must be {}",
            show::txn(t, ti),
            show::key(t, m.key),
            show::list(t, t.list(m)),
            shown
        )],
    }))
}

fn future_read(t: &Txns, ti: u32, c: &mut Collector) {
    let ms = t.mops_of(ti);
    for (i, m) in ms.iter().enumerate() {
        if m.kind != MopKind::Append {
            continue;
        }
        let early = ms[..i]
            .iter()
            .find(|r| r.known_read() && r.key == m.key && t.list(r).contains(&m.value));
        if let Some(r) = early {
            c.add("future-read", || {
                let words = format!(
                    "{} read {} = {}, which includes {}, a value it only appends later",
                    show::txn(t, ti),
                    show::key(t, r.key),
                    show::list(t, t.list(r)),
                    show::val(t, m.value)
                );
                op_witness(t, ti, r, None, Some(m.value), words)
            });
            return;
        }
    }
}

fn dirty_updates(t: &Txns, a: &Append, c: &mut Collector) {
    for k in 0..t.keys.len() as u32 {
        // The initial state counts as committed.
        let (mut t1, mut t1_status) = (None::<u32>, Status::Ok);
        let mut vs: Vec<Atom> = Vec::new();
        for (p, &v) in a.order(k).iter().enumerate() {
            vs.push(v);
            let id = a.order_id(k, p as u32);
            let s2 = id.map_or(Status::Info, |e| a.estatus[e as usize]);
            let w = id.map(|e| a.writer[e as usize]);
            match (t1_status, s2) {
                (Status::Fail, Status::Ok) => {
                    if let (Some(f), Some(ok)) = (t1, w) {
                        let values = vs.clone();
                        c.add("dirty-update", || Witness::DirtyUpdate {
                            key: t.atoms.json(t.keys[k as usize]),
                            values: values.iter().map(|x| t.atoms.json(*x)).collect(),
                            txns: vec![txn_op(t, f), txn_op(t, ok)],
                            explanation: vec![format!(
                                "{} appended to {} after {}, which failed; the order {} puts \
                                 committed data on top of aborted data",
                                show::txn(t, ok),
                                show::key(t, k),
                                show::txn(t, f),
                                show::list(t, &values)
                            )],
                        });
                    }
                    (t1, t1_status, vs) = (w, Status::Ok, vec![v]);
                }
                (_, Status::Info) | (Status::Fail, Status::Fail) => {}
                (_, s) => (t1, t1_status, vs) = (w, s, vec![v]),
            }
        }
    }
}

fn lost_updates(t: &Txns, c: &mut Collector) {
    let mut groups: FxHashMap<(u32, u32, u64), Vec<(u32, u32)>> = FxHashMap::default();
    for (ti, x) in t.txns.iter().enumerate() {
        if x.status != Status::Ok {
            continue;
        }
        let ms = t.mops_of(ti as u32);
        let mut read: SmallVec<[(u32, u32); 6]> = SmallVec::new();
        let mut wrote: SmallVec<[u32; 6]> = SmallVec::new();
        for (j, m) in ms.iter().enumerate() {
            if m.known_read() && !read.iter().any(|r| r.0 == m.key) && !wrote.contains(&m.key) {
                read.push((m.key, j as u32));
            } else if m.kind == MopKind::Append && !wrote.contains(&m.key) {
                wrote.push(m.key);
                if let Some(&(_, j)) = read.iter().find(|r| r.0 == m.key) {
                    let list = t.list(&ms[j as usize]);
                    let mut h = FxHasher::default();
                    list.hash(&mut h);
                    let g = groups
                        .entry((m.key, list.len() as u32, h.finish()))
                        .or_default();
                    g.push((ti as u32, x.mops + j));
                }
            }
        }
    }
    let mut cases: Vec<Vec<(u32, u32)>> = groups.into_values().filter(|g| g.len() > 1).collect();
    cases.sort_unstable();
    for g in cases {
        let first = t.list(&t.mops[g[0].1 as usize]);
        let same: Vec<u32> = g
            .iter()
            .filter(|(_, mi)| t.list(&t.mops[*mi as usize]) == first)
            .map(|(ti, _)| *ti)
            .collect();
        if same.len() < 2 {
            continue;
        }
        let k = t.mops[g[0].1 as usize].key;
        c.add("lost-update", || {
            let names: Vec<String> = same.iter().map(|x| show::txn(t, *x)).collect();
            Witness::LostUpdate {
                key: t.atoms.json(t.keys[k as usize]),
                value: list_json(t, first),
                txns: same.iter().map(|x| txn_op(t, *x)).collect(),
                explanation: vec![format!(
                    "{} committed transactions read {} = {} and then appended to it: each \
                     overwrote a state the others also read ({})",
                    same.len(),
                    show::key(t, k),
                    show::list(t, first),
                    names.join("; ")
                )],
            }
        });
    }
}
