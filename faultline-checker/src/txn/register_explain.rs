//! Why one rw-register transaction depends on another, naming the version-order rule used.

use super::atom::Atom;
use super::explain::Explainer;
use super::graph::{Rel, RW, WR, WW};
use super::register::{Register, Source};
use super::report::StepWitness;
use super::show;
use super::txns::{MopKind, Status, Txns};

/// (micro-op position, key, value) of each external access of one kind.
type Accesses = Vec<(usize, u32, Atom)>;

/// External writes of a transaction: (micro-op position, key, value) of each key's last write.
fn ext_writes(t: &Txns, ti: u32) -> Vec<(usize, u32, Atom)> {
    let ms = t.mops_of(ti);
    ms.iter()
        .enumerate()
        .filter(|(j, m)| {
            m.kind == MopKind::Write
                && !ms[j + 1..]
                    .iter()
                    .any(|n| n.kind == MopKind::Write && n.key == m.key)
        })
        .map(|(j, m)| (j, m.key, m.value))
        .collect()
}

/// External reads of a committed transaction: each key's first access, when it is a read.
fn ext_reads(t: &Txns, ti: u32) -> Vec<(usize, u32, Atom)> {
    if t.txns[ti as usize].status != Status::Ok {
        return Vec::new();
    }
    let ms = t.mops_of(ti);
    ms.iter()
        .enumerate()
        .filter(|(j, m)| m.known_read() && !ms[..*j].iter().any(|p| p.key == m.key))
        .map(|(j, m)| (j, m.key, m.value))
        .collect()
}

impl Register {
    fn why(&self, t: &Txns, k: u32, a: Atom, b: Atom) -> Option<String> {
        let src = self.version(k, a, b)?;
        let key = show::key(t, k);
        let (va, vb) = (show::val(t, a), show::val(t, b));
        let idx = |x: u32| t.txns[x as usize].index();
        Some(match src {
            Source::Initial => format!("{key} = {vb} came after the initial null"),
            Source::WritesFollowReads(x) => {
                format!(
                    "the transaction at index {} read {key} = {va} and then wrote {vb}",
                    idx(x)
                )
            }
            Source::Sequential(x, y) => format!(
                "process {} saw {key} = {va} at index {} and then {key} = {vb} at index {}, and \
                 keys are assumed sequential",
                t.txns[x as usize].process,
                idx(x),
                idx(y)
            ),
            Source::Linearizable(x, y) => format!(
                "index {} (last saw {key} = {va}) completed before index {} (first saw {key} = \
                 {vb}) was invoked, and keys are assumed linearizable",
                idx(x),
                idx(y)
            ),
        })
    }

    fn pair(
        &self,
        t: &Txns,
        (xs, ys): (Accesses, Accesses),
        rel: &str,
        words: impl Fn(&str, &str, &str, &str) -> String,
    ) -> Option<StepWitness> {
        for &(i, k, va) in &xs {
            for &(j, kb, vb) in &ys {
                if kb != k {
                    continue;
                }
                let Some(why) = self.why(t, k, va, vb) else {
                    continue;
                };
                return Some(StepWitness {
                    rel: rel.into(),
                    key: Some(t.atoms.json(t.keys[k as usize])),
                    value: Some(t.atoms.json(va)),
                    value_next: Some(t.atoms.json(vb)),
                    a_mop_index: Some(i),
                    b_mop_index: Some(j),
                    process: None,
                    explanation: words(
                        &show::key(t, k),
                        &show::val(t, va),
                        &show::val(t, vb),
                        &why,
                    ),
                });
            }
        }
        None
    }
}

impl Explainer for Register {
    fn explain(
        &self,
        t: &Txns,
        a: u32,
        b: u32,
        rel: Rel,
        an: &str,
        bn: &str,
    ) -> Option<StepWitness> {
        match rel {
            WW => self.pair(
                t,
                (ext_writes(t, a), ext_writes(t, b)),
                "ww",
                |k, va, vb, why| {
                    format!(
                        "{an} set {k} = {va}, and {bn} set it to {vb}, which came later ({why})"
                    )
                },
            ),
            RW => self.pair(
                t,
                (ext_reads(t, a), ext_writes(t, b)),
                "rw",
                |k, va, vb, why| {
                    format!(
                        "{an} read {k} = {va}, and {bn} set it to {vb}, which came later ({why})"
                    )
                },
            ),
            WR => {
                for (i, k, v) in ext_writes(t, a) {
                    if let Some(&(j, _, _)) = ext_reads(t, b).iter().find(|r| r.1 == k && r.2 == v)
                    {
                        return Some(StepWitness {
                            rel: "wr".into(),
                            key: Some(t.atoms.json(t.keys[k as usize])),
                            value: Some(t.atoms.json(v)),
                            value_next: None,
                            a_mop_index: Some(i),
                            b_mop_index: Some(j),
                            process: None,
                            explanation: format!(
                                "{bn} read {} = {}, which {an} wrote",
                                show::key(t, k),
                                show::val(t, v)
                            ),
                        });
                    }
                }
                None
            }
            _ => None,
        }
    }

    fn bytes(&self) -> usize {
        self.writes.capacity() * 32 + self.readers.capacity() * 16 + self.versions.capacity() * 24
    }
}
