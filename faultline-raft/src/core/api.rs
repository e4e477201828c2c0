//! The types the driver exchanges with the core: its configuration, the [`Ready`] it takes after
//! stepping, the volatile [`SoftState`] and the errors of client calls.

use crate::bugs::Bugs;
use crate::protocol::Role;
use crate::types::{Entry, HardState, Message, NodeId, Snapshot};

/// Static configuration of one core.
#[derive(Debug, Clone)]
pub struct Config {
    /// This node.
    pub id: NodeId,
    /// The other voters.
    pub peers: Vec<NodeId>,
    /// This node's client address, advertised to followers while leading.
    pub client_addr: String,
    /// Base election timeout in ticks; the actual one is random in `[e, 2e)`.
    pub election_ticks: u32,
    /// Heartbeat interval in ticks.
    pub heartbeat_ticks: u32,
    /// Run a pre-vote round before a real election (§9.6).
    pub pre_vote: bool,
    /// A leader steps down when it has not heard from a majority for an election timeout.
    pub check_quorum: bool,
    /// Most entries per Append message.
    pub max_batch: usize,
    /// Seed of the election-timeout randomness.
    pub seed: u64,
    /// Seeded bugs.
    pub bugs: Bugs,
}

/// Volatile state worth showing (`/status`) or reacting to (lost leadership).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftState {
    /// Current role.
    pub role: Role,
    /// Current term.
    pub term: u64,
    /// Known leader of `term`.
    pub leader: Option<NodeId>,
    /// Its client address.
    pub leader_addr: Option<String>,
    /// Commit index.
    pub commit: u64,
    /// Index of the last entry handed out for applying.
    pub applied: u64,
}

/// A linearizable read that may be served once the state machine has applied `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadState {
    /// The caller's token from [`super::Core::read_index`].
    pub ctx: u64,
    /// Apply at least up to here, then read.
    pub index: u64,
}

/// Everything the driver must do after stepping the core, in this order: persist `hard_state`,
/// `snapshot` and `entries` (fsync), then send `messages`, then apply `snapshot` and `committed`,
/// then serve `reads`.
#[derive(Debug, Default)]
pub struct Ready {
    /// Hard state to persist, when changed.
    pub hard_state: Option<HardState>,
    /// A snapshot received from the leader: persist it (storage keeps the stored entries after
    /// it only if it holds its last entry, as the core did: [`crate::log::after_snapshot`]),
    /// then restore the state machine from it.
    pub snapshot: Option<Snapshot>,
    /// Entries to persist; storage first drops every stored entry at `entries[0].index` or after.
    pub entries: Vec<Entry>,
    /// Messages to send once the above is durable.
    pub messages: Vec<Message>,
    /// Newly committed entries to apply, in order.
    pub committed: Vec<Entry>,
    /// Reads confirmed by a quorum.
    pub reads: Vec<ReadState>,
}

/// A client request the core refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// Only the leader takes proposals and reads.
    #[error("not the leader")]
    NotLeader,
}
