//! Partition backends behind one trait: the userspace TCP proxy (default, no root), network
//! namespaces + nftables (root), and nftables on remote hosts (`--hosts`). A backend decides
//! where each node binds and how it reaches its peers, cuts or heals directed links between
//! nodes, and degrades links ([`link`]: delay, bandwidth and resets in the proxy, packet loss in
//! netns). Knows nothing about Raft.

pub mod hosts;
pub mod link;
pub mod netns;
pub mod ports;
pub mod proxy;

pub use link::{LinkFault, LinkFaults};
pub use proxy::ProxyBackend;

use std::collections::BTreeSet;
use std::net::SocketAddr;

/// A node's identifier as used in cluster specs and histories (`n1`, `n2`, ...).
pub type NodeId = String;

/// A directed link: traffic from `.0` to `.1`. A symmetric cut is two links.
pub type Link = (NodeId, NodeId);

/// Where one node lives on the network, as laid out by a backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEndpoints {
    /// The node id.
    pub id: NodeId,
    /// Address the node binds its client API to (`{client_addr}`).
    pub client_bind: SocketAddr,
    /// Address the controller's clients use to reach the client API (usually `client_bind`).
    pub client_addr: SocketAddr,
    /// Address the node binds its peer listener to (`{peer_addr}`).
    pub peer_bind: SocketAddr,
    /// How this node reaches each other node's peer listener (`{peers}`), e.g. a proxy address.
    pub peers: Vec<(NodeId, SocketAddr)>,
    /// Command prefix to start the node with (e.g. `ip netns exec <ns>`); empty for none.
    pub command_prefix: Vec<String>,
    /// The cluster spec's extra named ports (`ports = ["election"]`), in spec order. Like the
    /// peer port, each is a node-to-node listener: cutting a link cuts it too.
    pub named: Vec<NamedPort>,
}

impl NodeEndpoints {
    /// The named port `name` of this node, if the layout has it.
    pub fn named_port(&self, name: &str) -> Option<&NamedPort> {
        self.named.iter().find(|p| p.name == name)
    }
}

/// One extra named port of one node (e.g. ZooKeeper's leader-election port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPort {
    /// The name from the cluster spec (`election` renders as `{election_port}`).
    pub name: String,
    /// Where this node binds it.
    pub bind: SocketAddr,
    /// How this node reaches the same port of each other node (with the proxy backend: through
    /// the per-pair proxies, so partitions cut it).
    pub peers: Vec<(NodeId, SocketAddr)>,
}

/// Errors from a partition backend.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A local address could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A system command (ip, nft) failed.
    #[error("`{command}` failed: {message}")]
    Command {
        /// The command line.
        command: String,
        /// Its stderr or the spawn error.
        message: String,
    },
    /// The backend cannot run here (e.g. netns without root).
    #[error("{0}")]
    Unsupported(String),
    /// A link named a node the backend does not know.
    #[error("unknown node {0:?}")]
    UnknownNode(NodeId),
}

/// A network backend: lays out node addresses and cuts/heals links.
///
/// Cuts must behave like dropped packets (stalled, not refused), and existing connections across a
/// cut link must stop carrying data.
pub trait NetBackend: Send + Sync {
    /// Short name for logs and reports (`proxy`, `netns`).
    fn name(&self) -> &'static str;
    /// The endpoints of every node, in node order.
    fn endpoints(&self) -> &[NodeEndpoints];
    /// Replace the set of cut links with `cuts` (idempotent; an empty set heals everything).
    fn set_cuts(&self, cuts: &BTreeSet<Link>) -> Result<(), NetError>;
    /// Replace the set of degraded links with `faults` (idempotent; an empty set restores every
    /// link). A backend refuses kinds it cannot do with [`NetError::Unsupported`]; by default it
    /// can do none.
    fn set_link_faults(&self, faults: &LinkFaults) -> Result<(), NetError> {
        match faults.links.values().next() {
            None => Ok(()),
            Some(f) => Err(NetError::Unsupported(format!(
                "the {} network backend cannot degrade links ({})",
                self.name(),
                f.name()
            ))),
        }
    }
    /// Heal everything and release every resource (proxies, namespaces, rules). Idempotent.
    fn shutdown(&self) -> Result<(), NetError>;
}
