//! Transactions in the driver: a read-only transaction is served like a single read (ReadIndex,
//! then evaluated against the applied state); any other is one log entry, applied atomically.
//! The seeded transaction bugs (`txn-split`, `dirty-txn-read`, `stale-txn-read`) each change
//! one of these decisions here.

use tokio::sync::oneshot;

use super::Driver;
use crate::bugs::Bug;
use crate::core::Role;
use crate::protocol::MicroOp;
use crate::request::Reply;
use crate::types::Command;
use crate::waiting::{txn_reply, NextPart, ReadWhat};

impl Driver {
    /// A transaction: read-only ones are served like reads (ReadIndex), others are one log entry.
    pub(super) fn txn(&mut self, ops: Vec<MicroOp>, reply: oneshot::Sender<Reply>) {
        let bugs = &self.cfg.bugs;
        let leader = self.core.role() == Role::Leader;
        if bugs.has(Bug::TxnSplit) && ops.len() > 1 {
            // Bug `txn-split`: one entry per micro-op, so other entries interleave.
            return self.propose_split(ops, reply);
        }
        if !crate::txn::is_read_only(&ops) {
            return self.propose(Command::Txn { ops }, reply);
        }
        if bugs.has(Bug::StaleTxnRead) {
            // Bug `stale-txn-read`: any node answers from its local state.
            let _ = reply.send(ReadWhat::Txn(ops).serve(&self.kv));
            return;
        }
        if bugs.has(Bug::DirtyTxnRead) && leader {
            // Bug `dirty-txn-read`: the leader reads its own log, uncommitted entries included.
            let pending = self.core.entries_after(self.applied);
            let _ = reply.send(txn_reply(crate::txn::speculative(&self.kv, &pending, &ops)));
            return;
        }
        self.read_index(ReadWhat::Txn(ops), reply);
    }

    /// Bug `txn-split`: propose the first micro-op as a transaction of its own; the others follow
    /// one by one as each applies ([`Driver::propose_next_part`]).
    fn propose_split(&mut self, mut ops: Vec<MicroOp>, reply: oneshot::Sender<Reply>) {
        let rest = ops.split_off(1);
        match self.core.propose(Command::Txn { ops }) {
            Ok((index, term)) => self.writes.insert_split(index, term, rest, reply),
            Err(_) => {
                let _ = reply.send(self.not_leader());
            }
        }
    }

    /// Bug `txn-split`: the part before `next` applied; propose `next` now.
    pub(super) fn propose_next_part(&mut self, next: NextPart) {
        match self.core.propose(Command::Txn { ops: vec![next.op] }) {
            Ok((index, term)) => self.writes.part_proposed(next.group, index, term),
            Err(_) => self.writes.abandon(next.group),
        }
    }
}
