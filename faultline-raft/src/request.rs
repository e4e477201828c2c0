//! Client requests as the HTTP layer hands them to the node driver, and the driver's answers.

use serde_json::Value;
use tokio::sync::oneshot;

use crate::protocol::MicroOp;

/// What a client asked for.
#[derive(Debug)]
pub enum Op {
    /// Linearizable read of a key.
    Read {
        /// The key.
        key: String,
    },
    /// Write a value.
    Put {
        /// The key.
        key: String,
        /// The value (`null` deletes).
        value: Value,
    },
    /// Compare-and-set.
    Cas {
        /// The key.
        key: String,
        /// Expected value.
        from: Value,
        /// New value.
        to: Value,
    },
    /// A transaction (`POST /txn`): applied atomically; read-only ones are served like reads.
    Txn {
        /// The micro-ops, reads carrying `null`.
        ops: Vec<MicroOp>,
    },
}

/// One request plus the channel its answer goes to.
#[derive(Debug)]
pub struct Request {
    /// The operation.
    pub op: Op,
    /// Where to answer.
    pub reply: oneshot::Sender<Reply>,
}

/// The driver's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Done; carries the value read or written.
    Ok(Value),
    /// CAS did not match; carries the current value.
    CasMismatch(Value),
    /// A transaction committed (or a read-only one was served): its micro-ops, reads filled in.
    Txn(Vec<MicroOp>),
    /// A transaction aborted: none of it took effect.
    Aborted(String),
    /// This node does not lead; the leader's client address when known.
    NotLeader(Option<String>),
    /// The outcome is not known (the entry may still commit).
    Unknown(String),
}
