//! Supervision of a cluster's node processes: the per-node lifecycle state, noticing nodes that
//! exit on their own (a background monitor thread), and stopping everything. Shared by the
//! [`Cluster`](super::Cluster) handle and its monitor thread.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::process::log_tail;
use super::render::NodeCommand;
use super::spec::ClusterSpec;
use crate::host::{Host, NodeProc};
use crate::net::{NodeEndpoints, NodeId};

/// Lines of a node's log quoted in start errors.
pub(super) const TAIL_LINES: usize = 20;
/// How long we wait for a SIGKILLed leader to be reaped.
pub(super) const REAP_LIMIT: Duration = Duration::from_secs(5);
/// How often the monitor looks for nodes that exited on their own.
const MONITOR_INTERVAL: Duration = Duration::from_millis(50);

/// A node that exited without being killed by this cluster (a crash, a panic, a failed restart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnexpectedExit {
    /// The node.
    pub node: NodeId,
    /// How it exited (`exit code 101`, `killed by SIGSEGV`).
    pub status: String,
    /// When it was noticed, since the cluster started.
    pub after: Duration,
    /// The last lines of its log.
    pub log_tail: String,
}

/// The lifecycle state of one node.
#[derive(Debug)]
pub(super) enum State {
    /// Spawned and not known to have exited. `paused` = we sent SIGSTOP and no SIGCONT since.
    Running {
        proc: Box<dyn NodeProc>,
        paused: bool,
    },
    /// Killed by a verb of this cluster (nemesis kill or stop_all).
    Killed,
    /// Exited on its own; recorded in `unexpected`.
    Exited,
}

/// One node: where it lives, how it is started, its log, and its lifecycle state.
pub(super) struct Node {
    pub(super) endpoints: NodeEndpoints,
    /// The host the node runs on.
    pub(super) host: Arc<dyn Host>,
    /// This run's directory on that host.
    pub(super) host_dir: PathBuf,
    pub(super) command: NodeCommand,
    /// The node's log on the controller (for a remote host: the copy fetched from it).
    pub(super) log: PathBuf,
    /// The node's log on its host (== `log` for the local host).
    pub(super) host_log: PathBuf,
    /// `log` is up to date: fetched since the node last started.
    pub(super) collected: bool,
    pub(super) state: State,
}

impl Node {
    /// Copy the node's log from its host to the controller (a no-op for the local host).
    pub(super) fn collect_log(&mut self) {
        match self.host.fetch(&self.host_log, &self.log) {
            Ok(()) => self.collected = !matches!(self.state, State::Running { .. }),
            Err(e) => tracing::warn!(node = %self.endpoints.id, "cannot fetch the node's log: {e}"),
        }
    }
}

/// Everything the cluster handle and the monitor thread share.
pub(super) struct Inner {
    pub(super) spec: ClusterSpec,
    pub(super) program: PathBuf,
    pub(super) started: Instant,
    pub(super) nodes: Mutex<Vec<Node>>,
    pub(super) unexpected: Mutex<Vec<UnexpectedExit>>,
    pub(super) stop_monitor: AtomicBool,
}

impl Inner {
    pub(super) fn lock(&self) -> MutexGuard<'_, Vec<Node>> {
        self.nodes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reap nodes that exited on their own and record them. Called by the monitor and verbs.
    pub(super) fn poll_exits(&self, nodes: &mut [Node]) {
        for n in nodes.iter_mut() {
            if let State::Running { proc, .. } = &mut n.state {
                if let Some(status) = proc.try_exit() {
                    n.state = State::Exited;
                    n.collect_log();
                    let exit = UnexpectedExit {
                        node: n.endpoints.id.clone(),
                        status,
                        after: self.started.elapsed(),
                        log_tail: log_tail(&n.log, TAIL_LINES),
                    };
                    tracing::warn!(node = %exit.node, status = %exit.status, "node exited unexpectedly");
                    self.unexpected
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(exit);
                    n.state = State::Exited;
                }
            }
        }
    }

    /// Remove this run's directory from every remote host (once per host directory, in parallel).
    pub(super) fn remove_host_dirs(&self) {
        let nodes = self.lock();
        let mut dirs: Vec<(&Arc<dyn Host>, &PathBuf)> = Vec::new();
        for n in nodes.iter() {
            if !dirs
                .iter()
                .any(|(h, d)| h.name() == n.host.name() && **d == n.host_dir)
            {
                dirs.push((&n.host, &n.host_dir));
            }
        }
        std::thread::scope(|s| {
            for (host, dir) in dirs {
                s.spawn(move || {
                    if let Err(e) = host.remove_run_dir(dir) {
                        tracing::warn!("cannot remove the run directory on a host: {e}");
                    }
                });
            }
        });
    }

    /// Kill and reap every running node (continuing paused ones), then copy every node's log to
    /// the controller.
    pub(super) fn stop_all(&self) {
        let mut nodes = self.lock();
        self.poll_exits(&mut nodes);
        for n in nodes.iter_mut() {
            if let State::Running { .. } = n.state {
                if let State::Running { proc, .. } = std::mem::replace(&mut n.state, State::Killed)
                {
                    if proc.kill_and_reap(REAP_LIMIT).is_none() {
                        tracing::error!(node = %n.endpoints.id, "node did not die within 5s of SIGKILL");
                    }
                }
            }
        }
        // Fetch the logs not fetched since their node last ran, in parallel.
        std::thread::scope(|s| {
            for n in nodes.iter_mut().filter(|n| !n.collected) {
                s.spawn(move || n.collect_log());
            }
        });
    }
}

/// Start the thread that reaps and records nodes exiting on their own, until
/// `inner.stop_monitor` is set. `None` if the thread could not be created (exits are then still
/// noticed whenever a verb or [`super::Cluster::unexpected_exits`] runs).
pub(super) fn spawn_monitor(inner: Arc<Inner>) -> Option<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("faultline-node-monitor".into())
        .spawn(move || {
            while !inner.stop_monitor.load(Ordering::Relaxed) {
                std::thread::sleep(MONITOR_INTERVAL);
                let mut nodes = inner.lock();
                inner.poll_exits(&mut nodes);
            }
        })
        .ok()
}
