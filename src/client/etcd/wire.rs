//! etcd v3 JSON-gateway bodies (`/v3/kv/range`, `/v3/kv/put`, `/v3/kv/txn`) and the
//! classification of a node's answer. Pure: no I/O, so every rule is unit-tested.
//!
//! The gateway speaks protobuf-JSON: `bytes` fields (keys, values) are base64, 64-bit integers
//! are strings, and fields holding their default value (`succeeded: false`, an empty `kvs`) are
//! left out — which is why a 200 answer must carry a `header` before its absences are trusted.
//! faultline stores every value JSON-encoded in the etcd value bytes.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::client::Request;

/// Which gateway endpoint a request goes to, with its JSON body.
pub fn request_body(req: &Request, serializable: bool) -> (&'static str, Value) {
    match req {
        Request::Read { key } => {
            let mut body = json!({ "key": b64(key.as_bytes()) });
            if serializable {
                body["serializable"] = Value::Bool(true);
            }
            ("/v3/kv/range", body)
        }
        Request::Write { key, value } => ("/v3/kv/put", put(key, value)),
        Request::Cas { key, from, to } => {
            // `from: null` means "absent": etcd's create_revision is 0 only for a missing key.
            let compare = if from.is_null() {
                json!({ "key": b64(key.as_bytes()), "target": "CREATE", "result": "EQUAL",
                        "create_revision": "0" })
            } else {
                json!({ "key": b64(key.as_bytes()), "target": "VALUE", "result": "EQUAL",
                        "value": b64(&encode_value(from)) })
            };
            let body = json!({
                "compare": [compare],
                "success": [{ "request_put": put(key, to) }],
            });
            ("/v3/kv/txn", body)
        }
        // A transaction takes two steps (`txn.rs`); its first is the read.
        Request::Txn { ops } => {
            let keys = super::txn::keys_of(ops);
            ("/v3/kv/txn", super::txn::read_body(&keys, serializable))
        }
    }
}

fn put(key: &str, value: &Value) -> Value {
    json!({ "key": b64(key.as_bytes()), "value": b64(&encode_value(value)) })
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// The bytes faultline stores for `value` (its JSON text).
pub fn encode_value(value: &Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// What a node's answer means for the request.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// It happened; reads carry the value read (`null` = absent).
    Ok(Value),
    /// It certainly did not happen.
    Fail(String),
    /// It may or may not have happened.
    Info(String),
}

#[derive(Deserialize)]
struct RangeResponse {
    header: Option<Value>,
    #[serde(default)]
    kvs: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct KeyValue {
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
struct TxnResponse {
    header: Option<Value>,
    #[serde(default)]
    succeeded: bool,
}

#[derive(Deserialize)]
struct PutResponse {
    header: Option<Value>,
}

/// Error body of the gateway (`{"error": ..., "code": grpc code, "message": ...}`).
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
}

/// Classify an HTTP answer with `status` and `body` to `req`.
///
/// - 200 with a header: definite (`ok`; a txn with `succeeded` absent or false is a failed
///   compare: `fail`).
/// - 4xx other than 408: the gateway or etcd rejected the request before proposing it (bad
///   request, too many requests, auth): `fail`.
/// - everything else (5xx — etcd reports "request timed out" and "leader changed" as 503 —,
///   408, unreadable bodies): `info`.
pub fn classify(req: &Request, status: u16, body: &[u8]) -> Answer {
    if status != 200 {
        let reason = error_text(status, body);
        return if (400..500).contains(&status) && status != 408 {
            Answer::Fail(reason)
        } else {
            Answer::Info(reason)
        };
    }
    let unreadable = |e: serde_json::Error| Answer::Info(format!("unreadable 200 body: {e}"));
    let headerless = || Answer::Info("200 answer without a header".into());
    match req {
        Request::Read { .. } => match serde_json::from_slice::<RangeResponse>(body) {
            Err(e) => unreadable(e),
            Ok(r) if r.header.is_none() => headerless(),
            Ok(r) => match r.kvs.first() {
                None => Answer::Ok(Value::Null),
                Some(kv) => decode_value(&kv.value),
            },
        },
        Request::Write { value, .. } => match serde_json::from_slice::<PutResponse>(body) {
            Err(e) => unreadable(e),
            Ok(r) if r.header.is_none() => headerless(),
            Ok(_) => Answer::Ok(value.clone()),
        },
        Request::Cas { from, to, .. } => match serde_json::from_slice::<TxnResponse>(body) {
            Err(e) => unreadable(e),
            Ok(r) if r.header.is_none() => headerless(),
            Ok(r) if r.succeeded => Answer::Ok(Value::Array(vec![from.clone(), to.clone()])),
            Ok(_) => Answer::Fail("cas mismatch (txn compare failed)".into()),
        },
        // Transactions read their 200 answers in `txn.rs`.
        Request::Txn { .. } => Answer::Info("a transaction's answer is read step by step".into()),
    }
}

/// Decode a stored value: base64 of JSON text. Anything else was not written by faultline, so
/// the read's result is unknown rather than guessed.
pub(super) fn decode_value(b64_value: &str) -> Answer {
    let bytes = match B64.decode(b64_value) {
        Ok(b) => b,
        Err(e) => return Answer::Info(format!("value is not base64: {e}")),
    };
    match serde_json::from_slice(&bytes) {
        Ok(v) => Answer::Ok(v),
        Err(e) => Answer::Info(format!(
            "stored value {:?} is not JSON ({e}); was the key written by something else?",
            String::from_utf8_lossy(&bytes)
        )),
    }
}

/// Whether a `/v3/maintenance/status` answer comes from the leader (its `header.member_id`
/// equals its `leader`; both are decimal strings, and absent when zero).
pub fn is_self_leader(body: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    match (v["header"]["member_id"].as_str(), v["leader"].as_str()) {
        (Some(me), Some(leader)) => me == leader && me != "0",
        _ => false,
    }
}

fn error_text(status: u16, body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) if !e.error.is_empty() || !e.message.is_empty() => {
            let text = if e.message.is_empty() {
                e.error
            } else {
                e.message
            };
            format!("status {status}: {text}")
        }
        _ => format!("status {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read() -> Request {
        Request::Read { key: "k".into() }
    }

    fn cas(from: Value, to: Value) -> Request {
        Request::Cas {
            key: "k".into(),
            from,
            to,
        }
    }

    #[test]
    fn bodies_use_base64_keys_and_json_values() {
        let (path, body) = request_body(&read(), false);
        assert_eq!(path, "/v3/kv/range");
        assert_eq!(body, json!({ "key": "aw==" }));
        let (_, body) = request_body(&read(), true);
        assert_eq!(body["serializable"], json!(true));
        let w = Request::Write {
            key: "k".into(),
            value: json!(3),
        };
        let (path, body) = request_body(&w, true);
        assert_eq!(path, "/v3/kv/put");
        assert_eq!(body, json!({ "key": "aw==", "value": "Mw==" }));
    }

    #[test]
    fn cas_from_null_compares_create_revision() {
        let (path, body) = request_body(&cas(Value::Null, json!(1)), false);
        assert_eq!(path, "/v3/kv/txn");
        assert_eq!(body["compare"][0]["target"], "CREATE");
        assert_eq!(body["compare"][0]["create_revision"], "0");
        let (_, body) = request_body(&cas(json!(1), json!(2)), false);
        assert_eq!(body["compare"][0]["target"], "VALUE");
        assert_eq!(body["compare"][0]["value"], "MQ==");
        assert_eq!(body["success"][0]["request_put"]["value"], "Mg==");
    }

    #[test]
    fn definite_answers_are_ok_or_fail() {
        let hdr = r#"{"header":{"revision":"5"}"#;
        assert_eq!(
            classify(&read(), 200, format!("{hdr}}}").as_bytes()),
            Answer::Ok(Value::Null)
        );
        let found = format!(r#"{hdr},"kvs":[{{"key":"aw==","value":"Mw=="}}],"count":"1"}}"#);
        assert_eq!(
            classify(&read(), 200, found.as_bytes()),
            Answer::Ok(json!(3))
        );
        let c = cas(json!(1), json!(2));
        let won = format!(r#"{hdr},"succeeded":true}}"#);
        assert_eq!(classify(&c, 200, won.as_bytes()), Answer::Ok(json!([1, 2])));
        assert!(matches!(
            classify(&c, 200, format!("{hdr}}}").as_bytes()),
            Answer::Fail(_)
        ));
        assert!(matches!(
            classify(
                &c,
                429,
                br#"{"error":"etcdserver: too many requests","code":8}"#
            ),
            Answer::Fail(_)
        ));
    }

    #[test]
    fn only_a_member_naming_itself_is_the_leader() {
        let leader = br#"{"header":{"member_id":"42"},"leader":"42"}"#;
        let follower = br#"{"header":{"member_id":"7"},"leader":"42"}"#;
        assert!(is_self_leader(leader));
        assert!(!is_self_leader(follower));
        assert!(!is_self_leader(br#"{"header":{"member_id":"7"}}"#));
        assert!(!is_self_leader(b"oops"));
    }

    #[test]
    fn unknown_answers_are_info() {
        let c = cas(json!(1), json!(2));
        let timed_out = br#"{"error":"etcdserver: request timed out","code":14}"#;
        match classify(&c, 503, timed_out) {
            Answer::Info(r) => assert!(r.contains("request timed out"), "{r}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(classify(&c, 408, b""), Answer::Info(_)));
        assert!(matches!(classify(&c, 200, b"{}"), Answer::Info(_)));
        assert!(matches!(classify(&c, 200, b"not json"), Answer::Info(_)));
        let foreign = r#"{"header":{},"kvs":[{"key":"aw==","value":"aGk="}]}"#;
        assert!(matches!(
            classify(&read(), 200, foreign.as_bytes()),
            Answer::Info(_)
        ));
    }
}
