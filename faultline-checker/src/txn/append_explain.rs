//! Why one list-append transaction depends on another: the key, the values and the read that
//! proves it, in words a person can check against the history.

use serde_json::Value;

use super::append::{Append, NONE};
use super::explain::Explainer;
use super::graph::{Rel, RW, WR, WW};
use super::report::StepWitness;
use super::show;
use super::txns::{MopKind, Txns};

impl Explainer for Append {
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
            WW => self.ww(t, a, b, an, bn),
            WR => self.wr(t, a, b, an, bn),
            RW => self.rw(t, a, b, an, bn),
            _ => None,
        }
    }

    fn bytes(&self) -> usize {
        Append::bytes(self)
    }
}

impl Append {
    /// Where `k`'s order came from, for explanations.
    fn source(&self, t: &Txns, k: u32) -> String {
        let o = &self.orders[k as usize];
        if o.source == NONE {
            format!("{} has a single append", show::key(t, k))
        } else {
            let reader = show::owner(t, o.source);
            format!(
                "{}'s order {} was read at index {}",
                show::key(t, k),
                show::list(t, self.order(k)),
                t.txns[reader as usize].index()
            )
        }
    }

    fn ww(&self, t: &Txns, a: u32, b: u32, an: &str, bn: &str) -> Option<StepWitness> {
        for (j, m) in t.mops_of(b).iter().enumerate() {
            if m.kind != MopKind::Append {
                continue;
            }
            let e = self.elem(m.key, m.value)?;
            let s = self.prev_state(m.key, e);
            if s == 0 {
                continue;
            }
            let prev = self.order(m.key)[s as usize - 1];
            let Some(pe) = self.elem(m.key, prev) else {
                continue;
            };
            if self.writer[pe as usize] != a {
                continue;
            }
            let k = show::key(t, m.key);
            let words = if self.pos[e as usize] == NONE {
                format!(
                    "{bn} appended {} to {k}, which no read saw, so it came after {}, the last \
                     element read, which {an} appended",
                    show::val(t, m.value),
                    show::val(t, prev)
                )
            } else {
                format!(
                    "{bn} appended {} to {k} right after {an} appended {} ({})",
                    show::val(t, m.value),
                    show::val(t, prev),
                    self.source(t, m.key)
                )
            };
            return Some(StepWitness {
                rel: "ww".into(),
                key: Some(t.atoms.json(t.keys[m.key as usize])),
                value: Some(t.atoms.json(prev)),
                value_next: Some(t.atoms.json(m.value)),
                a_mop_index: Some((self.wmop[pe as usize] - t.txns[a as usize].mops) as usize),
                b_mop_index: Some(j),
                process: None,
                explanation: words,
            });
        }
        None
    }

    fn wr(&self, t: &Txns, a: u32, b: u32, an: &str, bn: &str) -> Option<StepWitness> {
        for (j, m) in t.mops_of(b).iter().enumerate() {
            if !m.known_read() {
                continue;
            }
            let list = t.list(m);
            let Some(&last) = list.last() else { continue };
            let Some(e) = self.elem(m.key, last) else {
                continue;
            };
            if self.writer[e as usize] != a {
                continue;
            }
            return Some(StepWitness {
                rel: "wr".into(),
                key: Some(t.atoms.json(t.keys[m.key as usize])),
                value: Some(t.atoms.json(last)),
                value_next: None,
                a_mop_index: Some((self.wmop[e as usize] - t.txns[a as usize].mops) as usize),
                b_mop_index: Some(j),
                process: None,
                explanation: format!(
                    "{bn} read {} = {}, which ends with {an}'s append of {}",
                    show::key(t, m.key),
                    show::list(t, list),
                    show::val(t, last)
                ),
            });
        }
        None
    }

    fn rw(&self, t: &Txns, a: u32, b: u32, an: &str, bn: &str) -> Option<StepWitness> {
        for (j, m) in t.mops_of(b).iter().enumerate() {
            if m.kind != MopKind::Append {
                continue;
            }
            let e = self.elem(m.key, m.value)?;
            let s = self.prev_state(m.key, e);
            let read = t.mops_of(a).iter().enumerate().find(|(_, r)| {
                r.known_read() && r.key == m.key && self.read_state(m.key, t.list(r)) == Some(s)
            });
            let Some((i, r)) = read else { continue };
            let k = show::key(t, m.key);
            let list = t.list(r);
            let why = if self.pos[e as usize] == NONE {
                "which no read saw, so it came after everything read".to_string()
            } else {
                format!("the next element ({})", self.source(t, m.key))
            };
            let words = if list.is_empty() {
                format!(
                    "{an} read {k} = [] (empty), and {bn} appended {} to it, {why}",
                    show::val(t, m.value)
                )
            } else {
                format!(
                    "{an} read {k} = {}, which does not include {bn}'s append of {}, {why}",
                    show::list(t, list),
                    show::val(t, m.value)
                )
            };
            return Some(StepWitness {
                rel: "rw".into(),
                key: Some(t.atoms.json(t.keys[m.key as usize])),
                value: Some(list.last().map_or(Value::Null, |l| t.atoms.json(*l))),
                value_next: Some(t.atoms.json(m.value)),
                a_mop_index: Some(i),
                b_mop_index: Some(j),
                process: None,
                explanation: words,
            });
        }
        None
    }
}
