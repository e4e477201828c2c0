//! The `zookeeper` client: a stock ZooKeeper ensemble tested through its own client protocol
//! (the `zookeeper-client` crate). One znode per key under a test root (`/faultline`); values are
//! stored as JSON text.
//!
//! - write = `setData`, or `create` when the znode is absent;
//! - cas = `getData` (value and version), compare, then `setData` with that version: a different
//!   value or `BadVersion` is `fail`; a cas from `null` on an absent key is a `create`;
//! - read = `getData` on the server the client is connected to (`read = "plain"`, the default:
//!   possibly stale), or `sync` then `getData` (`read = "sync"`, ZooKeeper's documented way to
//!   catch up with the leader first).
//!
//! Each client talks to ONE server, as a real ZooKeeper client pinned to one host would, over one
//! session that it makes on its first request and remakes after the session ends (expired,
//! closed). Every completion names that server. Classification: an answer is definite (`ok`, or
//! `fail` when the server rejected the request); a lost connection, a timeout or an expired
//! session with the request in flight is `info`; a session that could not be made sent nothing,
//! so the request is `fail`.
//!
//! - `codec`: key → znode path, value encoding, error meanings (pure).
//! - `fourlw`: four-letter words (`srvr`): a server's mode and epoch, for the leader probe.
//! - `ops`: the requests above against one session.

mod codec;
pub mod fourlw;
mod ops;

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use zookeeper_client as zk;

use super::{BoxFuture, Client, Completion, Request};
use crate::history::OpType;
use crate::net::NodeId;

pub use fourlw::{Mode, ServerState};

/// How reads are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadMode {
    /// `getData` answered by the connected server from its local state: may be stale.
    #[default]
    Plain,
    /// `sync`, then `getData`: the server first catches up with the leader.
    Sync,
}

impl FromStr for ReadMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "plain" => Ok(ReadMode::Plain),
            "sync" => Ok(ReadMode::Sync),
            other => Err(format!(
                "unknown zookeeper read mode {other:?}; use \"plain\" or \"sync\""
            )),
        }
    }
}

impl fmt::Display for ReadMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReadMode::Plain => "plain",
            ReadMode::Sync => "sync",
        })
    }
}

/// Tunables of the `zookeeper` client.
#[derive(Debug, Clone, PartialEq)]
pub struct ZkOptions {
    /// Budget for one whole request (making a session included); past it the op is `info`.
    pub timeout: Duration,
    /// How reads are served.
    pub read: ReadMode,
    /// The session timeout asked of the server (it clamps it to 2..20 ticks).
    pub session_timeout: Duration,
    /// The znode under which every key lives.
    pub root: String,
}

impl Default for ZkOptions {
    fn default() -> Self {
        ZkOptions {
            timeout: Duration::from_secs(1),
            read: ReadMode::Plain,
            session_timeout: Duration::from_secs(4),
            root: "/faultline".into(),
        }
    }
}

impl ZkOptions {
    /// Apply a cluster spec's client options: `read` = `"plain"` | `"sync"`, `timeout` and
    /// `session_timeout` = durations such as `"2s"`, `root` = a znode path. The error names the
    /// offending key and says what is allowed.
    pub fn with_client_options<'a>(
        mut self,
        options: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, String> {
        let duration = |key: &str, value: &str| {
            humantime::parse_duration(value)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    format!("client option {key:?}: {value:?} is not a positive duration; write e.g. \"2s\"")
                })
        };
        for (key, value) in options {
            match key {
                "read" => self.read = value.parse()?,
                "timeout" => self.timeout = duration(key, value)?,
                "session_timeout" => self.session_timeout = duration(key, value)?,
                "root" => {
                    codec::check_root(value)?;
                    self.root = value.to_string();
                }
                other => {
                    return Err(format!(
                        "unknown zookeeper client option {other:?}; known: \"read\", \"timeout\", \"session_timeout\", \"root\""
                    ))
                }
            }
        }
        Ok(self)
    }
}

/// Errors building the client.
#[derive(Debug, thiserror::Error)]
pub enum ZkError {
    /// The cluster has no nodes to talk to.
    #[error("the zookeeper client needs at least one node address")]
    NoNodes,
}

/// A ZooKeeper client for a whole ensemble; [`Self::for_server`] gives the per-worker clients,
/// each pinned to one server with its own session.
#[derive(Debug, Clone)]
pub struct ZkClient {
    nodes: Vec<(NodeId, SocketAddr)>,
    opts: ZkOptions,
}

impl ZkClient {
    /// A client for the servers whose client addresses are `nodes` (in node order).
    pub fn new(nodes: Vec<(NodeId, SocketAddr)>, opts: ZkOptions) -> Result<Self, ZkError> {
        if nodes.is_empty() {
            return Err(ZkError::NoNodes);
        }
        Ok(ZkClient { nodes, opts })
    }

    /// The client's options.
    pub fn options(&self) -> &ZkOptions {
        &self.opts
    }

    /// A client pinned to server `i % nodes`, with a session of its own (made on first use).
    pub fn for_server(&self, i: usize) -> ServerClient {
        let (node, addr) = self.nodes[i % self.nodes.len()].clone();
        ServerClient {
            node,
            addr,
            opts: self.opts.clone(),
            session: Arc::new(Mutex::new(None)),
        }
    }

    /// Every server's state from `srvr`, asked concurrently (each bounded by `timeout`); `None`
    /// for servers that did not answer.
    pub async fn states(&self, timeout: Duration) -> Vec<(NodeId, Option<ServerState>)> {
        let mut asks = tokio::task::JoinSet::new();
        for (i, (_, addr)) in self.nodes.iter().enumerate() {
            let addr = *addr;
            asks.spawn(async move { (i, fourlw::server_state(addr, timeout).await) });
        }
        let mut states = vec![None; self.nodes.len()];
        while let Some(joined) = asks.join_next().await {
            if let Ok((i, state)) = joined {
                states[i] = state;
            }
        }
        self.nodes
            .iter()
            .map(|(id, _)| id.clone())
            .zip(states)
            .collect()
    }

    /// The server that leads: of those whose `srvr` says `leader`, the one with the highest
    /// epoch (a deposed leader that has not noticed yet loses to the real one). `None` when no
    /// reachable server leads. Suits `nemesis::LeaderProbe`.
    pub async fn leader(&self, timeout: Duration) -> Option<NodeId> {
        self.states(timeout)
            .await
            .into_iter()
            .filter_map(|(id, s)| {
                s.filter(|s| s.mode == Mode::Leader)
                    .map(|s| (s.epoch(), id))
            })
            .max_by_key(|(epoch, _)| *epoch)
            .map(|(_, id)| id)
    }
}

/// A client pinned to one server, with one session at a time.
#[derive(Debug, Clone)]
pub struct ServerClient {
    node: NodeId,
    addr: SocketAddr,
    opts: ZkOptions,
    session: Arc<Mutex<Option<zk::Client>>>,
}

impl ServerClient {
    /// The server this client talks to.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The live session, or a new one (bounded by the caller's timeout). `Err` = no session
    /// could be made, so nothing was sent.
    async fn session(&self) -> Result<zk::Client, String> {
        let mut slot = self.session.lock().await;
        if let Some(s) = slot.as_ref() {
            if !s.state().is_terminated() {
                return Ok(s.clone());
            }
        }
        *slot = None;
        let made = zk::Client::connector()
            .with_session_timeout(self.opts.session_timeout)
            .with_fail_eagerly()
            .connect(&self.addr.to_string())
            .await
            .map_err(|e| format!("no session with {} ({}): {e}", self.node, self.addr))?;
        *slot = Some(made.clone());
        Ok(made)
    }

    /// Forget the session if the error says it is over (the next request makes a new one).
    async fn after_error(&self, e: &zk::Error) {
        if codec::session_is_over(e) {
            *self.session.lock().await = None;
        }
    }

    /// Perform `req` within the client's timeout: making the session may use part of it (past
    /// it, nothing was sent: `fail`), the request the rest (past it: `info`).
    async fn run(&self, req: &Request) -> Completion {
        let node = Some(self.node.clone());
        let deadline = tokio::time::Instant::now() + self.opts.timeout;
        let session = match tokio::time::timeout_at(deadline, self.session()).await {
            Ok(Ok(s)) => s,
            Ok(Err(why)) => return completion(OpType::Fail, req, node, why),
            Err(_) => {
                let why = format!(
                    "no session with {} within {} ms",
                    self.node,
                    self.opts.timeout.as_millis()
                );
                return completion(OpType::Fail, req, node, why);
            }
        };
        let performed = tokio::time::timeout_at(deadline, ops::perform(&session, &self.opts, req));
        let Ok(performed) = performed.await else {
            let why = format!("timeout after {} ms", self.opts.timeout.as_millis());
            return completion(OpType::Info, req, node, why);
        };
        let (kind, value, error) = match performed {
            Ok(ops::Done::Ok(v)) => (OpType::Ok, v, None),
            Ok(ops::Done::Fail(why)) => (OpType::Fail, req.recorded_value(), Some(why)),
            Ok(ops::Done::Unknown(why)) => (OpType::Info, req.recorded_value(), Some(why)),
            Err((e, what)) => {
                self.after_error(&e).await;
                let kind = match codec::meaning(&e) {
                    codec::Meaning::Rejected => OpType::Fail,
                    codec::Meaning::Unknown => OpType::Info,
                };
                (kind, req.recorded_value(), Some(format!("{what}: {e}")))
            }
        };
        Completion {
            kind,
            value,
            node,
            error,
        }
    }
}

impl Client for ServerClient {
    fn invoke<'a>(&'a self, req: &'a Request) -> BoxFuture<'a, Completion> {
        Box::pin(self.run(req))
    }
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
    fn client_options_set_read_mode_timeouts_and_root_and_reject_unknown_keys() {
        let o = ZkOptions::default()
            .with_client_options([
                ("read", "sync"),
                ("timeout", "3s"),
                ("session_timeout", "6s"),
                ("root", "/t/x"),
            ])
            .unwrap();
        assert_eq!(o.read, ReadMode::Sync);
        assert_eq!(
            (o.timeout, o.session_timeout),
            (Duration::from_secs(3), Duration::from_secs(6))
        );
        assert_eq!(o.root, "/t/x");
        for (k, v, want) in [
            ("reads", "sync", "\"reads\""),
            ("read", "stale", "\"plain\""),
            ("timeout", "0s", "timeout"),
            ("root", "faultline", "root"),
        ] {
            let e = ZkOptions::default()
                .with_client_options([(k, v)])
                .unwrap_err();
            assert!(e.contains(want), "{k}={v}: {e}");
        }
        assert_eq!(ReadMode::default().to_string(), "plain");
    }

    #[tokio::test]
    async fn a_server_that_refuses_gets_a_fail_naming_it_and_nothing_is_sent() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let zk = ZkClient::new(
            vec![("n1".into(), closed), ("n2".into(), closed)],
            ZkOptions::default(),
        )
        .unwrap();
        let c = zk.for_server(3);
        assert_eq!(c.node(), "n2");
        let req = Request::Write {
            key: "k".into(),
            value: serde_json::json!(1),
        };
        let done = c.invoke(&req).await;
        assert_eq!(done.kind, OpType::Fail, "{done:?}");
        assert_eq!(done.node.as_deref(), Some("n2"));
        assert!(done.error.unwrap().contains("no session with n2"));
        assert!(ZkClient::new(vec![], ZkOptions::default()).is_err());
        assert_eq!(zk.leader(Duration::from_millis(200)).await, None);
    }
}
