//! Linearizable reads by ReadIndex (Raft thesis §6.4): the leader notes its commit index, confirms
//! it is still leader with one heartbeat round acknowledged by a majority, and the read is served
//! once the state machine has applied that index. Reads arriving together share one round.
//!
//! Rounds also time leases (§6.4.1): every heartbeat starts a round, and [`Core::lease_round`]
//! names the newest round a majority has acknowledged. The core reads no clock; a driver that
//! serves lease reads (only the seeded bug `lease-read` does) notes when each round started.

use super::{Core, CoreError, ReadState, Role};
use crate::progress::{majority_value, quorum};

/// A read waiting for its heartbeat round.
#[derive(Debug, Clone, Copy)]
pub(super) struct PendingRead {
    ctx: u64,
    index: u64,
    /// The round that confirms it; any ack of this round or later counts.
    seq: u64,
}

impl Core {
    /// Ask for a linearizable read; `ctx` comes back in a [`ReadState`] of a later `Ready`.
    pub fn read_index(&mut self, ctx: u64) -> Result<(), CoreError> {
        if self.role != Role::Leader {
            return Err(CoreError::NotLeader);
        }
        // Until the no-op of this term commits, our commit index may be behind (§8).
        let index = self.commit.max(self.term_start);
        let seq = self.read_seq + 1;
        self.pending_reads
            .push_back(PendingRead { ctx, index, seq });
        self.read_round_wanted = true;
        self.advance_reads();
        Ok(())
    }

    /// The newest round started, as `(term, round)`: a driver timing a lease notes when it first
    /// sees each one (before the round's messages are sent).
    pub fn read_round(&self) -> (u64, u64) {
        (self.term, self.read_seq)
    }

    /// Leader only: `(term, round)` of the newest round a majority (leader included) has
    /// acknowledged, once this term's no-op is committed (before that the commit index may be
    /// behind, §8). Every follower that acknowledged round `r` heard from this leader after `r`
    /// started and will refuse a pre-vote for an election timeout, so with true clocks no other
    /// leader can commit anything until an election timeout after `r` started.
    pub fn lease_round(&self) -> Option<(u64, u64)> {
        if self.role != Role::Leader || self.commit < self.term_start {
            return None;
        }
        let mut acked: Vec<u64> = self.progress.values().map(|p| p.acked_read_seq).collect();
        acked.push(self.read_seq);
        let round = majority_value(acked);
        (round > 0).then_some((self.term, round))
    }

    /// Start the heartbeat round that confirms the queued reads.
    pub(super) fn start_read_round(&mut self) {
        self.read_round_wanted = false;
        self.read_seq += 1;
        self.broadcast_append(true);
        self.advance_reads();
    }

    /// Release the reads whose round a majority (leader included) has acknowledged.
    pub(super) fn advance_reads(&mut self) {
        if self.role != Role::Leader {
            return;
        }
        let q = quorum(self.voters());
        while let Some(front) = self.pending_reads.front().copied() {
            let acks = if self.voters() == 1 {
                1
            } else {
                1 + self
                    .progress
                    .values()
                    .filter(|p| p.acked_read_seq >= front.seq)
                    .count()
            };
            if acks < q {
                break;
            }
            self.pending_reads.pop_front();
            self.ready_reads.push(ReadState {
                ctx: front.ctx,
                index: front.index,
            });
        }
    }
}
