//! Client requests the driver holds while Raft works: proposals waiting for their log entry to
//! apply (by index), and reads waiting for their ReadIndex round. Each is answered exactly once:
//! with its result, or as unknown when leadership is lost (the entry may still commit).
//!
//! A transaction split into one entry per micro-op (the seeded bug `txn-split`) waits as a
//! group: it is answered once its last part applied, or as unknown when any part is lost.

use std::collections::HashMap;

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
    /// Part `pos` of split transaction `group`.
    Part { group: u64, pos: usize },
}

/// A transaction proposed as one entry per micro-op.
#[derive(Debug)]
struct Group {
    reply: oneshot::Sender<Reply>,
    results: Vec<Option<MicroOp>>,
    left: usize,
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

    /// `reply` waits for every entry of `parts` (one per micro-op, in order).
    pub fn insert_split(&mut self, parts: &[(u64, u64)], reply: oneshot::Sender<Reply>) {
        let group = self.next_group;
        self.next_group += 1;
        for (pos, (index, term)) in parts.iter().enumerate() {
            self.by_index
                .insert(*index, (*term, Waiter::Part { group, pos }));
        }
        self.groups.insert(
            group,
            Group {
                reply,
                results: vec![None; parts.len()],
                left: parts.len(),
            },
        );
    }

    /// Entry `e` was applied with `result`: answer whoever waits for it.
    pub fn applied(&mut self, e: &Entry, result: Applied) {
        let Some((term, waiter)) = self.by_index.remove(&e.index) else {
            return;
        };
        let answer = if term != e.term {
            Reply::Unknown("entry was replaced by another leader".into())
        } else {
            answer(&e.cmd, result)
        };
        match waiter {
            Waiter::One(reply) => {
                let _ = reply.send(answer);
            }
            Waiter::Part { group, pos } => self.part_done(group, pos, answer),
        }
    }

    fn part_done(&mut self, group: u64, pos: usize, answer: Reply) {
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
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
            return;
        };
        g.results[pos] = Some(op);
        g.left -= 1;
        if g.left == 0 {
            if let Some(g) = self.groups.remove(&group) {
                let ops = g.results.into_iter().flatten().collect();
                let _ = g.reply.send(Reply::Txn(ops));
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
    fn a_split_transaction_is_answered_once_all_parts_applied() {
        let mut p = Proposals::default();
        let mut kv = Kv::default();
        let (tx, mut rx) = oneshot::channel();
        p.insert_split(&[(3, 1), (5, 1)], tx);
        let a = MicroOp::Append {
            key: "x".into(),
            value: json!(1),
        };
        let r = MicroOp::Read {
            key: "x".into(),
            value: Value::Null,
        };
        for e in [txn_entry(3, 1, a), txn_entry(5, 1, r)] {
            let result = kv.apply(&e.cmd);
            p.applied(&e, result);
        }
        let Ok(Reply::Txn(ops)) = rx.try_recv() else {
            panic!("answered")
        };
        assert_eq!(ops[1].value(), &json!([1]));
    }

    #[test]
    fn lost_parts_and_lost_leadership_answer_unknown() {
        let mut p = Proposals::default();
        let (tx, mut rx) = oneshot::channel();
        p.insert_split(&[(3, 1), (4, 1)], tx);
        let e = txn_entry(
            3,
            2,
            MicroOp::Read {
                key: "x".into(),
                value: Value::Null,
            },
        );
        p.applied(&e, Applied::Txn(vec![]));
        assert!(matches!(rx.try_recv(), Ok(Reply::Unknown(_))));
        let (tx, mut rx) = oneshot::channel();
        p.insert(7, 2, tx);
        p.lose_all("lost leadership");
        assert!(matches!(rx.try_recv(), Ok(Reply::Unknown(_))));
        assert!(p.by_index.is_empty() && p.groups.is_empty());
    }
}
