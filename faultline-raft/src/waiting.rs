//! Client requests the driver holds while Raft works: proposals waiting for their log entry to
//! apply (by index), and reads waiting for their ReadIndex round. Each is answered exactly once:
//! with its result, or as unknown when leadership is lost (the entry may still commit).
//!
//! A transaction split into one entry per micro-op (the seeded bug `txn-split`) waits as a
//! group: each part is proposed once the one before it applied (so other entries interleave),
//! and the group is answered once its last part applied, or as unknown when any part is lost.

use std::collections::{HashMap, VecDeque};

use serde_json::Value;
use tokio::sync::oneshot;

use crate::kv::{Applied, Kv};
use crate::protocol::MicroOp;
use crate::request::Reply;
use crate::types::{Command, Entry};

/// What a read waiting for its round will read.
#[derive(Debug)]
pub enum ReadWhat {
    /// One key.
    Key(String),
    /// A read-only transaction.
    Txn(Vec<MicroOp>),
}

impl ReadWhat {
    /// The answer, read from `kv` now.
    pub fn serve(&self, kv: &Kv) -> Reply {
        match self {
            ReadWhat::Key(key) => Reply::Ok(kv.get(key)),
            ReadWhat::Txn(ops) => txn_reply(crate::txn::eval(kv, ops).map(|(r, _)| r)),
        }
    }
}

/// A transaction's evaluation as the client's answer.
pub fn txn_reply(result: Result<Vec<MicroOp>, String>) -> Reply {
    match result {
        Ok(ops) => Reply::Txn(ops),
        Err(why) => Reply::Aborted(why),
    }
}

/// A read waiting for its ReadIndex round (and then for the state machine to catch up).
#[derive(Debug)]
pub struct WaitingRead {
    /// What to read.
    pub what: ReadWhat,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Reply>,
}

/// Who waits for an entry.
#[derive(Debug)]
enum Waiter {
    /// A client, for this entry alone.
    One(oneshot::Sender<Reply>),
    /// The current part of split transaction `group`.
    Part { group: u64 },
}

/// A transaction proposed as one entry per micro-op, one after the other.
#[derive(Debug)]
struct Group {
    reply: oneshot::Sender<Reply>,
    /// Results of the parts applied so far.
    results: Vec<MicroOp>,
    /// Micro-ops not proposed yet.
    rest: VecDeque<MicroOp>,
}

/// The next part of a split transaction, for the driver to propose.
#[derive(Debug)]
pub struct NextPart {
    /// The group it belongs to.
    pub group: u64,
    /// The micro-op.
    pub op: MicroOp,
}

/// Proposals waiting for their entries, by log index.
#[derive(Debug, Default)]
pub struct Proposals {
    /// Index → (term proposed in, who waits).
    by_index: HashMap<u64, (u64, Waiter)>,
    groups: HashMap<u64, Group>,
    next_group: u64,
}

impl Proposals {
    /// `reply` waits for the entry proposed at `(index, term)`.
    pub fn insert(&mut self, index: u64, term: u64, reply: oneshot::Sender<Reply>) {
        self.by_index.insert(index, (term, Waiter::One(reply)));
    }

    /// Split transaction: `reply` waits for the entry at `(index, term)`, the first micro-op,
    /// then for each of `rest` in turn (see [`Proposals::applied`]).
    pub fn insert_split(
        &mut self,
        index: u64,
        term: u64,
        rest: Vec<MicroOp>,
        reply: oneshot::Sender<Reply>,
    ) {
        let group = self.next_group;
        self.next_group += 1;
        self.by_index.insert(index, (term, Waiter::Part { group }));
        self.groups.insert(
            group,
            Group {
                reply,
                results: Vec::new(),
                rest: rest.into(),
            },
        );
    }

    /// The next part of `group` was proposed at `(index, term)`.
    pub fn part_proposed(&mut self, group: u64, index: u64, term: u64) {
        self.by_index.insert(index, (term, Waiter::Part { group }));
    }

    /// The next part of `group` could not be proposed: earlier parts applied, so its outcome is
    /// unknown.
    pub fn abandon(&mut self, group: u64) {
        if let Some(g) = self.groups.remove(&group) {
            let _ = g.reply.send(Reply::Unknown(
                "the split transaction lost leadership between parts".into(),
            ));
        }
    }

    /// Entry `e` was applied with `result`: answer whoever waits for it. Returns the next part
    /// of a split transaction to propose, if there is one.
    pub fn applied(&mut self, e: &Entry, result: Applied) -> Option<NextPart> {
        let (term, waiter) = self.by_index.remove(&e.index)?;
        let answer = if term != e.term {
            Reply::Unknown("entry was replaced by another leader".into())
        } else {
            answer(&e.cmd, result)
        };
        match waiter {
            Waiter::One(reply) => {
                let _ = reply.send(answer);
                None
            }
            Waiter::Part { group } => self.part_done(group, answer),
        }
    }

    fn part_done(&mut self, group: u64, answer: Reply) -> Option<NextPart> {
        let op = match answer {
            Reply::Txn(mut ops) if ops.len() == 1 => ops.pop(),
            _ => None,
        };
        let Some(op) = op else {
            // A part that aborted or was lost: earlier parts may have applied, so the
            // transaction's outcome is unknown.
            if let Some(g) = self.groups.remove(&group) {
                let _ = g.reply.send(Reply::Unknown(
                    "a part of the split transaction did not commit".into(),
                ));
            }
            return None;
        };
        let g = self.groups.get_mut(&group)?;
        g.results.push(op);
        match g.rest.pop_front() {
            Some(op) => Some(NextPart { group, op }),
            None => {
                let g = self.groups.remove(&group)?;
                let _ = g.reply.send(Reply::Txn(g.results));
                None
            }
        }
    }

    /// Leadership was lost: every waiting proposal's outcome is unknown.
    pub fn lose_all(&mut self, why: &str) {
        for (_, (_, waiter)) in self.by_index.drain() {
            if let Waiter::One(reply) = waiter {
                let _ = reply.send(Reply::Unknown(why.to_string()));
            }
        }
        for (_, g) in self.groups.drain() {
            let _ = g.reply.send(Reply::Unknown(why.to_string()));
        }
    }
}

/// The answer to the client that proposed `cmd`, which applied with `result`.
fn answer(cmd: &Command, result: Applied) -> Reply {
    match (result, cmd) {
        (Applied::CasMismatch(v), _) => Reply::CasMismatch(v),
        (Applied::Txn(ops), _) => Reply::Txn(ops),
        (Applied::TxnAborted(why), _) => Reply::Aborted(why),
        (Applied::Done, Command::Put { value, .. }) => Reply::Ok(value.clone()),
        (Applied::Done, Command::Cas { to, .. }) => Reply::Ok(to.clone()),
        (Applied::Done, Command::Noop | Command::Txn { .. }) => Reply::Ok(Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn txn_entry(index: u64, term: u64, op: MicroOp) -> Entry {
        Entry {
            index,
            term,
            cmd: Command::Txn { ops: vec![op] },
        }
    }

    #[test]
    fn a_split_transaction_proposes_its_parts_one_by_one_and_answers_at_the_end() {
        let mut p = Proposals::default();
        let mut kv = Kv::default();
        let (tx, mut rx) = oneshot::channel();
        let a = MicroOp::Append {
            key: "x".into(),
            value: json!(1),
        };
        let r = MicroOp::Read {
            key: "x".into(),
            value: Value::Null,
        };
        p.insert_split(3, 1, vec![r], tx);
        let e = txn_entry(3, 1, a);
        let result = kv.apply(&e.cmd);
        let next = p.applied(&e, result).expect("the read is next");
        assert!(rx.try_recv().is_err(), "not answered before the last part");
        // Another client's append lands between the parts.
        kv.apply(
            &txn_entry(
                4,
                1,
                MicroOp::Append {
                    key: "x".into(),
                    value: json!(9),
                },
            )
            .cmd,
        );
        p.part_proposed(next.group, 5, 1);
        let e = txn_entry(5, 1, next.op);
        let result = kv.apply(&e.cmd);
        assert!(p.applied(&e, result).is_none());
        let Ok(Reply::Txn(ops)) = rx.try_recv() else {
            panic!("answered")
        };
        assert_eq!(ops[1].value(), &json!([1, 9]));
    }

    #[test]
    fn lost_parts_and_lost_leadership_answer_unknown() {
        let mut p = Proposals::default();
        let (tx, mut rx) = oneshot::channel();
        p.insert_split(3, 1, vec![], tx);
        let e = txn_entry(
            3,
            2,
            MicroOp::Read {
                key: "x".into(),
                value: Value::Null,
            },
        );
        assert!(p.applied(&e, Applied::Txn(vec![])).is_none());
        assert!(matches!(rx.try_recv(), Ok(Reply::Unknown(_))));
        let (tx, mut rx) = oneshot::channel();
        p.insert(7, 2, tx);
        let (tx2, mut rx2) = oneshot::channel();
        p.insert_split(8, 2, vec![], tx2);
        p.lose_all("lost leadership");
        assert!(matches!(rx.try_recv(), Ok(Reply::Unknown(_))));
        assert!(matches!(rx2.try_recv(), Ok(Reply::Unknown(_))));
        assert!(p.by_index.is_empty() && p.groups.is_empty());
    }
}
