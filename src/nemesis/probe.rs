//! Leader probes: how the nemesis learns which node currently leads, for the leader-targeted
//! faults. [`StatusProbe`] asks HTTP-KV nodes (`GET /status`, see `protocol.rs`); other protocols
//! supply their own [`LeaderProbe`].

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use crate::net::NodeId;
use crate::protocol::{Role, StatusBody};

/// A boxed future, so [`LeaderProbe`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What one node says about itself: its Raft role and term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeState {
    /// The node's role.
    pub role: Role,
    /// The node's current term.
    pub term: u64,
}

/// Tells the nemesis which node currently leads, for "isolate the leader". The runner supplies
/// one that asks the nodes (e.g. `GET /status`); it must be bounded in time.
pub trait LeaderProbe: Send + Sync {
    /// The current leader, or `None` if unknown.
    fn leader(&self) -> BoxFuture<'_, Option<NodeId>>;

    /// One node's role and term, or `None` if unknown (unreachable, paused, or a protocol that
    /// does not say). Multi-step faults that steer an election (`vote-twice`) need it; the
    /// default knows nothing, and those faults then stop early.
    fn state<'a>(&'a self, _node: &'a NodeId) -> BoxFuture<'a, Option<NodeState>> {
        Box::pin(async { None })
    }
}

/// A probe that never knows the leader (isolate-leader then isolates a random node).
pub struct NoLeaderProbe;

impl LeaderProbe for NoLeaderProbe {
    fn leader(&self) -> BoxFuture<'_, Option<NodeId>> {
        Box::pin(async { None })
    }
}

/// A probe backed by a closure returning a future.
pub struct FnLeaderProbe<F>(pub F);

impl<F, Fut> LeaderProbe for FnLeaderProbe<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Option<NodeId>> + Send + 'static,
{
    fn leader(&self) -> BoxFuture<'_, Option<NodeId>> {
        Box::pin((self.0)())
    }
}

/// Asks every node's `GET /status` concurrently (each bounded by `timeout`) and returns the node
/// that says it leads with the highest term; a deposed leader that has not noticed yet (a lower
/// term) loses to the real one. Unreachable or paused nodes simply do not answer in time.
pub struct StatusProbe {
    nodes: Vec<(NodeId, SocketAddr)>,
    timeout: Duration,
    client: reqwest::Client,
}

impl StatusProbe {
    /// A probe over `(id, client address)` pairs, e.g. `Cluster::client_addrs()`.
    pub fn new(nodes: Vec<(NodeId, SocketAddr)>, timeout: Duration) -> StatusProbe {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        StatusProbe {
            nodes,
            timeout,
            client,
        }
    }

    async fn status(&self, addr: SocketAddr) -> Option<StatusBody> {
        let ask = async {
            let resp = self
                .client
                .get(format!("http://{addr}/status"))
                .send()
                .await
                .ok()?;
            if !resp.status().is_success() {
                return None;
            }
            resp.json::<StatusBody>().await.ok()
        };
        tokio::time::timeout(self.timeout, ask).await.ok().flatten()
    }
}

impl LeaderProbe for StatusProbe {
    fn leader(&self) -> BoxFuture<'_, Option<NodeId>> {
        Box::pin(async move {
            let mut tasks = tokio::task::JoinSet::new();
            for (i, (_, addr)) in self.nodes.iter().enumerate() {
                let addr = *addr;
                let probe = StatusProbe {
                    nodes: Vec::new(),
                    timeout: self.timeout,
                    client: self.client.clone(),
                };
                tasks.spawn(async move { (i, probe.status(addr).await) });
            }
            let mut best: Option<(u64, NodeId)> = None;
            while let Some(joined) = tasks.join_next().await {
                let Ok((i, Some(status))) = joined else {
                    continue;
                };
                if status.role != Role::Leader {
                    continue;
                }
                let id = self.nodes[i].0.clone();
                if best.as_ref().is_none_or(|(term, _)| status.term > *term) {
                    best = Some((status.term, id));
                }
            }
            best.map(|(_, id)| id)
        })
    }

    fn state<'a>(&'a self, node: &'a NodeId) -> BoxFuture<'a, Option<NodeState>> {
        Box::pin(async move {
            let addr = self.nodes.iter().find(|(id, _)| id == node)?.1;
            let s = self.status(addr).await?;
            Some(NodeState {
                role: s.role,
                term: s.term,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-route HTTP server answering every request with `body` (or never, if `None`).
    async fn fake(body: Option<String>) -> SocketAddr {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let body = body.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let _ = s.read(&mut buf).await;
                    let Some(body) = body else {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return;
                    };
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = s.write_all(resp.as_bytes()).await;
                });
            }
        });
        addr
    }

    fn status(id: &str, role: &str, term: u64) -> Option<String> {
        Some(format!(
            r#"{{"id":"{id}","role":"{role}","term":{term},"leader":null,"commit_index":0,"applied_index":0}}"#
        ))
    }

    #[tokio::test]
    async fn finds_the_leader_with_the_highest_term_within_the_timeout() {
        let nodes = vec![
            ("n1".to_string(), fake(status("n1", "follower", 3)).await),
            ("n2".to_string(), fake(status("n2", "leader", 3)).await),
            ("n3".to_string(), fake(status("n3", "leader", 2)).await),
            ("n4".to_string(), fake(None).await),
        ];
        let probe = StatusProbe::new(nodes, Duration::from_millis(300));
        let started = std::time::Instant::now();
        assert_eq!(probe.leader().await.as_deref(), Some("n2"));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn no_leader_is_none() {
        let nodes = vec![("n1".to_string(), fake(status("n1", "candidate", 9)).await)];
        let probe = StatusProbe::new(nodes, Duration::from_millis(300));
        assert_eq!(probe.leader().await, None);
    }

    #[tokio::test]
    async fn reports_one_nodes_role_and_term() {
        let nodes = vec![
            ("n1".to_string(), fake(status("n1", "candidate", 9)).await),
            ("n2".to_string(), fake(None).await),
        ];
        let probe = StatusProbe::new(nodes, Duration::from_millis(300));
        assert_eq!(
            probe.state(&"n1".to_string()).await,
            Some(NodeState {
                role: Role::Candidate,
                term: 9
            })
        );
        assert_eq!(probe.state(&"n2".to_string()).await, None);
        assert_eq!(probe.state(&"n9".to_string()).await, None);
        assert_eq!(NoLeaderProbe.state(&"n1".to_string()).await, None);
    }
}
