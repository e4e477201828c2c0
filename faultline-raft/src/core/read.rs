//! Linearizable reads by ReadIndex (Raft thesis §6.4): the leader notes its commit index, confirms
//! it is still leader with one heartbeat round acknowledged by a majority, and the read is served
//! once the state machine has applied that index. Reads arriving together share one round.

use super::{Core, CoreError, ReadState, Role};
use crate::progress::quorum;

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
