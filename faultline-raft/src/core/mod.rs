//! The Raft core: a pure, deterministic state machine in the style of raft-rs. It reads no clock
//! and touches no socket or file. The driver calls [`Core::tick`] on a timer, [`Core::step`] for
//! every peer message, [`Core::propose`] / [`Core::read_index`] for clients, then takes a
//! [`Ready`] with what to persist, send and apply, in that order.
//!
//! Split by concern: `election` (§5.2, pre-vote §9.6), `replication` (§5.3, §5.4, §7), `read`
//! (ReadIndex, §6.4 of the Raft thesis). Section numbers refer to the extended Raft paper.

mod api;
mod election;
mod read;
mod replication;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::bugs::Bug;
use super::log::RaftLog;
use super::progress::{quorum, Progress};
use super::types::{Body, Command, Entry, HardState, Message, NodeId, Snapshot};
pub use crate::protocol::Role;
pub use api::{Config, CoreError, ReadState, Ready, SoftState};

/// One Raft participant.
#[derive(Debug)]
pub struct Core {
    cfg: Config,
    term: u64,
    vote: Option<NodeId>,
    role: Role,
    leader: Option<NodeId>,
    leader_addr: Option<String>,
    log: RaftLog,
    /// Latest snapshot (sent to followers that lag behind the log start).
    snapshot: Snapshot,
    /// Invariant: `snapshot.index <= applied <= commit <= log.last_index()`.
    commit: u64,
    applied: u64,
    /// Ticks since start (logical time, only for rate-limiting snapshot resends).
    ticks: u64,
    election_elapsed: u32,
    heartbeat_elapsed: u32,
    randomized_timeout: u32,
    rng: ChaCha8Rng,
    /// Leader only: one entry per peer.
    progress: BTreeMap<NodeId, Progress>,
    /// Candidate only: answers received in this round.
    votes: BTreeMap<NodeId, bool>,
    /// Leader only: index of the no-op that opened this term.
    term_start: u64,
    read_seq: u64,
    read_round_wanted: bool,
    pending_reads: VecDeque<read::PendingRead>,
    ready_reads: Vec<ReadState>,
    msgs: Vec<Message>,
    persisted_hs: HardState,
    received_snapshot: Option<Snapshot>,
    append_wanted: bool,
    /// Bug `lease-read` only: the driver's word that this leader's clock-timed lease holds.
    lease_held: bool,
}

impl Core {
    /// A core recovered from storage (all empty for a fresh node).
    pub fn new(cfg: Config, hs: HardState, snapshot: Snapshot, entries: Vec<Entry>) -> Self {
        let log = RaftLog::restore(snapshot.index, snapshot.term, entries);
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let e = cfg.election_ticks.max(1);
        let randomized_timeout = rng.random_range(e..2 * e);
        Core {
            term: hs.term,
            vote: hs.vote.clone(),
            role: Role::Follower,
            leader: None,
            leader_addr: None,
            commit: snapshot.index,
            applied: snapshot.index,
            log,
            snapshot,
            ticks: 0,
            election_elapsed: 0,
            heartbeat_elapsed: 0,
            randomized_timeout,
            rng,
            progress: BTreeMap::new(),
            votes: BTreeMap::new(),
            term_start: 0,
            read_seq: 0,
            read_round_wanted: false,
            pending_reads: VecDeque::new(),
            ready_reads: Vec::new(),
            msgs: Vec::new(),
            persisted_hs: hs,
            received_snapshot: None,
            append_wanted: false,
            lease_held: false,
            cfg,
        }
    }

    /// This node's id.
    pub fn id(&self) -> &NodeId {
        &self.cfg.id
    }

    /// Volatile state for `/status`.
    pub fn soft_state(&self) -> SoftState {
        SoftState {
            role: self.role,
            term: self.term,
            leader: self.leader.clone(),
            leader_addr: self.leader_addr.clone(),
            commit: self.commit,
            applied: self.applied,
        }
    }

    /// Current role (the same as `soft_state().role`, without copying the rest).
    pub fn role(&self) -> Role {
        self.role
    }

    /// Current term.
    pub fn term(&self) -> u64 {
        self.term
    }

    /// Commit index.
    pub fn commit(&self) -> u64 {
        self.commit
    }

    /// Index of the last entry in the log (persisted or not).
    pub fn last_index(&self) -> u64 {
        self.log.last_index()
    }

    /// Index of the first entry still in the log minus one (the latest snapshot point).
    pub fn snapshot_index(&self) -> u64 {
        self.log.snap_index()
    }

    /// Term of the entry at `index`, if still held.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        self.log.term(index)
    }

    /// Advance logical time by one tick: election timeout for followers and candidates,
    /// heartbeats and check-quorum for the leader.
    pub fn tick(&mut self) {
        self.ticks += 1;
        self.election_elapsed += 1;
        if self.role == Role::Leader {
            self.heartbeat_elapsed += 1;
            if self.heartbeat_elapsed >= self.cfg.heartbeat_ticks {
                self.heartbeat_elapsed = 0;
                for pr in self.progress.values_mut() {
                    pr.probe_sent = false;
                }
                // Every heartbeat is a new round: ReadIndex reads waiting for an earlier round
                // count its acks too, and a lease is timed from the latest round a majority saw.
                self.read_seq += 1;
                self.broadcast_append(true);
            }
            if self.election_elapsed >= self.cfg.election_ticks {
                self.election_elapsed = 0;
                self.check_quorum();
            }
        } else if self.election_elapsed >= self.randomized_timeout {
            self.campaign(self.cfg.pre_vote);
        } else if matches!(self.role, Role::Candidate | Role::PreCandidate)
            && self
                .election_elapsed
                .is_multiple_of(self.cfg.heartbeat_ticks.max(1))
        {
            // §5.2: RequestVote is retried while no answer came (the transport may drop it).
            self.request_votes(self.role == Role::PreCandidate);
        }
    }

    /// Leader: step down when fewer than a majority answered during the last election timeout.
    fn check_quorum(&mut self) {
        let active = 1 + self.progress.values().filter(|p| p.recent_active).count();
        for pr in self.progress.values_mut() {
            pr.recent_active = false;
        }
        // Bug `stale-leader`: an isolated leader never gives up.
        // Bug `lease-read`: nor does one that holds its lease by its own clock.
        let trusts_lease = self.cfg.bugs.has(Bug::LeaseRead) && self.lease_held;
        if self.cfg.check_quorum
            && active < quorum(self.voters())
            && !self.cfg.bugs.has(Bug::StaleLeader)
            && !trusts_lease
        {
            tracing::info!(
                term = self.term,
                "lost contact with a majority, stepping down"
            );
            let term = self.term;
            self.become_follower(term, None);
        }
    }

    /// Tell the core whether this leader's lease holds by the driver's clock (the core reads no
    /// clock). Only the seeded bug `lease-read` listens: such a leader skips check-quorum while
    /// its lease holds, trusting that nobody else can lead.
    pub fn set_lease_held(&mut self, held: bool) {
        self.lease_held = held;
    }

    /// Append a client command to the leader's log; returns its `(index, term)`. The caller learns
    /// the outcome when an entry with that index is applied (same term: ours; other term: lost).
    pub fn propose(&mut self, cmd: Command) -> Result<(u64, u64), CoreError> {
        if self.role != Role::Leader {
            return Err(CoreError::NotLeader);
        }
        let index = self.log.push(self.term, cmd);
        self.append_wanted = true;
        self.maybe_commit();
        Ok((index, self.term))
    }

    /// Handle one message from a peer.
    pub fn step(&mut self, m: Message) {
        if m.to != self.cfg.id {
            return;
        }
        if m.term > self.term {
            let is_pre_request = matches!(m.body, Body::RequestVote { pre: true, .. });
            let is_pre_grant = matches!(
                m.body,
                Body::VoteResponse {
                    pre: true,
                    granted: true
                }
            );
            if !is_pre_request && !is_pre_grant {
                // Bug `stale-leader`: the rule "step down on a higher term" is ignored.
                if self.role == Role::Leader && self.cfg.bugs.has(Bug::StaleLeader) {
                    return;
                }
                let leader = match m.body {
                    Body::Append { .. } | Body::InstallSnapshot { .. } => Some(m.from.clone()),
                    _ => None,
                };
                self.become_follower(m.term, leader);
            }
        } else if m.term < self.term {
            self.reject_stale(m);
            return;
        }
        match m.body {
            Body::RequestVote { .. } => self.handle_vote_request(m),
            Body::VoteResponse { .. } => self.handle_vote_response(m),
            Body::Append { .. } => self.handle_append(m),
            Body::AppendResponse { .. } => self.handle_append_response(m),
            Body::InstallSnapshot { .. } => self.handle_snapshot(m),
        }
    }

    /// Answer a message from an older term so its sender learns the newer term (§5.1).
    fn reject_stale(&mut self, m: Message) {
        match m.body {
            Body::Append { .. } | Body::InstallSnapshot { .. } => {
                self.send(
                    m.from,
                    Body::AppendResponse {
                        success: false,
                        match_index: 0,
                        reject_index: 0,
                        conflict_index: 0,
                        conflict_term: None,
                        read_seq: 0,
                    },
                );
            }
            Body::RequestVote { pre, .. } => {
                self.send(
                    m.from,
                    Body::VoteResponse {
                        pre,
                        granted: false,
                    },
                );
            }
            _ => {}
        }
    }

    /// Record that the state machine now holds a snapshot up to `snap.index` (taken by the driver
    /// from its applied state) and drop the log before it.
    pub fn compact(&mut self, snap: Snapshot) {
        if snap.index <= self.log.snap_index() || snap.index > self.applied {
            return;
        }
        self.log.compact(snap.index, snap.term);
        self.snapshot = snap;
    }

    /// Is there anything for [`Core::ready`] to hand out?
    pub fn has_ready(&self) -> bool {
        !self.msgs.is_empty()
            || self.append_wanted
            || self.read_round_wanted
            || self.log.has_unstable()
            || self.received_snapshot.is_some()
            || self.hard_state() != self.persisted_hs
            || self.applied < self.commit
            || !self.ready_reads.is_empty()
    }

    fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            vote: self.vote.clone(),
        }
    }

    /// Take everything the driver must persist, send, apply and serve.
    pub fn ready(&mut self) -> Ready {
        if self.read_round_wanted {
            self.start_read_round();
        }
        if self.append_wanted {
            self.append_wanted = false;
            self.broadcast_append(false);
        }
        let mut rd = Ready::default();
        let hs = self.hard_state();
        if hs != self.persisted_hs {
            self.persisted_hs = hs.clone();
            let mut to_store = hs;
            // Bug `forget-vote`: votedFor never reaches stable storage.
            if self.cfg.bugs.has(Bug::ForgetVote) {
                to_store.vote = None;
            }
            rd.hard_state = Some(to_store);
        }
        if let Some(snap) = self.received_snapshot.take() {
            rd.snapshot = Some(snap);
        }
        rd.entries = self.log.take_unstable();
        rd.messages = std::mem::take(&mut self.msgs);
        if self.applied < self.commit {
            rd.committed = self.log.slice(self.applied + 1, self.commit, usize::MAX);
            self.applied = self.commit;
        }
        rd.reads = std::mem::take(&mut self.ready_reads);
        rd
    }

    fn voters(&self) -> usize {
        self.cfg.peers.len() + 1
    }

    fn send(&mut self, to: NodeId, body: Body) {
        self.msgs.push(Message {
            from: self.cfg.id.clone(),
            to,
            term: self.term,
            body,
        });
    }

    fn reset_election_timer(&mut self) {
        self.election_elapsed = 0;
        let e = self.cfg.election_ticks.max(1);
        self.randomized_timeout = self.rng.random_range(e..2 * e);
    }

    /// Become a follower in `term` (a new term clears the vote, §5.1).
    fn become_follower(&mut self, term: u64, leader: Option<NodeId>) {
        if term > self.term {
            self.term = term;
            self.vote = None;
        }
        if self.role == Role::Leader {
            tracing::info!(term = self.term, "stepping down");
        }
        self.role = Role::Follower;
        if leader.is_none() || leader != self.leader {
            self.leader_addr = None;
        }
        self.leader = leader;
        self.progress.clear();
        self.votes.clear();
        self.pending_reads.clear();
        self.reset_election_timer();
    }

    /// Win an election: send heartbeats and append a no-op of the new term (§5.4.2, §8).
    fn become_leader(&mut self) {
        tracing::info!(term = self.term, "became leader");
        self.role = Role::Leader;
        self.leader = Some(self.cfg.id.clone());
        self.leader_addr = Some(self.cfg.client_addr.clone());
        self.heartbeat_elapsed = 0;
        self.election_elapsed = 0;
        let last = self.log.last_index();
        self.progress = self
            .cfg
            .peers
            .iter()
            .map(|p| (p.clone(), Progress::new(last)))
            .collect();
        self.read_seq = 0;
        self.term_start = self.log.push(self.term, Command::Noop);
        self.maybe_commit();
        self.broadcast_append(true);
    }
}
