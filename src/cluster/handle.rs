//! [`Cluster`]: a running set of node processes and the verbs that act on them by node id.
//!
//! Lifetimes: every process is started by this value, on its node's [`Host`], and stopped by it
//! ([`Cluster::stop_all`], also run on drop, so a panic leaves no orphan). A background monitor
//! thread notices nodes that exit on their own and records them as [`UnexpectedExit`]s. Host
//! operations are synchronous and bounded, so `Drop` can stop nodes without an async runtime.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use nix::sys::signal::Signal;

use super::prepare::{check_ports, prepare, ready_port};
use super::process::log_tail;
use super::ready::{http_client, wait_ready, NotReady};
use super::spec::ClusterSpec;
pub use super::supervise::UnexpectedExit;
use super::supervise::{spawn_monitor, Inner, Node, State, REAP_LIMIT, TAIL_LINES};
use super::{ClusterError, StartFailure};
use crate::host::Placement;
use crate::net::{NetBackend, NodeEndpoints, NodeId};

/// A running cluster. Verbs take node ids; no pid ever leaves this type.
pub struct Cluster {
    inner: Arc<Inner>,
    monitor: Option<JoinHandle<()>>,
}

impl Cluster {
    /// Start every node of `spec` as a local process at the addresses `net` laid out, with logs
    /// and data under `run_dir`, and wait until each passes its readiness check. On any failure
    /// every node started so far is stopped and the error names the node and the binary.
    pub async fn start(
        spec: &ClusterSpec,
        net: &dyn NetBackend,
        run_dir: &Path,
    ) -> Result<Cluster, ClusterError> {
        let placement = Placement::local().map_err(|source| ClusterError::Host {
            node: "*".into(),
            source: Box::new(source),
        })?;
        Self::start_on(spec, net, &placement, run_dir).await
    }

    /// [`Cluster::start`] with each node on the host `placement` gives it: the program is placed
    /// on the host, data and log live in the host's run directory, and logs are copied back to
    /// `run_dir/nodes/` when nodes stop.
    pub async fn start_on(
        spec: &ClusterSpec,
        net: &dyn NetBackend,
        placement: &Placement,
        run_dir: &Path,
    ) -> Result<Cluster, ClusterError> {
        let program = spec.resolve_command()?;
        let layout = net.endpoints();
        if layout.len() != spec.nodes {
            return Err(ClusterError::NodeCount {
                spec: spec.nodes,
                backend: layout.len(),
            });
        }
        mkdir(run_dir)?;
        // Absolute paths in node commands, so a node that changes directory still finds its data.
        let run_dir = &std::fs::canonicalize(run_dir).map_err(|source| ClusterError::Io {
            path: run_dir.to_path_buf(),
            source,
        })?;
        let logs = run_dir.join("nodes");
        mkdir(&logs)?;
        // Each node's host gets its directories and the program; hosts are prepared in parallel.
        let prepared: Vec<Result<Node, ClusterError>> = std::thread::scope(|s| {
            let handles: Vec<_> = layout
                .iter()
                .map(|ep| {
                    let host = placement.host(&ep.id);
                    let (program, logs) = (&program, &logs);
                    s.spawn(move || prepare(spec, layout, ep, host, program, run_dir, logs))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(ClusterError::Io {
                            path: run_dir.to_path_buf(),
                            source: std::io::Error::other("preparing a node panicked"),
                        })
                    })
                })
                .collect()
        });
        let nodes = prepared.into_iter().collect::<Result<Vec<Node>, _>>()?;
        let inner = Arc::new(Inner {
            spec: spec.clone(),
            program,
            started: Instant::now(),
            nodes: Mutex::new(nodes),
            unexpected: Mutex::new(Vec::new()),
            stop_monitor: AtomicBool::new(false),
        });
        let monitor = spawn_monitor(inner.clone());
        let cluster = Cluster { inner, monitor };
        // On error `cluster` is dropped, which stops every node already spawned.
        let ids = cluster.node_ids();
        // Check every node's ports before spawning any, so a clash starts nothing.
        for id in &ids {
            cluster.with_node(id, |_, n| check_ports(n.host.as_ref(), &n.endpoints))??;
        }
        for id in &ids {
            cluster.spawn(id)?;
        }
        let deadline = tokio::time::Instant::now() + spec.ready.timeout;
        for id in &ids {
            cluster.wait_ready_until(id, deadline).await?;
        }
        Ok(cluster)
    }

    /// The spec this cluster was started from.
    pub fn spec(&self) -> &ClusterSpec {
        &self.inner.spec
    }

    /// The resolved program every node runs.
    pub fn program(&self) -> &Path {
        &self.inner.program
    }

    /// Node ids in order (`n1` ...).
    pub fn node_ids(&self) -> Vec<NodeId> {
        self.inner
            .lock()
            .iter()
            .map(|n| n.endpoints.id.clone())
            .collect()
    }

    /// The endpoints of a node.
    pub fn endpoints(&self, id: &str) -> Option<NodeEndpoints> {
        self.inner
            .lock()
            .iter()
            .find(|n| n.endpoints.id == id)
            .map(|n| n.endpoints.clone())
    }

    /// `(id, client address)` of every node, for the clients.
    pub fn client_addrs(&self) -> Vec<(NodeId, std::net::SocketAddr)> {
        self.inner
            .lock()
            .iter()
            .map(|n| (n.endpoints.id.clone(), n.endpoints.client_addr))
            .collect()
    }

    /// Path of a node's log file.
    pub fn log_path(&self, id: &str) -> Option<PathBuf> {
        self.inner
            .lock()
            .iter()
            .find(|n| n.endpoints.id == id)
            .map(|n| n.log.clone())
    }

    /// The pid (== process group id) of a running node, for diagnostics and tests. Never signal
    /// it yourself: use the verbs.
    pub fn pid(&self, id: &str) -> Option<u32> {
        self.with_node(id, |_, n| match &n.state {
            State::Running { proc, .. } => Some(proc.pid()),
            _ => None,
        })
        .ok()
        .flatten()
    }

    /// Whether the node's process is alive (paused counts as alive).
    pub fn is_running(&self, id: &str) -> bool {
        self.with_node(id, |_, n| matches!(n.state, State::Running { .. }))
            .unwrap_or(false)
    }

    /// Whether the node is alive and paused (SIGSTOPped by [`Cluster::pause`]).
    pub fn is_paused(&self, id: &str) -> bool {
        self.with_node(id, |_, n| {
            matches!(n.state, State::Running { paused: true, .. })
        })
        .unwrap_or(false)
    }

    /// Nodes that exited without being killed by this cluster, in the order noticed.
    pub fn unexpected_exits(&self) -> Vec<UnexpectedExit> {
        {
            let mut nodes = self.inner.lock();
            self.inner.poll_exits(&mut nodes);
        }
        self.inner
            .unexpected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// SIGKILL the node's process group and reap it. A node that is not running is left alone.
    pub fn kill(&self, id: &str) -> Result<(), ClusterError> {
        let proc = self.with_node(id, |_, n| match n.state {
            State::Running { .. } => match std::mem::replace(&mut n.state, State::Killed) {
                State::Running { proc, .. } => Some((proc, n.log.clone())),
                _ => None,
            },
            _ => None,
        })?;
        if let Some((proc, _log)) = proc {
            // Reaping is bounded and done without the lock held.
            if proc.kill_and_reap(REAP_LIMIT).is_none() {
                tracing::error!(node = id, "node did not die within 5s of SIGKILL");
            }
        }
        Ok(())
    }

    /// SIGSTOP the node's process group. Idempotent; a node that is not running is left alone.
    pub fn pause(&self, id: &str) -> Result<(), ClusterError> {
        self.signal_running(id, Signal::SIGSTOP, true)
    }

    /// SIGCONT the node's process group. Idempotent; a node that is not running is left alone.
    pub fn resume(&self, id: &str) -> Result<(), ClusterError> {
        self.signal_running(id, Signal::SIGCONT, false)
    }

    /// Start a node that is not running again, with the same command, ports and data directory,
    /// and wait for its readiness check (the spec's timeout).
    pub async fn restart(&self, id: &str) -> Result<(), ClusterError> {
        self.spawn(id)?;
        let deadline = tokio::time::Instant::now() + self.inner.spec.ready.timeout;
        self.wait_ready_until(id, deadline).await
    }

    /// Start several stopped nodes at once (each like [`Self::restart`]), then wait for all of
    /// them to be ready within one readiness timeout. Returns one result per node, in order.
    pub async fn restart_all(&self, ids: &[NodeId]) -> Vec<Result<(), ClusterError>> {
        let spawned: Vec<Result<(), ClusterError>> = ids.iter().map(|id| self.spawn(id)).collect();
        let deadline = tokio::time::Instant::now() + self.inner.spec.ready.timeout;
        let mut out = Vec::with_capacity(ids.len());
        for (id, s) in ids.iter().zip(spawned) {
            out.push(match s {
                Ok(()) => self.wait_ready_until(id, deadline).await,
                Err(e) => Err(e),
            });
        }
        out
    }

    /// Continue paused nodes, SIGKILL every group and reap. Idempotent; also run on drop.
    pub fn stop_all(&self) {
        self.inner.stop_all();
    }

    fn with_node<T>(
        &self,
        id: &str,
        f: impl FnOnce(&Inner, &mut Node) -> T,
    ) -> Result<T, ClusterError> {
        let mut nodes = self.inner.lock();
        self.inner.poll_exits(&mut nodes);
        let node = nodes
            .iter_mut()
            .find(|n| n.endpoints.id == id)
            .ok_or_else(|| ClusterError::UnknownNode(id.to_string()))?;
        Ok(f(&self.inner, node))
    }

    fn signal_running(&self, id: &str, sig: Signal, pause: bool) -> Result<(), ClusterError> {
        self.with_node(id, |_, n| {
            if let State::Running { proc, paused } = &mut n.state {
                proc.signal(sig).map_err(|source| ClusterError::Host {
                    node: id.to_string(),
                    source: Box::new(source),
                })?;
                *paused = pause;
            }
            Ok(())
        })?
    }

    /// Spawn a node that is not running (port check first).
    fn spawn(&self, id: &str) -> Result<(), ClusterError> {
        self.with_node(id, |inner, n| {
            if let State::Running { .. } = n.state {
                return Err(ClusterError::AlreadyRunning(id.to_string()));
            }
            check_ports(n.host.as_ref(), &n.endpoints)?;
            let proc = n
                .host
                .start(id, &n.command, &n.host_log)
                .map_err(|source| ClusterError::Spawn {
                    node: id.to_string(),
                    program: inner.program.clone(),
                    source: Box::new(source),
                })?;
            tracing::debug!(node = id, pid = proc.pid(), "node started");
            n.collected = false;
            n.state = State::Running {
                proc,
                paused: false,
            };
            Ok(())
        })?
    }

    async fn wait_ready_until(
        &self,
        id: &str,
        deadline: tokio::time::Instant,
    ) -> Result<(), ClusterError> {
        let probe = self.inner.spec.ready.probe.clone();
        let (addr, log) =
            self.with_node(id, |_, n| (ready_port(&n.endpoints, &probe), n.log.clone()))?;
        let client = http_client();
        let exited = || {
            if self.is_running(id) {
                return None;
            }
            let status = self
                .inner
                .unexpected
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .rev()
                .find(|u| u.node == id)
                .map(|u| u.status.clone());
            Some(status.unwrap_or_else(|| "killed".into()))
        };
        let result = wait_ready(&client, &probe, addr, deadline, exited).await;
        if result.is_err() {
            let _ = self.with_node(id, |_, n| n.collect_log());
        }
        let failure = |reason| {
            Box::new(StartFailure {
                node: id.to_string(),
                program: self.inner.program.clone(),
                reason,
                timeout: self.inner.spec.ready.timeout,
                tail: log_tail(&log, TAIL_LINES),
                log: log.clone(),
            })
        };
        match result {
            Ok(()) => Ok(()),
            Err(NotReady::Exited(status)) => Err(ClusterError::Exited(failure(status))),
            Err(NotReady::Timeout(last)) => Err(ClusterError::NotReady(failure(last))),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.inner.stop_monitor.store(true, Ordering::Relaxed);
        self.inner.stop_all();
        if let Some(h) = self.monitor.take() {
            let _ = h.join();
        }
        // Logs are collected; what the run left on remote hosts goes.
        self.inner.remove_host_dirs();
    }
}

fn mkdir(path: &Path) -> Result<(), ClusterError> {
    std::fs::create_dir_all(path).map_err(|source| ClusterError::Io {
        path: path.to_path_buf(),
        source,
    })
}
