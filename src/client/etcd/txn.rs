//! Transactions on etcd, as Jepsen's etcd tests run them: read every key the transaction
//! touches in one read-only `txn` (one revision, linearizable unless reads are serializable),
//! evaluate the micro-ops locally, then commit the writes in a second `txn` whose compares
//! require every touched key's `mod_revision` to be the one read. A failed compare is an abort
//! (`fail`): a key changed in between, and nothing was written. A transaction that only reads
//! is done after the first step.
//!
//! Classification: a read step that does not answer makes a transaction with writes `fail`
//! (its writes were never sent); the commit step is classified like any write (`info` when
//! unknown). Lists are stored as JSON arrays, registers as JSON values, like every value.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use super::wire::{self, encode_value, Answer};
use super::{completion, EtcdClient, Hop, ReadMode};
use crate::client::{txn_value, Completion, Request};
use crate::history::OpType;
use crate::protocol::MicroOp;

/// What one key held when read: its value (`null` = absent) and `mod_revision` (0 = absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// The value.
    pub value: Value,
    /// Its revision.
    pub mod_revision: i64,
}

/// The distinct keys of `ops`, in first-use order.
pub fn keys_of(ops: &[MicroOp]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for op in ops {
        if !keys.iter().any(|k| k == op.key()) {
            keys.push(op.key().to_string());
        }
    }
    keys
}

/// The read step: one `range` per key inside one `txn` with no compare.
pub fn read_body(keys: &[String], serializable: bool) -> Value {
    let ranges: Vec<Value> = keys
        .iter()
        .map(|k| {
            let mut r = json!({ "key": B64.encode(k.as_bytes()) });
            if serializable {
                r["serializable"] = Value::Bool(true);
            }
            json!({ "request_range": r })
        })
        .collect();
    json!({ "success": ranges })
}

#[derive(Deserialize)]
struct TxnAnswer {
    header: Option<Value>,
    #[serde(default)]
    succeeded: bool,
    #[serde(default)]
    responses: Vec<Value>,
}

#[derive(Deserialize)]
struct Kv {
    #[serde(default)]
    value: String,
    #[serde(default)]
    mod_revision: Option<String>,
}

/// Parse the read step's answer: one [`Seen`] per key, or how the step ended otherwise.
pub fn parse_read(status: u16, body: &[u8], keys: &[String]) -> Result<Vec<Seen>, Answer> {
    if status != 200 {
        return Err(wire::classify(&Request::Txn { ops: vec![] }, status, body));
    }
    let answer: TxnAnswer = serde_json::from_slice(body)
        .map_err(|e| Answer::Info(format!("unreadable 200 body: {e}")))?;
    if answer.header.is_none() || answer.responses.len() != keys.len() {
        return Err(Answer::Info(format!(
            "read step answered {} ranges for {} keys",
            answer.responses.len(),
            keys.len()
        )));
    }
    answer
        .responses
        .iter()
        .map(|r| {
            let kvs: Vec<Kv> =
                serde_json::from_value(r["response_range"]["kvs"].clone()).unwrap_or_default();
            match kvs.first() {
                None => Ok(Seen {
                    value: Value::Null,
                    mod_revision: 0,
                }),
                Some(kv) => {
                    let value = match wire::decode_value(&kv.value) {
                        Answer::Ok(v) => v,
                        other => return Err(other),
                    };
                    let rev = kv.mod_revision.as_deref().unwrap_or("0");
                    let mod_revision = rev
                        .parse()
                        .map_err(|_| Answer::Info(format!("mod_revision {rev:?} is no number")))?;
                    Ok(Seen {
                        value,
                        mod_revision,
                    })
                }
            }
        })
        .collect()
}

/// Evaluate `ops` over what was read (`seen[i]` for `keys[i]`): the micro-ops with reads filled
/// in and each written key's final value. `Err` when an append meets something not a list.
pub fn eval(
    ops: &[MicroOp],
    keys: &[String],
    seen: &[Seen],
) -> Result<(Vec<MicroOp>, BTreeMap<String, Value>), String> {
    let mut state: BTreeMap<&str, Value> = keys
        .iter()
        .map(String::as_str)
        .zip(seen.iter().map(|s| s.value.clone()))
        .collect();
    let mut writes = BTreeMap::new();
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let cur = state.get(op.key()).cloned().unwrap_or(Value::Null);
        let new = match op {
            MicroOp::Read { key, .. } => {
                out.push(MicroOp::Read {
                    key: key.clone(),
                    value: cur,
                });
                continue;
            }
            MicroOp::Append { key, value } => match cur {
                Value::Null => json!([value]),
                Value::Array(mut l) => {
                    l.push(value.clone());
                    Value::Array(l)
                }
                other => return Err(format!("cannot append to {key:?}: it holds {other}")),
            },
            MicroOp::Write { value, .. } => value.clone(),
        };
        if let Some(slot) = state.get_mut(op.key()) {
            *slot = new.clone();
        }
        writes.insert(op.key().to_string(), new);
        out.push(op.clone());
    }
    Ok((out, writes))
}

/// The commit step: every touched key still at the revision read, then put the writes.
pub fn commit_body(keys: &[String], seen: &[Seen], writes: &BTreeMap<String, Value>) -> Value {
    let compare: Vec<Value> = keys
        .iter()
        .zip(seen)
        .map(|(k, s)| {
            json!({ "key": B64.encode(k.as_bytes()), "target": "MOD", "result": "EQUAL",
                    "mod_revision": s.mod_revision.to_string() })
        })
        .collect();
    let puts: Vec<Value> = writes
        .iter()
        .map(|(k, v)| {
            json!({ "request_put": { "key": B64.encode(k.as_bytes()),
                                     "value": B64.encode(encode_value(v)) } })
        })
        .collect();
    json!({ "compare": compare, "success": puts })
}

/// Classify the commit step's answer.
pub fn parse_commit(status: u16, body: &[u8]) -> Answer {
    if status != 200 {
        return wire::classify(&Request::Txn { ops: vec![] }, status, body);
    }
    match serde_json::from_slice::<TxnAnswer>(body) {
        Err(e) => Answer::Info(format!("unreadable 200 body: {e}")),
        Ok(a) if a.header.is_none() => Answer::Info("200 answer without a header".into()),
        Ok(a) if a.succeeded => Answer::Ok(Value::Null),
        Ok(_) => Answer::Fail("aborted: a key changed after it was read (compare failed)".into()),
    }
}

impl EtcdClient {
    /// One transaction against the member at `addr`.
    pub(super) async fn txn(&self, node: &str, addr: SocketAddr, ops: &[MicroOp]) -> Hop {
        let req = Request::Txn { ops: ops.to_vec() };
        let named = Some(node.to_string());
        let done = |kind, why: String| Hop::Done(completion(kind, &req, named.clone(), why));
        let keys = keys_of(ops);
        let serializable = self.opts.read == ReadMode::Serializable;
        let read_only = !ops.iter().any(MicroOp::is_write);
        let (status, body) = match self.post(addr, &read_body(&keys, serializable)).await {
            Ok(answer) => answer,
            Err(Step::Refused) => {
                return Hop::Refused(format!("{node}: connection refused ({addr})"))
            }
            // The writes were never sent; a read-only transaction's result is simply unknown.
            Err(Step::Lost(why)) if read_only => return done(OpType::Info, why),
            Err(Step::Lost(why)) => return done(OpType::Fail, format!("read step: {why}")),
        };
        let seen = match parse_read(status, &body, &keys) {
            Ok(seen) => seen,
            Err(Answer::Fail(why) | Answer::Info(why)) if !read_only => {
                return done(OpType::Fail, format!("read step: {why}"))
            }
            Err(Answer::Fail(why)) => return done(OpType::Fail, why),
            Err(Answer::Info(why)) => return done(OpType::Info, why),
            Err(Answer::Ok(_)) => return done(OpType::Info, "read step: no result".into()),
        };
        let (results, writes) = match eval(ops, &keys, &seen) {
            Ok(r) => r,
            Err(why) => return done(OpType::Fail, format!("aborted: {why}")),
        };
        let ok = Hop::Done(Completion {
            kind: OpType::Ok,
            value: txn_value(&results),
            node: named.clone(),
            error: None,
        });
        if read_only {
            return ok;
        }
        match self.post(addr, &commit_body(&keys, &seen, &writes)).await {
            Ok((status, body)) => match parse_commit(status, &body) {
                Answer::Ok(_) => ok,
                Answer::Fail(why) => done(OpType::Fail, why),
                Answer::Info(why) => done(OpType::Info, why),
            },
            // Never connected: the commit was not sent.
            Err(Step::Refused) => done(OpType::Fail, format!("{node}: connection refused")),
            Err(Step::Lost(why)) => done(OpType::Info, why),
        }
    }

    async fn post(&self, addr: SocketAddr, body: &Value) -> Result<(u16, Vec<u8>), Step> {
        let sent = self
            .http
            .post(format!("http://{addr}/v3/kv/txn"))
            .timeout(self.opts.timeout)
            .json(body)
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_connect() && !e.is_timeout() => return Err(Step::Refused),
            Err(e) => return Err(Step::Lost(crate::client::describe_transport_error(&e))),
        };
        let status = resp.status().as_u16();
        match resp.bytes().await {
            Ok(b) => Ok((status, b.to_vec())),
            Err(e) => Err(Step::Lost(crate::client::describe_transport_error(&e))),
        }
    }
}

/// How a step's request went wrong.
enum Step {
    /// Never connected: nothing was sent.
    Refused,
    /// Sent, but no answer came (why).
    Lost(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(v: Value) -> Vec<MicroOp> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_read_step_ranges_each_key_once() {
        let o = ops(json!([
            ["r", "x", null],
            ["append", "x", 1],
            ["r", "y", null]
        ]));
        let keys = keys_of(&o);
        assert_eq!(keys, ["x", "y"]);
        let body = read_body(&keys, true);
        assert_eq!(body["success"][1]["request_range"]["key"], "eQ==");
        assert_eq!(body["success"][0]["request_range"]["serializable"], true);
        assert!(body.get("compare").is_none());
    }

    #[test]
    fn reads_parse_with_revisions_and_absent_keys_are_revision_zero() {
        let keys = vec!["x".to_string(), "y".to_string()];
        let body = br#"{"header":{"revision":"9"},"succeeded":true,"responses":[
            {"response_range":{"header":{},"kvs":[{"key":"eA==","value":"WzEsMl0=","mod_revision":"7"}],"count":"1"}},
            {"response_range":{"header":{}}}]}"#;
        let seen = parse_read(200, body, &keys).unwrap();
        assert_eq!(seen[0].value, json!([1, 2]));
        assert_eq!((seen[0].mod_revision, seen[1].mod_revision), (7, 0));
        assert_eq!(seen[1].value, Value::Null);
        assert!(matches!(
            parse_read(200, b"{}", &keys),
            Err(Answer::Info(_))
        ));
        assert!(matches!(
            parse_read(503, b"{}", &keys),
            Err(Answer::Info(_))
        ));
    }

    #[test]
    fn evaluation_sees_own_writes_and_the_commit_compares_every_key() {
        let o = ops(json!([
            ["append", "x", 3],
            ["r", "x", null],
            ["w", "z", 5],
            ["r", "y", null]
        ]));
        let keys = keys_of(&o);
        assert_eq!(keys, ["x", "z", "y"]);
        let seen = vec![
            Seen {
                value: json!([1]),
                mod_revision: 4,
            },
            Seen {
                value: json!(2),
                mod_revision: 6,
            },
            Seen {
                value: Value::Null,
                mod_revision: 0,
            },
        ];
        let (out, writes) = eval(&o, &keys, &seen).unwrap();
        assert_eq!(out[1].value(), &json!([1, 3]));
        assert_eq!(out[3].value(), &Value::Null);
        assert_eq!(writes.len(), 2);
        let body = commit_body(&keys, &seen, &writes);
        assert_eq!(body["compare"].as_array().unwrap().len(), 3);
        assert_eq!(body["compare"][2]["mod_revision"], "0");
        assert_eq!(body["compare"][0]["target"], "MOD");
        assert_eq!(body["success"][0]["request_put"]["value"], "WzEsM10=");
        let bad = ops(json!([["append", "z", 1]])); // z holds a register
        assert!(eval(&bad, &keys, &seen).is_err());
    }

    #[test]
    fn a_failed_compare_is_an_abort() {
        assert!(matches!(
            parse_commit(200, br#"{"header":{"revision":"3"}}"#),
            Answer::Fail(_)
        ));
        assert!(matches!(
            parse_commit(200, br#"{"header":{},"succeeded":true}"#),
            Answer::Ok(_)
        ));
        assert!(matches!(parse_commit(503, b"{}"), Answer::Info(_)));
        assert!(matches!(parse_commit(400, b"{}"), Answer::Fail(_)));
    }
}
