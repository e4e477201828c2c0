//! The client API of [`crate::protocol`] on axum: each handler turns the HTTP request into a
//! [`Request`] for the driver and maps the [`Reply`] to a status code. A request the driver does
//! not answer in time is a 504: its outcome is unknown, never a definite failure.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

use super::request::{Op, Reply, Request};
use crate::protocol::{CasBody, ErrorBody, StatusBody, TxnBody, ValueBody};

#[derive(Clone)]
struct Api {
    requests: mpsc::Sender<Request>,
    status: watch::Receiver<StatusBody>,
    timeout: Duration,
}

/// Serve the client API on `listener` until the process exits.
pub async fn serve(
    listener: TcpListener,
    requests: mpsc::Sender<Request>,
    status: watch::Receiver<StatusBody>,
    timeout: Duration,
) {
    let api = Api {
        requests,
        status,
        timeout,
    };
    let app = Router::new()
        .route("/kv/{key}", get(read).put(write))
        .route("/kv/{key}/cas", post(cas))
        .route("/txn", post(txn))
        .route("/health", get(|| async { "ok" }))
        .route("/status", get(status_handler))
        .with_state(api);
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "client API stopped");
    }
}

/// Percent-encode a key for a `Location` header (unreserved characters stay as they are).
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn error(code: StatusCode, msg: &str, leader: Option<String>) -> Response {
    let body = ErrorBody {
        error: msg.to_string(),
        leader,
    };
    (code, Json(body)).into_response()
}

impl Api {
    /// Hand `op` to the driver and turn its answer into a response; `path` is the request path
    /// after the leader's address, used for redirects.
    async fn call(&self, op: Op, path: String) -> Response {
        let (tx, rx) = oneshot::channel();
        if self.requests.try_send(Request { op, reply: tx }).is_err() {
            // Not queued, so certainly not applied.
            return error(StatusCode::SERVICE_UNAVAILABLE, "node overloaded", None);
        }
        let reply = match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Reply::Unknown("node dropped the request".into()),
            Err(_) => Reply::Unknown("timed out waiting for commit".into()),
        };
        match reply {
            Reply::Ok(v) if v.is_null() => {
                (StatusCode::NOT_FOUND, Json(ValueBody { value: v })).into_response()
            }
            Reply::Ok(v) => (StatusCode::OK, Json(ValueBody { value: v })).into_response(),
            Reply::CasMismatch(v) => {
                (StatusCode::CONFLICT, Json(ValueBody { value: v })).into_response()
            }
            Reply::Txn(ops) => (StatusCode::OK, Json(TxnBody { ops })).into_response(),
            Reply::Aborted(why) => error(StatusCode::CONFLICT, &why, None),
            Reply::NotLeader(Some(addr)) => {
                let location = format!("http://{addr}{path}");
                let body = ErrorBody {
                    error: "not the leader".into(),
                    leader: Some(addr),
                };
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(header::LOCATION, location)],
                    Json(body),
                )
                    .into_response()
            }
            Reply::NotLeader(None) => {
                error(StatusCode::SERVICE_UNAVAILABLE, "no leader known", None)
            }
            Reply::Unknown(why) => error(StatusCode::GATEWAY_TIMEOUT, &why, None),
        }
    }
}

async fn read(State(api): State<Api>, Path(key): Path<String>) -> Response {
    let path = format!("/kv/{}", encode_key(&key));
    api.call(Op::Read { key }, path).await
}

async fn write(
    State(api): State<Api>,
    Path(key): Path<String>,
    Json(body): Json<ValueBody>,
) -> Response {
    let path = format!("/kv/{}", encode_key(&key));
    let resp = api
        .call(
            Op::Put {
                key,
                value: body.value,
            },
            path,
        )
        .await;
    null_result_is_ok(resp)
}

async fn cas(
    State(api): State<Api>,
    Path(key): Path<String>,
    Json(body): Json<CasBody>,
) -> Response {
    let path = format!("/kv/{}/cas", encode_key(&key));
    let resp = api
        .call(
            Op::Cas {
                key,
                from: body.from,
                to: body.to,
            },
            path,
        )
        .await;
    null_result_is_ok(resp)
}

async fn txn(State(api): State<Api>, Json(body): Json<TxnBody>) -> Response {
    api.call(Op::Txn { ops: body.ops }, "/txn".into()).await
}

/// A write or cas that succeeded with `null` as its result is still a 200: only reads answer 404
/// for "absent".
fn null_result_is_ok(resp: Response) -> Response {
    if resp.status() == StatusCode::NOT_FOUND {
        return (
            StatusCode::OK,
            Json(ValueBody {
                value: serde_json::Value::Null,
            }),
        )
            .into_response();
    }
    resp
}

async fn status_handler(State(api): State<Api>) -> Json<StatusBody> {
    Json(api.status.borrow().clone())
}

#[cfg(test)]
mod tests {
    use super::encode_key;

    #[test]
    fn redirect_keys_are_percent_encoded() {
        assert_eq!(encode_key("k-1_a.b~"), "k-1_a.b~");
        assert_eq!(encode_key("a b/\n"), "a%20b%2F%0A");
    }
}
