//! The HTTP-KV wire protocol: the contract between faultline's `http-kv` client and any node that
//! wants to be tested (the bundled `faultline-raft` implements it). Changing it breaks users.
//!
//! | request | answers |
//! |---|---|
//! | `GET /kv/{key}` | 200 [`ValueBody`]; 404 when the key holds nothing |
//! | `PUT /kv/{key}` with [`ValueBody`] | 200 when committed and applied |
//! | `POST /kv/{key}/cas` with [`CasBody`] | 200 when applied; 409 [`ValueBody`] with the current value on mismatch |
//! | any of the above on a follower | 307 with `Location` pointing at the leader's client address; 503 [`ErrorBody`] when no leader is known |
//! | any of the above when the outcome is not known | 504 [`ErrorBody`] (e.g. leadership lost with the entry uncommitted) |
//! | `GET /health` | 200 when the process serves requests |
//! | `GET /status` | 200 [`StatusBody`] |
//!
//! Client classification: 200/404/409 are definite (`ok`, or `fail` for 409); 503 and 307 mean the
//! node did not accept the request (`fail`, the client may retry elsewhere); 504, 500, timeouts and
//! broken connections are `info` (unknown), because the request may have been applied.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Body of `PUT /kv/{key}` and of 200/409 answers: a value (`null` = absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueBody {
    /// The value written or read.
    pub value: Value,
}

/// Body of `POST /kv/{key}/cas`: set the key to `to` iff it currently holds `from`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CasBody {
    /// The expected current value (`null` = absent).
    pub from: Value,
    /// The new value.
    pub to: Value,
}

/// Body of error answers (503, 504, 500).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Human-readable reason.
    pub error: String,
    /// The leader's client address, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader: Option<String>,
}

/// The role a Raft node plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Follows a leader.
    Follower,
    /// Pre-vote phase before becoming a candidate.
    PreCandidate,
    /// Asking for votes.
    Candidate,
    /// Accepts client writes.
    Leader,
}

/// Body of `GET /status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusBody {
    /// The node id.
    pub id: String,
    /// Current role.
    pub role: Role,
    /// Current term.
    pub term: u64,
    /// The leader's id, when known.
    #[serde(default)]
    pub leader: Option<String>,
    /// The leader's client address, when known.
    #[serde(default)]
    pub leader_addr: Option<String>,
    /// Highest log index known committed.
    pub commit_index: u64,
    /// Highest log index applied to the state machine.
    pub applied_index: u64,
}
