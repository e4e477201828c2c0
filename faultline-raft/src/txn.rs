//! Transactions over the key-value map: evaluating micro-ops in order against the map (reads see
//! the transaction's own earlier writes), deciding abort before anything changes, and the
//! leader's speculative view (its state with the not-yet-committed log applied) that only the
//! seeded bug `dirty-txn-read` reads from.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::kv::Kv;
use crate::protocol::MicroOp;
use crate::types::{Command, Entry};

/// Whether a transaction only reads (such a transaction is served like a single read, without a
/// log entry).
pub fn is_read_only(ops: &[MicroOp]) -> bool {
    ops.iter().all(|op| !op.is_write())
}

/// Evaluate `ops` against `kv` without changing it: the micro-ops with their reads filled in and
/// the final value of every key written. `Err` (abort, nothing to apply) when an append targets
/// a key that holds something other than a list.
pub fn eval(kv: &Kv, ops: &[MicroOp]) -> Result<(Vec<MicroOp>, BTreeMap<String, Value>), String> {
    let mut writes: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        let current = |writes: &BTreeMap<String, Value>, key: &str| {
            writes.get(key).cloned().unwrap_or_else(|| kv.get(key))
        };
        match op {
            MicroOp::Read { key, .. } => results.push(MicroOp::Read {
                key: key.clone(),
                value: current(&writes, key),
            }),
            MicroOp::Append { key, value } => {
                let list = match current(&writes, key) {
                    Value::Null => vec![value.clone()],
                    Value::Array(mut l) => {
                        l.push(value.clone());
                        l
                    }
                    other => {
                        return Err(format!(
                            "cannot append to key {key:?}: it holds {other}, not a list"
                        ))
                    }
                };
                writes.insert(key.clone(), Value::Array(list));
                results.push(op.clone());
            }
            MicroOp::Write { key, value } => {
                writes.insert(key.clone(), value.clone());
                results.push(op.clone());
            }
        }
    }
    Ok((results, writes))
}

/// Evaluate `ops` against `kv` with `pending` (log entries not yet committed, in log order)
/// applied first: what the leader's own log says the state will be if they all commit. Only
/// the keys `ops` and `pending` touch are copied.
pub fn speculative(kv: &Kv, pending: &[Entry], ops: &[MicroOp]) -> Result<Vec<MicroOp>, String> {
    let mut keys: BTreeSet<&str> = ops.iter().map(MicroOp::key).collect();
    for e in pending {
        match &e.cmd {
            Command::Noop => {}
            Command::Put { key, .. } | Command::Cas { key, .. } => {
                keys.insert(key);
            }
            Command::Txn { ops } => keys.extend(ops.iter().map(MicroOp::key)),
        }
    }
    let mut view = Kv::default();
    for k in keys {
        view.set(k, kv.get(k));
    }
    for e in pending {
        view.apply(&e.cmd);
    }
    eval(&view, ops).map(|(results, _)| results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(k: &str) -> MicroOp {
        MicroOp::Read {
            key: k.into(),
            value: Value::Null,
        }
    }
    fn append(k: &str, v: i64) -> MicroOp {
        MicroOp::Append {
            key: k.into(),
            value: json!(v),
        }
    }

    #[test]
    fn reads_see_earlier_writes_of_the_same_transaction_and_commit_atomically() {
        let mut kv = Kv::default();
        let t1 = Command::Txn {
            ops: vec![r("x"), append("x", 1), append("x", 2), r("x"), r("y")],
        };
        let crate::kv::Applied::Txn(out) = kv.apply(&t1) else {
            panic!("committed")
        };
        assert_eq!(out[0].value(), &Value::Null);
        assert_eq!(out[3].value(), &json!([1, 2]));
        assert_eq!(out[4].value(), &Value::Null);
        assert_eq!(kv.get("x"), json!([1, 2]));
        // An append to a register aborts the whole transaction: x is not appended to.
        kv.set("reg", json!(5));
        let t2 = Command::Txn {
            ops: vec![append("x", 3), append("reg", 1)],
        };
        assert!(matches!(kv.apply(&t2), crate::kv::Applied::TxnAborted(_)));
        assert_eq!(kv.get("x"), json!([1, 2]));
        let w = MicroOp::Write {
            key: "reg".into(),
            value: json!(6),
        };
        let (out, writes) = eval(&kv, &[w, r("reg")]).unwrap();
        assert_eq!(out[1].value(), &json!(6));
        assert_eq!(writes.get("reg"), Some(&json!(6)));
        assert!(is_read_only(&[r("a"), r("b")]) && !is_read_only(&[r("a"), append("a", 1)]));
    }

    #[test]
    fn the_speculative_view_includes_uncommitted_entries() {
        let mut kv = Kv::default();
        kv.set("x", json!([1]));
        let pending = vec![
            Entry {
                index: 5,
                term: 2,
                cmd: Command::Txn {
                    ops: vec![append("x", 2)],
                },
            },
            Entry {
                index: 6,
                term: 2,
                cmd: Command::Put {
                    key: "y".into(),
                    value: json!(7),
                },
            },
        ];
        let out = speculative(&kv, &pending, &[r("x"), r("y")]).unwrap();
        assert_eq!(out[0].value(), &json!([1, 2]));
        assert_eq!(out[1].value(), &json!(7));
        // The map itself is untouched.
        assert_eq!(kv.get("x"), json!([1]));
    }
}
