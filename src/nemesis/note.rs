//! [`FaultNote`]: what the first nemesis op of each scheduled fault carries in its `value`, so a
//! history alone says which fault ran, whom it hit and what role each target had when it started
//! (fault coverage is computed from it, also for stored runs). Other nemesis ops (undo steps,
//! the later steps of a sequence, verbs called directly) keep a plain string value.
//!
//! ```json
//! {"process":"nemesis","type":"info","f":"partition",
//!  "value":{"fault":"partition-leader","desc":"[n3] [n1 n2] (leader n3)","targets":{"n3":"leader"}}}
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::net::NodeId;

/// A fault target's role when the fault started, as the leader probe saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetRole {
    /// The node the probe named as leader.
    Leader,
    /// Another node, while some node led.
    Follower,
    /// No leader was known when the fault started.
    Unknown,
}

impl TargetRole {
    /// The role of `node` when `leader` leads (or nobody is known to).
    pub fn of(node: &str, leader: Option<&str>) -> TargetRole {
        match leader {
            Some(l) if l == node => TargetRole::Leader,
            Some(_) => TargetRole::Follower,
            None => TargetRole::Unknown,
        }
    }

    /// `leader`, `follower` or `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            TargetRole::Leader => "leader",
            TargetRole::Follower => "follower",
            TargetRole::Unknown => "unknown",
        }
    }
}

/// The structured value of a scheduled fault's first nemesis op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultNote {
    /// The schedule's fault kind (`partition-leader`, `clock-skew`, `delay`, ...).
    pub fault: String,
    /// What the op did, for humans (`[n3] [n1 n2] (leader n3)`, `n2 -5000ms`).
    pub desc: String,
    /// The nodes the fault hit, each with its role when the fault started.
    pub targets: BTreeMap<NodeId, TargetRole>,
    /// Clock faults: each target's clock offset, milliseconds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub offsets_ms: BTreeMap<NodeId, i64>,
    /// clock-strobe: how often the clocks flip, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strobe_every_ms: Option<u64>,
    /// When faults may overlap (`overlap > 1`): the fault's number in the run; a `fault-end`
    /// op with the same number closes its window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
}

impl FaultNote {
    /// The note of a nemesis op's value, if it carries one.
    pub fn from_value(v: &Value) -> Option<FaultNote> {
        v.get("fault")?;
        serde_json::from_value(v.clone()).ok()
    }

    /// The note as an op value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// A nemesis op's value for humans: a note's `desc`, a string as is, anything else as JSON.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other
            .get("desc")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_round_trip_through_op_values_and_describe_themselves() {
        let note = FaultNote {
            fault: "clock-skew".into(),
            desc: "n2 -5000ms".into(),
            targets: [("n2".to_string(), TargetRole::Leader)].into(),
            offsets_ms: [("n2".to_string(), -5000)].into(),
            strobe_every_ms: None,
            id: None,
        };
        let v = note.to_value();
        assert_eq!(v["targets"]["n2"], "leader");
        assert_eq!(v["offsets_ms"]["n2"], -5000);
        assert!(v.get("strobe_every_ms").is_none());
        assert_eq!(FaultNote::from_value(&v), Some(note));
        assert_eq!(describe(&v), "n2 -5000ms");
        assert_eq!(describe(&Value::String("[n1]".into())), "[n1]");
        assert_eq!(FaultNote::from_value(&Value::String("[n1]".into())), None);
        assert_eq!(TargetRole::of("n1", Some("n1")), TargetRole::Leader);
        assert_eq!(TargetRole::of("n1", Some("n2")), TargetRole::Follower);
        assert_eq!(TargetRole::of("n1", None), TargetRole::Unknown);
    }
}
