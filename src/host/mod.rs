//! Where nodes run. A [`Host`] can make a program runnable there, create directories, upload a
//! file, start a node as its own process group ([`NodeProc`]: signal it, notice its exit, kill and
//! reap it), run a command and fetch a file back. `cluster` drives nodes only through this seam;
//! nothing above it knows whether a node is a local child process or runs on another machine.
//! Knows nothing about what a node is for.
//!
//! # Layout
//! - [`local`]: [`LocalHost`], processes on this machine (the default).
//! - [`ssh`]: [`SshHost`], processes on a remote machine over OpenSSH (one master connection per
//!   host, a watchdog that kills the node when the controller goes away).
//! - [`config`]: `hosts.toml`, which node runs on which host.
//! - [`lab`]: `faultline lab up/down`, namespaced `sshd` hosts on this machine.
//! - `spawn`: the thread that spawns every child with a parent-death signal.
//! - `exec`: running a short command with a time bound.

pub mod config;
mod exec;
pub mod lab;
pub mod local;
mod spawn;
pub mod ssh;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;

pub use config::{HostsFile, SshTarget};
pub use local::LocalHost;
pub use ssh::SshHost;

/// A fully rendered command to start a node: program, arguments, extra environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCommand {
    /// The program to exec (the backend's command prefix first, if any).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

impl NodeCommand {
    /// The command line, shell-like, for logs and error messages.
    pub fn display(&self) -> String {
        let mut s = self.program.display().to_string();
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }
}

/// Errors from a host. Messages name the host and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// A local I/O operation failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done (`create`, `copy`, ...).
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A command (local or remote) failed or could not be started.
    #[error("host {host}: `{command}` failed: {message}")]
    Command {
        /// The host's name.
        host: String,
        /// The command line.
        command: String,
        /// Its stderr, exit status or the spawn error.
        message: String,
    },
    /// The SSH connection to a host could not be made or was lost.
    #[error("host {host}: {message}")]
    Connect {
        /// The host's name.
        host: String,
        /// What failed and what to check.
        message: String,
    },
    /// Sending a signal to a node failed.
    #[error("host {host}: cannot send {signal}: {message}")]
    Signal {
        /// The host's name.
        host: String,
        /// The signal name.
        signal: String,
        /// Why.
        message: String,
    },
}

/// A node process started on a host that has not been reaped yet. Signals go to the node's whole
/// process group; a node that already exited ignores them (like `ESRCH`).
pub trait NodeProc: Send + std::fmt::Debug {
    /// The node's pid (== its process group id) on its host, for diagnostics.
    fn pid(&self) -> u32;
    /// Send `sig` (SIGSTOP, SIGCONT, SIGKILL or SIGTERM) to the node's process group.
    fn signal(&mut self, sig: Signal) -> Result<(), HostError>;
    /// If the node has exited, its exit described for humans (`exit code 1`, `killed by
    /// SIGSEGV`); non-blocking. The group's leftovers are killed once the leader is gone.
    fn try_exit(&mut self) -> Option<String>;
    /// SIGKILL the group (continuing it first) and reap it, waiting at most `limit`. Returns the
    /// exit description, or `None` if the node did not go away in time.
    fn kill_and_reap(self: Box<Self>, limit: Duration) -> Option<String>;
}

/// Which kinds of fault a host can take. Before a run starts, a schedule's faults are checked
/// against the hosts its nodes run on (`nemesis::Requirement::Host`): an asked fault a host
/// cannot take stops the run, naming it; an optional one is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFaults {
    /// kill -9, restart, SIGSTOP/SIGCONT.
    pub process: bool,
    /// Partitions.
    pub partition: bool,
    /// Clock skew and strobe.
    pub clock: bool,
    /// Disk faults (lost un-fsynced writes, torn writes, EIO, ENOSPC).
    pub disk: bool,
}

/// A place where nodes run. Implementations: [`LocalHost`] and [`SshHost`].
///
/// Paths given to a host's methods are paths *on that host*, except where a method says local.
pub trait Host: Send + Sync + std::fmt::Debug {
    /// A name for messages: `local`, or `root@10.77.3.1:22`.
    fn name(&self) -> &str;
    /// The faults nodes on this host can take.
    fn faults(&self) -> HostFaults;
    /// The directory on this host for one run's files, given the run's local directory.
    fn run_dir(&self, local_run_dir: &Path) -> PathBuf;
    /// Make the local executable `program` runnable on this host; returns its path there.
    fn place_program(&self, program: &Path) -> Result<PathBuf, HostError>;
    /// The path on this host of the program `name`, installed there (found on the host's
    /// `PATH`); `local` is where the controller found it.
    fn installed(&self, name: &str, local: &Path) -> Result<PathBuf, HostError>;
    /// Create directories and their parents on this host.
    fn mkdir(&self, dirs: &[&Path]) -> Result<(), HostError>;
    /// Copy the local file `local` to `remote` on this host (atomically: a reader never sees half a
    /// file), with permission bits `mode`.
    fn upload(&self, local: &Path, remote: &Path, mode: u32) -> Result<(), HostError>;
    /// Copy `remote` on this host to the local file `local` (replacing it).
    fn fetch(&self, remote: &Path, local: &Path) -> Result<(), HostError>;
    /// Run `argv` on this host with `stdin`, bounded in time; returns its stdout.
    fn run(&self, argv: &[String], stdin: Option<&[u8]>) -> Result<String, HostError>;
    /// [`Host::run`] with the privileges needed to change the host's firewall (`sudo -n` when the
    /// host's user is not root and `sudo = true` is configured).
    fn run_privileged(&self, argv: &[String], stdin: Option<&[u8]>) -> Result<String, HostError> {
        self.run(argv, stdin)
    }
    /// Start `cmd` as its own process group, output appended to `log` (on this host), tied to this
    /// controller: it dies if the controller goes away.
    fn start(
        &self,
        id: &str,
        cmd: &NodeCommand,
        log: &Path,
    ) -> Result<Box<dyn NodeProc>, HostError>;
    /// Run `cleanup` on this host when the returned guard is dropped *or* when this controller
    /// goes away without dropping it (killed, host connection lost).
    fn guard(&self, cleanup: &[String]) -> Result<HostGuard, HostError>;
    /// Remove this run's directory on this host (a no-op for the local host, whose run directory
    /// is the results directory).
    fn remove_run_dir(&self, dir: &Path) -> Result<(), HostError>;
    /// Whether `addr` is already taken by another process on this host (checked before a node
    /// starts; hosts that cannot tell answer `false`).
    fn port_in_use(&self, _addr: SocketAddr) -> bool {
        false
    }
}

/// Runs a cleanup command on its host when dropped (see [`Host::guard`]).
pub struct HostGuard {
    _inner: Box<dyn Send + Sync>,
}

impl HostGuard {
    /// Wrap whatever keeps the cleanup armed; dropping it must run the cleanup.
    pub fn new(inner: impl Send + Sync + 'static) -> HostGuard {
        HostGuard {
            _inner: Box::new(inner),
        }
    }
}

impl std::fmt::Debug for HostGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostGuard")
    }
}

/// Which host each node runs on.
#[derive(Debug, Clone)]
pub struct Placement {
    default: Arc<dyn Host>,
    by_node: BTreeMap<String, Arc<dyn Host>>,
}

impl Placement {
    /// Every node on this machine.
    pub fn local() -> Result<Placement, HostError> {
        Ok(Placement::all_on(Arc::new(LocalHost::new()?)))
    }

    /// Every node on `host`.
    pub fn all_on(host: Arc<dyn Host>) -> Placement {
        Placement {
            default: host,
            by_node: BTreeMap::new(),
        }
    }

    /// Node `id` on `host`; other nodes stay where they were.
    pub fn with(mut self, id: &str, host: Arc<dyn Host>) -> Placement {
        self.by_node.insert(id.to_string(), host);
        self
    }

    /// The host of node `id`.
    pub fn host(&self, id: &str) -> Arc<dyn Host> {
        self.by_node
            .get(id)
            .cloned()
            .unwrap_or_else(|| self.default.clone())
    }

    /// Connect to every host of `file` for `nodes` (in parallel), each node on its own host.
    pub fn connect(file: &HostsFile, nodes: &[String]) -> Result<Placement, HostError> {
        let targets = file
            .targets_for(nodes)
            .map_err(|message| HostError::Connect {
                host: file.source.display().to_string(),
                message,
            })?;
        let connected: Vec<Result<SshHost, HostError>> = std::thread::scope(|s| {
            let handles: Vec<_> = targets
                .iter()
                .map(|(_, t)| s.spawn(move || SshHost::connect(t)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(HostError::Connect {
                            host: "?".into(),
                            message: "the connecting thread panicked".into(),
                        })
                    })
                })
                .collect()
        });
        let mut placement = Placement::local()?;
        for ((id, _), host) in targets.iter().zip(connected) {
            placement = placement.with(id, Arc::new(host?));
        }
        Ok(placement)
    }
}
