//! The HTTP-KV wire protocol: the contract between faultline's `http-kv` client and any node that
//! wants to be tested (the bundled `faultline-raft` implements it). Changing it breaks users.
//!
//! | request | answers |
//! |---|---|
//! | `GET /kv/{key}` | 200 [`ValueBody`]; 404 when the key holds nothing |
//! | `PUT /kv/{key}` with [`ValueBody`] | 200 when committed and applied |
//! | `POST /kv/{key}/cas` with [`CasBody`] | 200 when applied; 409 [`ValueBody`] with the current value on mismatch |
//! | `POST /txn` with [`TxnBody`] | 200 [`TxnBody`] with every read filled in, once the whole transaction committed atomically; 409 [`ErrorBody`] when it aborted (none of it took effect) |
//! | any of the above on a follower | 307 with `Location` pointing at the leader's client address; 503 [`ErrorBody`] when no leader is known |
//! | any of the above when the outcome is not known | 504 [`ErrorBody`] (e.g. leadership lost with the entry uncommitted) |
//! | `GET /health` | 200 when the process serves requests |
//! | `GET /status` | 200 [`StatusBody`] |
//!
//! Client classification: 200/404/409 are definite (`ok`, or `fail` for 409); 503 and 307 mean the
//! node did not accept the request (`fail`, the client may retry elsewhere); 504, 500, timeouts and
//! broken connections are `info` (unknown), because the request may have been applied.
//!
//! Transactions (`POST /txn`, for the `list-append` and `rw-register` workloads): the body lists
//! micro-ops in order, each a three-element array (see [`MicroOp`]): `["r", key, null]` reads,
//! `["append", key, value]` appends to the list the key holds (an absent key is the empty list),
//! `["w", key, value]` overwrites. A read sees the writes before it in the same transaction. The
//! answer repeats the micro-ops with each read's `null` replaced by what it read (`null` for an
//! absent key, the list for list-append, the value for registers). A read-only transaction must
//! be linearizable like a single read; a node that cannot serve transactions answers 404 (no such
//! route), which faultline turns into a clear error before the run starts.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
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

/// One micro-op of a transaction, on the wire as `[f, key, value]`.
#[derive(Debug, Clone, PartialEq)]
pub enum MicroOp {
    /// `["r", key, result]`: `null` in a request; what was read in an answer (`null` = absent).
    Read {
        /// The key.
        key: String,
        /// The result (`null` until answered).
        value: Value,
    },
    /// `["append", key, value]`: append `value` to the list `key` holds.
    Append {
        /// The key.
        key: String,
        /// The element appended.
        value: Value,
    },
    /// `["w", key, value]`: set `key` to `value`.
    Write {
        /// The key.
        key: String,
        /// The value written.
        value: Value,
    },
}

impl MicroOp {
    /// The wire name: `r`, `append` or `w`.
    pub fn f(&self) -> &'static str {
        match self {
            MicroOp::Read { .. } => "r",
            MicroOp::Append { .. } => "append",
            MicroOp::Write { .. } => "w",
        }
    }

    /// The key it touches.
    pub fn key(&self) -> &str {
        match self {
            MicroOp::Read { key, .. }
            | MicroOp::Append { key, .. }
            | MicroOp::Write { key, .. } => key,
        }
    }

    /// The value: the result of a read, the argument of a write.
    pub fn value(&self) -> &Value {
        match self {
            MicroOp::Read { value, .. }
            | MicroOp::Append { value, .. }
            | MicroOp::Write { value, .. } => value,
        }
    }

    /// Whether it changes state (append or write).
    pub fn is_write(&self) -> bool {
        !matches!(self, MicroOp::Read { .. })
    }

    /// The micro-op as a JSON array `[f, key, value]` (the form histories record).
    pub fn to_json(&self) -> Value {
        Value::Array(vec![
            Value::from(self.f()),
            Value::from(self.key()),
            self.value().clone(),
        ])
    }

    /// Parse `[f, key, value]` (a read may leave out its value); the error says what is wrong.
    pub fn from_json(v: &Value) -> Result<MicroOp, String> {
        let parts = match v {
            Value::Array(p) if p.len() == 2 || p.len() == 3 => p,
            _ => return Err(format!("a micro-op is [f, key, value], got {v}")),
        };
        let key = match &parts[1] {
            Value::String(k) => k.clone(),
            other => return Err(format!("a micro-op's key must be a string, got {other}")),
        };
        let value = parts.get(2).cloned().unwrap_or(Value::Null);
        match parts[0].as_str() {
            Some("r") => Ok(MicroOp::Read { key, value }),
            Some("append") if parts.len() == 3 => Ok(MicroOp::Append { key, value }),
            Some("w") if parts.len() == 3 => Ok(MicroOp::Write { key, value }),
            Some("append" | "w") => Err(format!("a write needs a value: {v}")),
            _ => Err(format!(
                "unknown micro-op {}: use \"r\", \"append\" or \"w\"",
                parts[0]
            )),
        }
    }
}

impl Serialize for MicroOp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.f(), self.key(), self.value()).serialize(s)
    }
}

impl<'de> Deserialize<'de> for MicroOp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        MicroOp::from_json(&Value::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// Body of `POST /txn` and of its 200 answer: the micro-ops in order (reads filled in answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TxnBody {
    /// The micro-ops.
    pub ops: Vec<MicroOp>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn micro_ops_travel_as_three_element_arrays() {
        let body: TxnBody = serde_json::from_value(
            json!({"ops": [["append", "x", 1], ["r", "y", null], ["w", "z", 3], ["r", "x"]]}),
        )
        .expect("parses");
        assert_eq!(
            body.ops[0],
            MicroOp::Append {
                key: "x".into(),
                value: json!(1)
            }
        );
        assert_eq!(body.ops[3].value(), &Value::Null);
        let back = serde_json::to_value(&body).expect("encodes");
        assert_eq!(
            back,
            json!({"ops": [["append", "x", 1], ["r", "y", null], ["w", "z", 3], ["r", "x", null]]})
        );
        for bad in [
            json!(["inc", "x", 1]),
            json!(["append", 3, 1]),
            json!(["w", "x"]),
            json!("r"),
        ] {
            assert!(
                serde_json::from_value::<MicroOp>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
