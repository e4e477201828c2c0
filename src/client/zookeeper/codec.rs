//! Pure pieces of the `zookeeper` client: where a key lives (one znode per key under the test
//! root), how values are stored (JSON text; empty data = absent), and what each ZooKeeper error
//! means for an operation (did it certainly not happen, or is it unknown?).

use serde_json::Value;
use zookeeper_client as zk;

/// The znode of `key` under `root`: the key with every byte outside `[A-Za-z0-9_-]`
/// percent-encoded, so any key is one path segment (and `.`/`..` cannot occur).
pub fn key_path(root: &str, key: &str) -> String {
    let mut seg = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            seg.push(b as char);
        } else {
            seg.push_str(&format!("%{b:02X}"));
        }
    }
    if seg.is_empty() {
        seg.push('%');
    }
    format!("{}/{seg}", root.trim_end_matches('/'))
}

/// Check a test root given in `client_options`: an absolute ZooKeeper path, not `/` itself,
/// without empty, `.` or `..` segments.
pub fn check_root(root: &str) -> Result<(), String> {
    let ok = root.starts_with('/')
        && root.len() > 1
        && !root.ends_with('/')
        && root[1..]
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
        && !root.contains('\0');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "client option \"root\": {root:?} must be an absolute znode path such as \"/faultline\""
        ))
    }
}

/// The bytes stored for `value` (its JSON text).
pub fn encode(value: &Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// The value stored in `data`: empty data reads as `null` (absent); anything else must be JSON.
pub fn decode(data: &[u8]) -> Result<Value, String> {
    if data.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(data).map_err(|e| {
        format!(
            "znode holds data faultline did not write ({e}): {:?}",
            String::from_utf8_lossy(&data[..data.len().min(40)])
        )
    })
}

/// What an error from a request means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// The server answered and rejected the request: it certainly did not happen.
    Rejected,
    /// The request may or may not have been applied (connection lost after sending, timeout,
    /// session expired with the request in flight, anything unrecognised).
    Unknown,
}

/// Classify a ZooKeeper error returned for a request that was handed to the session.
pub fn meaning(e: &zk::Error) -> Meaning {
    use zk::Error as E;
    match e {
        E::NoNode
        | E::NoAuth
        | E::BadVersion
        | E::NoChildrenForEphemerals
        | E::NodeExists
        | E::NotEmpty
        | E::InvalidAcl
        | E::AuthFailed
        | E::SessionMoved
        | E::NotReadOnly
        | E::QuotaExceeded
        | E::Throttled
        | E::MarshallingError
        | E::Unimplemented
        | E::ReconfigDisabled
        | E::BadArguments(_) => Meaning::Rejected,
        // ConnectionLoss, Timeout, SessionExpired, ClientClosed, NoHosts, unexpected codes and
        // anything added later: the request may have reached the leader.
        _ => Meaning::Unknown,
    }
}

/// Whether the session behind a request that failed with `e` is finished for good (a new one
/// must be made for the next request).
pub fn session_is_over(e: &zk::Error) -> bool {
    use zk::Error as E;
    matches!(
        e,
        E::SessionExpired | E::ClientClosed | E::AuthFailed | E::NoHosts | E::SessionMoved
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_key_is_one_safe_path_segment() {
        assert_eq!(key_path("/faultline", "k1"), "/faultline/k1");
        assert_eq!(key_path("/faultline/", "a/b"), "/faultline/a%2Fb");
        assert_eq!(key_path("/r", ".."), "/r/%2E%2E");
        assert_eq!(key_path("/r", ""), "/r/%");
        assert_eq!(key_path("/r", "é"), "/r/%C3%A9");
        assert_ne!(key_path("/r", "a b"), key_path("/r", "a%20b"));
    }

    #[test]
    fn roots_must_be_absolute_plain_paths() {
        assert!(check_root("/faultline").is_ok());
        assert!(check_root("/a/b").is_ok());
        for bad in ["", "/", "faultline", "/a/", "/a//b", "/a/../b", "/."] {
            assert!(check_root(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_round_trip_and_empty_data_is_absent() {
        for v in [json!(3), json!("x"), json!([1, 2]), json!({"a": null})] {
            assert_eq!(decode(&encode(&v)), Ok(v));
        }
        assert_eq!(decode(b""), Ok(Value::Null));
        let e = decode(b"\x00garbage").unwrap_err();
        assert!(e.contains("did not write"), "{e}");
    }

    #[test]
    fn rejections_are_definite_and_lost_connections_are_unknown() {
        for e in [
            zk::Error::BadVersion,
            zk::Error::NodeExists,
            zk::Error::NoNode,
            zk::Error::Throttled,
        ] {
            assert_eq!(meaning(&e), Meaning::Rejected, "{e}");
        }
        for e in [
            zk::Error::ConnectionLoss,
            zk::Error::Timeout,
            zk::Error::SessionExpired,
            zk::Error::ClientClosed,
            zk::Error::UnexpectedErrorCode(-999),
        ] {
            assert_eq!(meaning(&e), Meaning::Unknown, "{e}");
        }
        assert!(session_is_over(&zk::Error::SessionExpired));
        assert!(!session_is_over(&zk::Error::ConnectionLoss));
    }
}
