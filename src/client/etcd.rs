//! The `etcd` client: etcd's v3 API through its HTTP/JSON gateway (reqwest), so a stock etcd
//! cluster can be tested unchanged. Reads are `range` (linearizable by default, or serializable),
//! writes are `put`, and cas is a `txn` comparing the value (or `create_revision == 0` for an
//! absent key) with a `put` on success. Values are stored JSON-encoded.
//!
//! Transactions (`list-append`, `rw-register`) read, then commit under `mod_revision` compares
//! (`txn.rs`).
//!
//! Classification (see [`wire::classify`]): a 200 answer is definite (`ok`; a txn whose compare
//! failed is `fail`); a 4xx other than 408 is `fail`; timeouts, connections broken after sending,
//! 5xx and unreadable answers are `info`. A connection refused carried no request: the client
//! tries the next node (etcd has no redirect — any member serves any request), and when every
//! node refused the operation is `fail`.

mod txn;
mod wire;

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use super::{BoxFuture, Client, Completion, Request};
use crate::history::OpType;
use crate::net::NodeId;

pub use wire::encode_value;

/// How reads are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadMode {
    /// Through the leader with a ReadIndex round (etcd's default): linearizable.
    #[default]
    Linearizable,
    /// By whichever member answers, from its local state: may be stale under partitions.
    Serializable,
}

impl FromStr for ReadMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "linearizable" => Ok(ReadMode::Linearizable),
            "serializable" => Ok(ReadMode::Serializable),
            other => Err(format!(
                "unknown etcd read mode {other:?}; use \"linearizable\" or \"serializable\""
            )),
        }
    }
}

impl fmt::Display for ReadMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReadMode::Linearizable => "linearizable",
            ReadMode::Serializable => "serializable",
        })
    }
}

/// Tunables of the `etcd` client.
#[derive(Debug, Clone, PartialEq)]
pub struct EtcdOptions {
    /// Budget for one whole request, retries on refused connections included; past it the
    /// operation is `info`.
    pub timeout: Duration,
    /// How reads are served.
    pub read: ReadMode,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions {
            timeout: Duration::from_secs(1),
            read: ReadMode::Linearizable,
        }
    }
}

impl EtcdOptions {
    /// Apply a cluster spec's client options (string keys and values): `read` =
    /// `"linearizable"` | `"serializable"`, `timeout` = a duration such as `"2s"`. The error names
    /// the offending key and says what is allowed.
    pub fn with_client_options<'a>(
        mut self,
        options: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, String> {
        for (key, value) in options {
            match key {
                "read" => self.read = value.parse()?,
                "timeout" => {
                    self.timeout = humantime::parse_duration(value)
                        .ok()
                        .filter(|d| !d.is_zero())
                        .ok_or_else(|| {
                            format!("client option \"timeout\": {value:?} is not a positive duration; write e.g. \"2s\"")
                        })?
                }
                other => {
                    return Err(format!(
                        "unknown etcd client option {other:?}; known: \"read\", \"timeout\""
                    ))
                }
            }
        }
        Ok(self)
    }
}

/// Errors building the client.
#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
    /// The cluster has no nodes to talk to.
    #[error("the etcd client needs at least one node address")]
    NoNodes,
}

/// An etcd client bound to a home node: requests go there first and move on to the next node
/// only when a connection is refused. Clones share the connection pool; give each worker its own
/// home node with [`Self::with_home`].
#[derive(Debug, Clone)]
pub struct EtcdClient {
    http: reqwest::Client,
    nodes: Vec<(NodeId, SocketAddr)>,
    home: usize,
    opts: EtcdOptions,
}

/// What one exchange with one node told us.
enum Hop {
    /// Definite or unknown: stop here.
    Done(Completion),
    /// The connection was refused: nothing was sent, try the next node.
    Refused(String),
}

impl EtcdClient {
    /// A client for the members whose client addresses are `nodes` (in node order).
    pub fn new(nodes: Vec<(NodeId, SocketAddr)>, opts: EtcdOptions) -> Result<Self, EtcdError> {
        if nodes.is_empty() {
            return Err(EtcdError::NoNodes);
        }
        let http = super::http_client(opts.timeout).map_err(|e| EtcdError::Build(e.to_string()))?;
        Ok(EtcdClient {
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

    /// The client's options.
    pub fn options(&self) -> &EtcdOptions {
        &self.opts
    }

    /// The member that currently leads, asked from each member's `/v3/maintenance/status` in
    /// turn (each ask bounded by the client timeout): the first member whose own id equals the
    /// leader id it reports. `None` when no reachable member is the leader it names (no leader,
    /// or the leader is unreachable). Suits `nemesis::LeaderProbe`.
    pub async fn leader(&self) -> Option<NodeId> {
        for (id, addr) in &self.nodes {
            let asked = self
                .http
                .post(format!("http://{addr}/v3/maintenance/status"))
                .timeout(self.opts.timeout)
                .json(&serde_json::json!({}))
                .send()
                .await;
            let Ok(resp) = asked else { continue };
            let Ok(bytes) = resp.bytes().await else {
                continue;
            };
            if wire::is_self_leader(&bytes) {
                return Some(id.clone());
            }
        }
        None
    }

    async fn run(&self, req: &Request) -> Completion {
        let mut last = String::from("no node accepted the connection");
        // Each node at most once: bounded whatever the cluster does.
        for i in 0..self.nodes.len() {
            let (id, addr) = &self.nodes[(self.home + i) % self.nodes.len()];
            let hop = match req {
                Request::Txn { ops } => self.txn(id, *addr, ops).await,
                _ => self.hop(id, *addr, req).await,
            };
            match hop {
                Hop::Done(c) => return c,
                Hop::Refused(reason) => last = reason,
            }
        }
        completion(OpType::Fail, req, None, last)
    }

    async fn hop(&self, node: &str, addr: SocketAddr, req: &Request) -> Hop {
        let serializable = self.opts.read == ReadMode::Serializable;
        let (path, body) = wire::request_body(req, serializable);
        let sent = self
            .http
            .post(format!("http://{addr}{path}"))
            .timeout(self.opts.timeout)
            .json(&body)
            .send()
            .await;
        let node = Some(node.to_string());
        let resp = match sent {
            Ok(r) => r,
            // Never connected: no byte of the request reached etcd.
            Err(e) if e.is_connect() && !e.is_timeout() => {
                return Hop::Refused(format!("{}: connection refused ({addr})", node_name(&node)));
            }
            Err(e) => {
                return Hop::Done(completion(
                    OpType::Info,
                    req,
                    node,
                    super::describe_transport_error(&e),
                ))
            }
        };
        let status = resp.status().as_u16();
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Hop::Done(completion(
                    OpType::Info,
                    req,
                    node,
                    super::describe_transport_error(&e),
                ))
            }
        };
        Hop::Done(match wire::classify(req, status, &bytes) {
            wire::Answer::Ok(value) => Completion {
                kind: OpType::Ok,
                value,
                node,
                error: None,
            },
            wire::Answer::Fail(e) => completion(OpType::Fail, req, node, e),
            wire::Answer::Info(e) => completion(OpType::Info, req, node, e),
        })
    }
}

impl Client for EtcdClient {
    fn invoke<'a>(&'a self, req: &'a Request) -> BoxFuture<'a, Completion> {
        Box::pin(async move {
            match tokio::time::timeout(self.opts.timeout, self.run(req)).await {
                Ok(c) => c,
                Err(_) => completion(
                    OpType::Info,
                    req,
                    None,
                    format!("timeout after {} ms", self.opts.timeout.as_millis()),
                ),
            }
        })
    }
}

fn node_name(node: &Option<String>) -> &str {
    node.as_deref().unwrap_or("?")
}

/// A non-ok completion carrying the request's value (`null`, the value, or `[from, to]`).
fn completion(kind: OpType, req: &Request, node: Option<String>, error: String) -> Completion {
    Completion {
        kind,
        value: req.recorded_value(),
        node,
        error: Some(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_modes_parse_and_name_the_choices_on_error() {
        assert_eq!("serializable".parse(), Ok(ReadMode::Serializable));
        assert_eq!("linearizable".parse(), Ok(ReadMode::Linearizable));
        let e = "stale".parse::<ReadMode>().unwrap_err();
        assert!(e.contains("\"stale\"") && e.contains("serializable"), "{e}");
        assert_eq!(ReadMode::default().to_string(), "linearizable");
    }

    #[test]
    fn client_options_set_read_mode_and_timeout_and_reject_unknown_keys() {
        let o = EtcdOptions::default()
            .with_client_options([("read", "serializable"), ("timeout", "3s")])
            .unwrap();
        assert_eq!(o.read, ReadMode::Serializable);
        assert_eq!(o.timeout, Duration::from_secs(3));
        let e = EtcdOptions::default()
            .with_client_options([("reads", "serializable")])
            .unwrap_err();
        assert!(e.contains("\"reads\""), "{e}");
        let e = EtcdOptions::default()
            .with_client_options([("timeout", "0s")])
            .unwrap_err();
        assert!(e.contains("timeout"), "{e}");
    }

    #[tokio::test]
    async fn every_node_refusing_is_a_fail_naming_the_last() {
        // Bind then drop: the ports are closed, so connects are refused.
        let closed = |_: usize| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let nodes = (0..3).map(|i| (format!("n{}", i + 1), closed(i))).collect();
        let c = EtcdClient::new(nodes, EtcdOptions::default())
            .unwrap()
            .with_home(1);
        let req = Request::Write {
            key: "k".into(),
            value: serde_json::Value::from(1),
        };
        let done = c.invoke(&req).await;
        assert_eq!(done.kind, OpType::Fail);
        assert!(done.error.unwrap().contains("n1: connection refused"));
        assert!(EtcdClient::new(vec![], EtcdOptions::default()).is_err());
    }
}
