//! The classification table, one behaviour per test, against raw-TCP mock nodes on 127.0.0.1:0.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// What a mock node does with each request.
#[derive(Clone)]
enum Act {
    /// Answer with this status line, extra headers and body.
    Respond(u16, Vec<(String, String)>, String),
    /// Read the request and never answer.
    Hang,
    /// Read the request, then close the connection without answering.
    Close,
}

/// Start a mock node; `f` maps the request head (method + path) to an action.
async fn mock(f: impl Fn(&str) -> Act + Send + Sync + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let f = Arc::new(f);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let f = f.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut len = 0;
                // Read until the end of headers plus any Content-Length body.
                loop {
                    let n = match sock.read(&mut buf[len..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    len += n;
                    let text = String::from_utf8_lossy(&buf[..len]).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let clen = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if len < end + 4 + clen {
                            continue;
                        }
                        let head = text.lines().next().unwrap_or("").to_string();
                        match f(&head) {
                            Act::Respond(code, headers, body) => {
                                let mut out = format!(
                                    "HTTP/1.1 {code} X\r\ncontent-length: {}\r\ncontent-type: application/json\r\n",
                                    body.len()
                                );
                                for (k, v) in headers {
                                    out.push_str(&format!("{k}: {v}\r\n"));
                                }
                                out.push_str("\r\n");
                                out.push_str(&body);
                                if sock.write_all(out.as_bytes()).await.is_err() {
                                    return;
                                }
                                len = 0;
                            }
                            Act::Hang => {
                                tokio::time::sleep(Duration::from_secs(30)).await;
                                return;
                            }
                            Act::Close => return,
                        }
                    }
                }
            });
        }
    });
    addr
}

fn client(addrs: &[SocketAddr]) -> HttpKvClient {
    let nodes = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| (format!("n{}", i + 1), *a))
        .collect();
    let opts = HttpKvOptions {
        timeout: Duration::from_millis(400),
        max_hops: 4,
    };
    HttpKvClient::new(nodes, opts).unwrap()
}

fn read() -> Request {
    Request::Read { key: "k".into() }
}
fn write() -> Request {
    Request::Write {
        key: "k".into(),
        value: json!(3),
    }
}
fn cas() -> Request {
    Request::Cas {
        key: "k".into(),
        from: json!(1),
        to: json!(2),
    }
}

fn respond(code: u16, body: &str) -> Act {
    Act::Respond(code, vec![], body.to_string())
}

/// A port with nothing listening on it.
async fn dead_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    a
}

#[tokio::test]
async fn ok_read_takes_value_from_body() {
    let a = mock(|_| respond(200, r#"{"value":7}"#)).await;
    let c = client(&[a]).invoke(&read()).await;
    assert_eq!(
        (c.kind, c.value, c.node),
        (OpType::Ok, json!(7), Some("n1".into()))
    );
}

#[tokio::test]
async fn not_found_read_is_ok_null() {
    let a = mock(|_| respond(404, "")).await;
    let c = client(&[a]).invoke(&read()).await;
    assert_eq!((c.kind, c.value), (OpType::Ok, Value::Null));
}

#[tokio::test]
async fn ok_write_and_cas_record_request_value() {
    let a = mock(|_| respond(200, r#"{"value":3}"#)).await;
    let cl = client(&[a]);
    let w = cl.invoke(&write()).await;
    assert_eq!((w.kind, w.value), (OpType::Ok, json!(3)));
    let c = cl.invoke(&cas()).await;
    assert_eq!((c.kind, c.value), (OpType::Ok, json!([1, 2])));
}

#[tokio::test]
async fn cas_mismatch_is_fail() {
    let a = mock(|_| respond(409, r#"{"value":5}"#)).await;
    let c = client(&[a]).invoke(&cas()).await;
    assert_eq!((c.kind, c.value), (OpType::Fail, json!([1, 2])));
}

#[tokio::test]
async fn no_leader_everywhere_is_fail() {
    let a = mock(|_| respond(503, r#"{"error":"no leader"}"#)).await;
    let b = mock(|_| respond(503, r#"{"error":"no leader"}"#)).await;
    let c = client(&[a, b]).invoke(&write()).await;
    assert_eq!(c.kind, OpType::Fail);
}

#[tokio::test]
async fn unavailable_node_is_retried_on_the_next() {
    let a = mock(|_| respond(503, r#"{"error":"no leader"}"#)).await;
    let b = mock(|_| respond(200, r#"{"value":3}"#)).await;
    let c = client(&[a, b]).invoke(&write()).await;
    assert_eq!((c.kind, c.node), (OpType::Ok, Some("n2".into())));
}

#[tokio::test]
async fn redirect_is_followed_to_the_leader() {
    let leader = mock(|_| respond(200, r#"{"value":9}"#)).await;
    let loc = format!("http://{leader}/kv/k");
    let follower =
        mock(move |_| Act::Respond(307, vec![("location".into(), loc.clone())], String::new()))
            .await;
    let c = client(&[follower, leader]).invoke(&read()).await;
    assert_eq!(
        (c.kind, c.value, c.node),
        (OpType::Ok, json!(9), Some("n2".into()))
    );
}

#[tokio::test]
async fn redirect_loop_is_fail() {
    let a = mock(|_| Act::Respond(307, vec![], String::new())).await;
    // 307 without Location, and a two-node loop.
    assert_eq!(client(&[a]).invoke(&write()).await.kind, OpType::Fail);
    let b_holder = Arc::new(std::sync::Mutex::new(String::new()));
    let h = b_holder.clone();
    let x = mock(move |_| {
        Act::Respond(
            307,
            vec![("location".into(), h.lock().unwrap().clone())],
            String::new(),
        )
    })
    .await;
    let y = mock(move |_| {
        Act::Respond(
            307,
            vec![("location".into(), format!("{x}"))],
            String::new(),
        )
    })
    .await;
    *b_holder.lock().unwrap() = format!("http://{y}/kv/k");
    let c = client(&[x, y]).invoke(&write()).await;
    assert_eq!(c.kind, OpType::Fail, "{c:?}");
}

#[tokio::test]
async fn refused_connection_is_fail() {
    let a = dead_addr().await;
    let c = client(&[a]).invoke(&write()).await;
    assert_eq!(c.kind, OpType::Fail, "{c:?}");
}

#[tokio::test]
async fn timeout_is_info() {
    let a = mock(|_| Act::Hang).await;
    let c = client(&[a]).invoke(&write()).await;
    assert_eq!(c.kind, OpType::Info);
}

#[tokio::test]
async fn gateway_timeout_and_server_error_are_info() {
    for code in [504, 500, 502] {
        let a = mock(move |_| respond(code, r#"{"error":"x"}"#)).await;
        let c = client(&[a]).invoke(&cas()).await;
        assert_eq!(c.kind, OpType::Info, "status {code}");
    }
}

#[tokio::test]
async fn connection_closed_after_sending_is_info() {
    let a = mock(|_| Act::Close).await;
    let c = client(&[a]).invoke(&write()).await;
    assert_eq!(c.kind, OpType::Info, "{c:?}");
}

#[tokio::test]
async fn unparsable_read_body_is_info() {
    let a = mock(|_| respond(200, "not json")).await;
    let c = client(&[a]).invoke(&read()).await;
    assert_eq!(c.kind, OpType::Info);
}

#[tokio::test]
async fn status_is_parsed() {
    let a = mock(|head| {
        assert!(head.starts_with("GET /status"));
        respond(
            200,
            r#"{"id":"n1","role":"leader","term":3,"leader":"n1","leader_addr":"127.0.0.1:1","commit_index":4,"applied_index":4}"#,
        )
    })
    .await;
    let s = client(&[a]).status(a).await.unwrap();
    assert_eq!((s.id.as_str(), s.term), ("n1", 3));
    let bad = mock(|_| respond(200, "{}")).await;
    assert!(client(&[bad]).status(bad).await.is_err());
}

#[test]
fn location_forms_parse() {
    assert_eq!(
        parse_location("http://127.0.0.1:80/kv/a"),
        Some("127.0.0.1:80".parse().unwrap())
    );
    assert_eq!(
        parse_location("127.0.0.1:81"),
        Some("127.0.0.1:81".parse().unwrap())
    );
    assert_eq!(
        parse_location("http://localhost:82"),
        Some("127.0.0.1:82".parse().unwrap())
    );
    assert_eq!(parse_location("garbage"), None);
}

#[test]
fn keys_are_encoded_as_one_segment() {
    assert_eq!(encode_key("a/b c"), "a%2Fb%20c");
}

fn txn() -> Request {
    Request::Txn {
        ops: serde_json::from_value(json!([["append", "x", 1], ["r", "x", null]])).unwrap(),
    }
}

#[tokio::test]
async fn committed_transaction_records_the_answer_with_reads_filled() {
    let a = mock(|head| {
        assert!(head.starts_with("POST /txn"), "{head}");
        respond(200, r#"{"ops":[["append","x",1],["r","x",[1]]]}"#)
    })
    .await;
    let c = client(&[a]).invoke(&txn()).await;
    assert_eq!(
        (c.kind, c.value),
        (OpType::Ok, json!([["append", "x", 1], ["r", "x", [1]]]))
    );
    assert_eq!(
        txn().recorded_value(),
        json!([["append", "x", 1], ["r", "x", null]])
    );
}

#[tokio::test]
async fn an_answer_that_is_not_the_requests_transaction_is_info() {
    for body in [
        r#"{"ops":[["append","x",2],["r","x",[2]]]}"#,
        r#"{"ops":[["r","x",[1]]]}"#,
        r#"{"ops":[["append","y",1],["r","x",[1]]]}"#,
    ] {
        let a = mock(move |_| respond(200, body)).await;
        let c = client(&[a]).invoke(&txn()).await;
        assert_eq!(c.kind, OpType::Info, "{body}");
        assert_eq!(c.value, txn().recorded_value());
    }
}

#[tokio::test]
async fn aborted_transaction_is_fail_with_the_nodes_reason() {
    let a = mock(|_| respond(409, r#"{"error":"cannot append to a register"}"#)).await;
    let c = client(&[a]).invoke(&txn()).await;
    assert_eq!(c.kind, OpType::Fail);
    assert!(c.error.unwrap().contains("cannot append"));
}

#[tokio::test]
async fn a_node_without_the_txn_endpoint_is_named_by_the_probe() {
    let with = mock(|_| respond(307, "")).await;
    let without = mock(|head| {
        if head.starts_with("POST /txn") {
            respond(404, "")
        } else {
            respond(200, r#"{"value":1}"#)
        }
    })
    .await;
    assert!(client(&[with]).probe_txn().await.is_ok());
    let e = client(&[with, without]).probe_txn().await.unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("n2") && text.contains("POST /txn") && text.contains("404"),
        "{text}"
    );
    let c = client(&[without]).invoke(&txn()).await;
    assert_eq!(c.kind, OpType::Fail, "{c:?}");
}
