//! The `http-kv` client: speaks the protocol in [`crate::protocol`] over plain HTTP (reqwest),
//! follows 307 redirects itself (bounded hops) and classifies every answer as ok / fail / info.
//!
//! Classification (never a guess):
//! - 200 -> `ok` (reads take their value from the body); 404 on a read -> `ok` with `null`;
//! - 409 on a cas -> `fail` (the comparison failed, nothing was written); 409 on a transaction
//!   -> `fail` (it aborted); 200 on a transaction -> `ok` with the answer's micro-ops, provided
//!   they are the request's own (else `info`);
//! - 404 or 405 on `POST /txn` -> `fail`: the node has no such endpoint (the runner asks every
//!   node first with [`HttpKvClient::probe_txn`], so a run does not start against such nodes);
//! - 503, a redirect loop, or a connection refused before anything was sent -> `fail`: no node
//!   accepted the request. Such answers are retried on the next node within the same request,
//!   since retrying something that certainly did not happen is safe;
//! - timeouts, 504, 500, any other status, a connection broken after sending, or a body that does
//!   not parse -> `info`: the request may have been applied.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::{BoxFuture, Client, Completion, Request};
use crate::history::OpType;
use crate::net::NodeId;
use crate::protocol::{CasBody, StatusBody, TxnBody, ValueBody};

#[cfg(test)]
mod tests;

/// Errors building the client or querying a node's status.
#[derive(Debug, thiserror::Error)]
pub enum HttpKvError {
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
    /// The cluster has no nodes to talk to.
    #[error("the http-kv client needs at least one node address")]
    NoNodes,
    /// A node does not serve `POST /txn`.
    #[error("node {node} ({addr}) does not serve POST /txn (answered {status}); transaction workloads (list-append, rw-register) need that endpoint: see the HTTP-KV protocol in README.md, or pick a single-key workload")]
    NoTxn {
        /// The node.
        node: String,
        /// Its client address.
        addr: SocketAddr,
        /// The status it answered.
        status: u16,
    },
    /// `GET /status` failed or answered something unreadable.
    #[error("GET http://{addr}/status: {message}")]
    Status {
        /// The node's client address.
        addr: SocketAddr,
        /// What went wrong.
        message: String,
    },
}

/// Tunables of the `http-kv` client.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpKvOptions {
    /// Budget for one whole request, redirects and retries included; past it the op is `info`.
    pub timeout: Duration,
    /// Most nodes contacted for one request (redirects plus retries on refusal).
    pub max_hops: usize,
}

impl Default for HttpKvOptions {
    fn default() -> Self {
        HttpKvOptions {
            timeout: Duration::from_secs(1),
            max_hops: 8,
        }
    }
}

/// An `http-kv` client bound to a home node: requests go there first, then follow redirects.
///
/// Clones share the connection pool; give each worker its own home node with [`Self::with_home`].
#[derive(Debug, Clone)]
pub struct HttpKvClient {
    http: reqwest::Client,
    nodes: Vec<(NodeId, SocketAddr)>,
    home: usize,
    opts: HttpKvOptions,
}

/// What one HTTP exchange with one node told us.
enum Hop {
    /// A definite or unknown outcome: stop here.
    Done(Completion),
    /// The node redirected us to another address.
    Redirect(SocketAddr),
    /// The node certainly did not take the request (503, refused): try another node.
    NotAccepted(String),
}

impl HttpKvClient {
    /// A client for the cluster whose client addresses are `nodes` (in node order).
    pub fn new(nodes: Vec<(NodeId, SocketAddr)>, opts: HttpKvOptions) -> Result<Self, HttpKvError> {
        if nodes.is_empty() {
            return Err(HttpKvError::NoNodes);
        }
        let http =
            super::http_client(opts.timeout).map_err(|e| HttpKvError::Build(e.to_string()))?;
        Ok(HttpKvClient {
            http,
            nodes,
            home: 0,
            opts,
        })
    }

    /// A clone that sends requests to node `home % nodes` first (sharing the connection pool).
    pub fn with_home(&self, home: usize) -> Self {
        let mut c = self.clone();
        c.home = home % self.nodes.len();
        c
    }

    /// `GET /status` of the node at `addr`, within the client's timeout.
    pub async fn status(&self, addr: SocketAddr) -> Result<StatusBody, HttpKvError> {
        let err = |message: String| HttpKvError::Status { addr, message };
        let resp = self
            .http
            .get(format!("http://{addr}/status"))
            .timeout(self.opts.timeout)
            .send()
            .await
            .map_err(|e| err(e.to_string()))?;
        if resp.status() != StatusCode::OK {
            return Err(err(format!("status {}", resp.status())));
        }
        let bytes = resp.bytes().await.map_err(|e| err(e.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|e| err(format!("unreadable body: {e}")))
    }

    /// Ask every node whether it serves `POST /txn`, with an empty transaction (which changes
    /// nothing): 404 or 405 means it does not. Any other answer, or none in time, counts as
    /// served (a node that is down now is the nemesis's business, not a missing endpoint).
    pub async fn probe_txn(&self) -> Result<(), HttpKvError> {
        for (node, addr) in &self.nodes {
            let sent = self
                .http
                .post(format!("http://{addr}/txn"))
                .json(&TxnBody { ops: vec![] })
                .timeout(self.opts.timeout)
                .send()
                .await;
            if let Ok(resp) = sent {
                let status = resp.status().as_u16();
                if matches!(status, 404 | 405) {
                    return Err(HttpKvError::NoTxn {
                        node: node.clone(),
                        addr: *addr,
                        status,
                    });
                }
            }
        }
        Ok(())
    }

    /// The node id for a client address, or the address itself when it is not a known node.
    fn node_name(&self, addr: SocketAddr) -> String {
        self.nodes
            .iter()
            .find(|(_, a)| *a == addr)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| addr.to_string())
    }

    /// Perform `req` without the overall timeout (the caller applies it).
    async fn run(&self, req: &Request) -> Completion {
        let mut addr = self.nodes[self.home].1;
        let mut next_retry = self.home;
        let mut last_reason = String::from("no node accepted the request");
        for _ in 0..self.opts.max_hops.max(1) {
            match self.hop(addr, req).await {
                Hop::Done(c) => return c,
                Hop::Redirect(to) => {
                    last_reason = format!("redirect loop ({} -> {to})", self.node_name(addr));
                    addr = to;
                }
                Hop::NotAccepted(reason) => {
                    last_reason = reason;
                    next_retry = (next_retry + 1) % self.nodes.len();
                    addr = self.nodes[next_retry].1;
                }
            }
        }
        fail(req, None, last_reason)
    }

    /// One exchange with one node.
    async fn hop(&self, addr: SocketAddr, req: &Request) -> Hop {
        let node = self.node_name(addr);
        let builder = match req {
            Request::Read { key } => self.http.get(kv_url(addr, key, false)),
            Request::Write { key, value } => {
                self.http.put(kv_url(addr, key, false)).json(&ValueBody {
                    value: value.clone(),
                })
            }
            Request::Cas { key, from, to } => {
                self.http.post(kv_url(addr, key, true)).json(&CasBody {
                    from: from.clone(),
                    to: to.clone(),
                })
            }
            Request::Txn { ops } => self
                .http
                .post(format!("http://{addr}/txn"))
                .json(&TxnBody { ops: ops.clone() }),
        };
        let resp = match builder.send().await {
            Ok(r) => r,
            // A connection that was never established carried no request: certainly not applied.
            Err(e) if e.is_connect() && !e.is_timeout() => {
                return Hop::NotAccepted(format!("{node}: connection refused"));
            }
            Err(e) => return Hop::Done(info(req, Some(node), super::describe_transport_error(&e))),
        };
        let status = resp.status();
        if status == StatusCode::TEMPORARY_REDIRECT {
            return match redirect_target(&resp) {
                Some(to) => Hop::Redirect(to),
                // A follower that cannot say where to go did not accept the request.
                None => Hop::NotAccepted(format!("{node}: 307 without a usable Location")),
            };
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return Hop::NotAccepted(format!("{node}: 503 no leader"));
        }
        if matches!(req, Request::Txn { .. }) && matches!(status.as_u16(), 404 | 405) {
            return Hop::Done(fail(
                req,
                Some(node.clone()),
                format!("{node} does not serve POST /txn ({})", status.as_u16()),
            ));
        }
        let known = matches!(status.as_u16(), 200 | 404 | 409);
        if !known {
            return Hop::Done(info(req, Some(node), format!("status {status}")));
        }
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return Hop::Done(info(req, Some(node), super::describe_transport_error(&e))),
        };
        Hop::Done(classify(req, status.as_u16(), &body, node))
    }
}

impl Client for HttpKvClient {
    fn invoke<'a>(&'a self, req: &'a Request) -> BoxFuture<'a, Completion> {
        Box::pin(async move {
            match tokio::time::timeout(self.opts.timeout, self.run(req)).await {
                Ok(c) => c,
                Err(_) => info(
                    req,
                    None,
                    format!("timeout after {} ms", self.opts.timeout.as_millis()),
                ),
            }
        })
    }
}

/// Classify a definite answer (200, 404 or 409) with its body.
fn classify(req: &Request, status: u16, body: &[u8], node: String) -> Completion {
    match (req, status) {
        (Request::Read { .. }, 200) => match serde_json::from_slice::<ValueBody>(body) {
            Ok(v) => ok(v.value, node),
            Err(e) => info(req, Some(node), format!("unreadable 200 body: {e}")),
        },
        (Request::Read { .. }, 404) => ok(Value::Null, node),
        (Request::Write { .. } | Request::Cas { .. }, 200) => ok(req.recorded_value(), node),
        (Request::Cas { .. }, 409) => fail(req, Some(node), "cas mismatch (409)".into()),
        (Request::Txn { ops }, 200) => match serde_json::from_slice::<TxnBody>(body) {
            Ok(answer) if super::txn_answer_matches(ops, &answer.ops) => {
                ok(super::txn_value(&answer.ops), node)
            }
            Ok(_) => info(
                req,
                Some(node),
                "the answer's micro-ops are not the request's".into(),
            ),
            Err(e) => info(req, Some(node), format!("unreadable 200 body: {e}")),
        },
        (Request::Txn { .. }, 409) => fail(req, Some(node), aborted(body)),
        // 404 on a write or 409 on a read/write are outside the protocol: unknown.
        _ => info(req, Some(node), format!("unexpected status {status}")),
    }
}

/// The `fail` reason of a 409 to a transaction, with the node's own words when it gave some.
fn aborted(body: &[u8]) -> String {
    match serde_json::from_slice::<crate::protocol::ErrorBody>(body) {
        Ok(e) => format!("aborted (409): {}", e.error),
        Err(_) => "aborted (409)".into(),
    }
}

fn ok(value: Value, node: String) -> Completion {
    Completion {
        kind: OpType::Ok,
        value,
        node: Some(node),
        error: None,
    }
}

fn fail(req: &Request, node: Option<String>, error: String) -> Completion {
    Completion {
        kind: OpType::Fail,
        value: req.recorded_value(),
        node,
        error: Some(error),
    }
}

fn info(req: &Request, node: Option<String>, error: String) -> Completion {
    Completion {
        kind: OpType::Info,
        value: req.recorded_value(),
        node,
        error: Some(error),
    }
}

fn kv_url(addr: SocketAddr, key: &str, cas: bool) -> String {
    let key = encode_key(key);
    if cas {
        format!("http://{addr}/kv/{key}/cas")
    } else {
        format!("http://{addr}/kv/{key}")
    }
}

/// Percent-encode everything but unreserved characters so any key fits in one path segment.
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The address a 307 points at: `Location` as a URL (`http://host:port/...`) or `host:port`.
fn redirect_target(resp: &reqwest::Response) -> Option<SocketAddr> {
    let loc = resp
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    parse_location(loc)
}

fn parse_location(loc: &str) -> Option<SocketAddr> {
    let rest = loc
        .strip_prefix("http://")
        .or_else(|| loc.strip_prefix("HTTP://"))
        .unwrap_or(loc);
    let authority = rest.split('/').next()?;
    let authority = authority.replace("localhost", "127.0.0.1");
    authority.parse().ok()
}
