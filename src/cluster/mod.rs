//! Clusters of node processes: the cluster spec (TOML), rendering each node's command and files,
//! and starting, signalling and reaping nodes through the [`Host`](crate::host::Host) each runs
//! on. Owns node logs (`<run_dir>/nodes/<id>.log`, copied back from remote hosts), data
//! directories (`data/<id>` under the host's run directory) and config directories (`conf/<id>`,
//! created when the spec has `files` there; a local copy stays in the run directory). Decides
//! nothing about *when* faults happen (that is `nemesis`); addresses come from a
//! `net::NetBackend`.
//!
//! - [`spec`]: [`ClusterSpec`], parsed and validated from `clusters/*.toml`.
//! - [`render`]: placeholders → a node's command line and its per-node files.
//! - [`process`]: node logs on the controller (tails for error messages).
//! - [`ready`]: the readiness poll (HTTP GET or TCP send/expect).
//! - [`Cluster`]: the running cluster and its verbs by node id (kill, restart, pause, resume, stop).

#![warn(missing_docs)]

mod handle;
mod prepare;
pub mod process;
pub mod ready;
pub mod render;
mod resolve;
pub mod spec;
mod supervise;

use std::path::PathBuf;
use std::time::Duration;

pub use handle::{Cluster, UnexpectedExit};
pub use render::{NodeCommand, NodeDirs, RenderedFile};
pub use spec::{ClientKind, ClusterSpec, PortRef, ReadyCheck, ReadyProbe, SpecError};

use crate::net::NodeId;

/// Details of a node that failed to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartFailure {
    /// The node.
    pub node: NodeId,
    /// The program.
    pub program: PathBuf,
    /// Exit status, or the last readiness answer or error.
    pub reason: String,
    /// The readiness timeout.
    pub timeout: Duration,
    /// The node's log file.
    pub log: PathBuf,
    /// The last ~20 lines of the log.
    pub tail: String,
}

/// Errors starting or driving a cluster. Messages name the node and the binary, and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The spec is invalid or its command cannot be found.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The network backend laid out a different number of nodes than the spec asks for.
    #[error("the network backend has {backend} nodes but the cluster spec asks for {spec}")]
    NodeCount {
        /// Nodes in the spec.
        spec: usize,
        /// Nodes in the backend.
        backend: usize,
    },
    /// A file or directory under the run directory could not be created.
    #[error("cannot create {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The node's program could not be executed.
    #[error("node {node}: cannot start {program}: {source}")]
    Spawn {
        /// The node.
        node: NodeId,
        /// The program.
        program: PathBuf,
        /// The host's error.
        source: Box<crate::host::HostError>,
    },
    /// The node's host failed (placing the program, creating directories, signalling).
    #[error("node {node}: {source}")]
    Host {
        /// The node.
        node: NodeId,
        /// The host's error.
        source: Box<crate::host::HostError>,
    },
    /// An address the node must bind is already taken by another process.
    #[error("node {node}: address {addr} is already in use by another process; stop it or let faultline choose other ports")]
    PortInUse {
        /// The node.
        node: NodeId,
        /// The address.
        addr: std::net::SocketAddr,
    },
    /// The node's process exited while starting (reason = its exit status).
    #[error("node {} ({}) exited during start ({}); see {}; last lines:\n{}", .0.node, .0.program.display(), .0.reason, .0.log.display(), .0.tail)]
    Exited(Box<StartFailure>),
    /// The node did not pass its readiness check in time (reason = the last answer or error).
    #[error("node {} ({}) not ready after {}: {}; see {}; last lines:\n{}", .0.node, .0.program.display(), humantime::format_duration(.0.timeout), .0.reason, .0.log.display(), .0.tail)]
    NotReady(Box<StartFailure>),
    /// No node has this id.
    #[error("unknown node {0:?}")]
    UnknownNode(NodeId),
    /// The verb needs a stopped node but it is running.
    #[error("node {0} is already running")]
    AlreadyRunning(NodeId),
}
