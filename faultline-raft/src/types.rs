//! Wire and storage types of the Raft node: log entries, commands, hard state, snapshots and the
//! peer messages of the Raft paper (RequestVote, AppendEntries, InstallSnapshot) plus their answers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::MicroOp;

/// A node's name, as given by `--id` (e.g. `n1`).
pub type NodeId = String;

/// A state-machine command carried by a log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Appended by every new leader so it can commit an entry of its own term (§5.4.2, §8).
    Noop,
    /// Set `key` to `value` (`null` deletes).
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: Value,
    },
    /// Set `key` to `to` iff it holds `from`; evaluated when the entry is applied.
    Cas {
        /// The key.
        key: String,
        /// Expected current value.
        from: Value,
        /// New value.
        to: Value,
    },
    /// A transaction: its micro-ops applied atomically, in order, when the entry is applied
    /// (reads see the writes before them). Aborts as a whole if a micro-op cannot apply.
    Txn {
        /// The micro-ops (reads carry `null`).
        ops: Vec<MicroOp>,
    },
}

/// One log entry. Invariant: within a log, indexes are consecutive and terms never decrease.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the log, starting at 1.
    pub index: u64,
    /// The leader's term when the entry was created.
    pub term: u64,
    /// What to apply.
    pub cmd: Command,
}

/// State that must be on stable storage before the node answers any RPC (Figure 2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardState {
    /// Latest term this node has seen.
    pub term: u64,
    /// Candidate that received this node's vote in `term`.
    pub vote: Option<NodeId>,
}

/// A snapshot of the state machine covering the log up to `index` (§7).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Last log index the snapshot includes.
    pub index: u64,
    /// Term of that entry.
    pub term: u64,
    /// The serialized state machine (JSON text).
    pub data: String,
}

/// A message between two peers. `term` is the sender's term (or, for a pre-vote, the term it
/// would campaign in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// Sender's term.
    pub term: u64,
    /// What the message says.
    pub body: Body,
}

/// The RPCs of the Raft paper, as one-way messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Body {
    /// RequestVote (§5.2); `pre` marks a pre-vote (§9.6) that changes no state on the receiver.
    RequestVote {
        /// Pre-vote?
        pre: bool,
        /// Candidate's last log index.
        last_index: u64,
        /// Candidate's last log term.
        last_term: u64,
    },
    /// Answer to RequestVote.
    VoteResponse {
        /// Answer to a pre-vote?
        pre: bool,
        /// Vote granted?
        granted: bool,
    },
    /// AppendEntries (§5.3); an empty one is a heartbeat.
    Append {
        /// Index of the entry before `entries`.
        prev_index: u64,
        /// Its term.
        prev_term: u64,
        /// Entries to store (may be empty).
        entries: Vec<Entry>,
        /// Leader's commit index.
        commit: u64,
        /// Leader's client address, so followers can redirect clients.
        leader_addr: String,
        /// ReadIndex round this message belongs to; echoed back.
        read_seq: u64,
    },
    /// Answer to Append or InstallSnapshot.
    AppendResponse {
        /// Did the log match at `prev_index`?
        success: bool,
        /// On success: highest index known to match the leader's log.
        match_index: u64,
        /// On failure: the `prev_index` that was rejected.
        reject_index: u64,
        /// On failure: first index of `conflict_term` in the follower's log, or its last index + 1.
        conflict_index: u64,
        /// On failure: term of the follower's entry at `reject_index`, if it has one.
        conflict_term: Option<u64>,
        /// Echo of the request's `read_seq`.
        read_seq: u64,
    },
    /// InstallSnapshot (§7), sent whole.
    InstallSnapshot {
        /// The snapshot.
        snapshot: Snapshot,
        /// Leader's client address.
        leader_addr: String,
        /// ReadIndex round.
        read_seq: u64,
    },
}
