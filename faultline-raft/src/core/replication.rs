//! Log replication (§5.3): AppendEntries with the consistency check, fast backtracking by
//! conflict term/index, conflicting-suffix truncation, the commit rule of §5.4.2, and
//! InstallSnapshot for followers behind the log start (§7).

use super::{Core, Role};
use crate::bugs::Bug;
use crate::progress::majority_value;
use crate::types::{Body, Message, NodeId};

impl Core {
    /// Leader: send every follower what it is missing; `heartbeat` also sends empty messages.
    pub(super) fn broadcast_append(&mut self, heartbeat: bool) {
        let peers: Vec<NodeId> = self.progress.keys().cloned().collect();
        for peer in peers {
            self.send_append(&peer, heartbeat);
        }
    }

    /// Leader: send one Append (or InstallSnapshot) to `peer`, pipelining when its position is known.
    fn send_append(&mut self, peer: &NodeId, heartbeat: bool) {
        let (snap_index, last) = (self.log.snap_index(), self.log.last_index());
        let (commit, read_seq, max_batch) = (self.commit, self.read_seq, self.cfg.max_batch);
        let leader_addr = self.cfg.client_addr.clone();
        let (ticks, election_ticks) = (self.ticks, u64::from(self.cfg.election_ticks));
        let Some(pr) = self.progress.get_mut(peer) else {
            return;
        };
        if pr.probing && pr.probe_sent && !heartbeat {
            return;
        }
        if pr.next_index <= snap_index {
            // One snapshot in flight at a time; resend only after an election timeout.
            if pr
                .snapshot_sent_at
                .is_some_and(|t| ticks.saturating_sub(t) < election_ticks)
            {
                return;
            }
            pr.snapshot_sent_at = Some(ticks);
            pr.probing = true;
            pr.probe_sent = true;
            let snapshot = self.snapshot.clone();
            tracing::info!(%peer, index = snapshot.index, "sending snapshot");
            self.send(
                peer.clone(),
                Body::InstallSnapshot {
                    snapshot,
                    leader_addr,
                    read_seq,
                },
            );
            return;
        }
        let prev_index = pr.next_index - 1;
        let entries = self.log.slice(pr.next_index, last, max_batch);
        if entries.is_empty() && !heartbeat {
            return;
        }
        if pr.probing {
            pr.probe_sent = true;
        } else if let Some(e) = entries.last() {
            pr.next_index = e.index + 1;
        }
        let prev_term = self.log.term(prev_index).unwrap_or(0);
        self.send(
            peer.clone(),
            Body::Append {
                prev_index,
                prev_term,
                entries,
                commit,
                leader_addr,
                read_seq,
            },
        );
    }

    /// Follower: accept a current leader and refresh its election timer.
    fn follow(&mut self, from: &NodeId, leader_addr: String) {
        if self.role != Role::Follower || self.leader.as_ref() != Some(from) {
            let term = self.term;
            self.become_follower(term, Some(from.clone()));
        }
        self.leader_addr = Some(leader_addr);
        self.election_elapsed = 0;
    }

    pub(super) fn handle_append(&mut self, m: Message) {
        let Body::Append {
            prev_index,
            prev_term,
            entries,
            commit,
            leader_addr,
            read_seq,
        } = m.body
        else {
            return;
        };
        self.follow(&m.from, leader_addr);
        let mut resp = Body::AppendResponse {
            success: true,
            match_index: self.commit,
            reject_index: 0,
            conflict_index: 0,
            conflict_term: None,
            read_seq,
        };
        if prev_index < self.commit {
            // Everything up to our commit index matches the leader's log already.
        } else if self.log.term(prev_index) != Some(prev_term) {
            let (conflict_index, conflict_term) = if prev_index > self.log.last_index() {
                (self.log.last_index() + 1, None)
            } else {
                let t = self.log.term(prev_index);
                (self.log.first_index_of_term_at(prev_index), t)
            };
            resp = Body::AppendResponse {
                success: false,
                match_index: 0,
                reject_index: prev_index,
                conflict_index,
                conflict_term,
                read_seq,
            };
        } else {
            let last_new = prev_index + entries.len() as u64;
            for e in entries {
                match self.log.term(e.index) {
                    Some(t) if t == e.term => {}
                    // Bug `no-truncate`: keep our conflicting entry (and the suffix after it)
                    // instead of the leader's, labelled with the leader's term as if it matched,
                    // so later consistency checks pass and the stale commands get applied.
                    Some(_) if self.cfg.bugs.has(Bug::NoTruncate) => {
                        let last = self.log.last_index();
                        let ours = self.log.slice(e.index, last, usize::MAX);
                        self.log.truncate_from(e.index);
                        for (i, mut kept) in ours.into_iter().enumerate() {
                            if i == 0 {
                                kept.term = e.term;
                            }
                            self.log.append(kept);
                        }
                    }
                    Some(_) => {
                        tracing::info!(index = e.index, "truncating conflicting suffix");
                        self.log.truncate_from(e.index);
                        self.log.append(e);
                    }
                    None => self.log.append(e),
                }
            }
            self.commit = self.commit.max(commit.min(last_new));
            if let Body::AppendResponse { match_index, .. } = &mut resp {
                *match_index = last_new;
            }
        }
        self.send(m.from, resp);
    }

    pub(super) fn handle_snapshot(&mut self, m: Message) {
        let Body::InstallSnapshot {
            snapshot,
            leader_addr,
            read_seq,
        } = m.body
        else {
            return;
        };
        self.follow(&m.from, leader_addr);
        if snapshot.index > self.commit {
            // §7: a log that holds the snapshot's last entry keeps what follows it.
            let kept_suffix = self.log.install(&snapshot);
            tracing::info!(
                index = snapshot.index,
                kept_suffix,
                "installing snapshot from leader"
            );
            self.commit = snapshot.index;
            self.applied = snapshot.index;
            self.snapshot = snapshot.clone();
            self.received_snapshot = Some(snapshot);
        }
        self.send(
            m.from,
            Body::AppendResponse {
                success: true,
                match_index: self.commit,
                reject_index: 0,
                conflict_index: 0,
                conflict_term: None,
                read_seq,
            },
        );
    }

    pub(super) fn handle_append_response(&mut self, m: Message) {
        let Body::AppendResponse {
            success,
            match_index,
            reject_index,
            conflict_index,
            conflict_term,
            read_seq,
        } = m.body
        else {
            return;
        };
        if self.role != Role::Leader {
            return;
        }
        let last = self.log.last_index();
        let new_next = match conflict_term.and_then(|t| self.log.last_index_of_term(t)) {
            Some(i) => i + 1,
            None => conflict_index,
        };
        let Some(pr) = self.progress.get_mut(&m.from) else {
            return;
        };
        pr.recent_active = true;
        pr.acked_read_seq = pr.acked_read_seq.max(read_seq);
        if success {
            pr.match_index = pr.match_index.max(match_index.min(last));
            pr.next_index = pr.next_index.max(pr.match_index + 1);
            pr.probing = false;
            pr.probe_sent = false;
            pr.snapshot_sent_at = None;
            let behind = pr.next_index <= last;
            self.maybe_commit();
            if behind {
                self.send_append(&m.from, false);
            }
        } else if reject_index > pr.match_index
            && (!pr.probing || reject_index + 1 == pr.next_index)
        {
            // Rejections of older pipelined messages (or of an earlier probe) are stale.
            pr.next_index = new_next.min(reject_index).max(pr.match_index + 1);
            pr.probing = true;
            pr.probe_sent = false;
            self.send_append(&m.from, false);
        }
        self.advance_reads();
    }

    /// Leader: commit the highest index stored on a majority, but only counting replicas for an
    /// entry of the current term (§5.4.2, Figure 8).
    pub(super) fn maybe_commit(&mut self) {
        if self.role != Role::Leader {
            return;
        }
        let candidate = if self.cfg.bugs.has(Bug::EarlyAck) {
            // Bug `early-ack`: the leader's own copy is enough.
            self.log.last_index()
        } else {
            let mut matches: Vec<u64> = self.progress.values().map(|p| p.match_index).collect();
            matches.push(self.log.last_index());
            majority_value(matches)
        };
        if candidate > self.commit && self.log.term(candidate) == Some(self.term) {
            self.commit = candidate;
            self.advance_reads();
        }
    }
}
