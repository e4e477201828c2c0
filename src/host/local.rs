//! [`LocalHost`]: nodes as child processes of this controller. Each node is spawned in its own
//! process group with its output appended to its log, signalled as a group, and reaped. The only
//! code in faultline that signals local node processes.
//!
//! Signals go to the node's process group (`-pgid`), so a node started through a wrapper (a shell
//! script, `ip netns exec`) is stopped with everything it started. We only ever signal groups we
//! created: the group id is the pid of a child we spawned, and we stop signalling a group once its
//! leader is reaped and the group is empty. Every node carries a parent-death signal (see
//! `spawn`), so a `kill -9` of the controller takes its nodes with it.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::exec::{self, Input, Output};
use super::spawn::Spawner;
use super::{Host, HostError, HostFaults, HostGuard, NodeCommand, NodeProc};

/// Longest a local command may run.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// This machine. Owns the spawner thread its nodes are tied to.
#[derive(Debug)]
pub struct LocalHost {
    spawner: Spawner,
}

impl LocalHost {
    /// Local nodes take every fault.
    pub const FAULTS: HostFaults = HostFaults {
        process: true,
        partition: true,
        clock: true,
        disk: true,
    };

    /// The local host, with its spawner thread.
    pub fn new() -> Result<LocalHost, HostError> {
        let spawner = Spawner::new("faultline-spawner").map_err(|source| HostError::Io {
            what: "start",
            path: PathBuf::from("<spawner thread>"),
            source,
        })?;
        Ok(LocalHost { spawner })
    }
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> HostError + 'a {
    move |source| HostError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

impl Host for LocalHost {
    fn name(&self) -> &str {
        "local"
    }

    fn faults(&self) -> HostFaults {
        LocalHost::FAULTS
    }

    fn run_dir(&self, local_run_dir: &Path) -> PathBuf {
        local_run_dir.to_path_buf()
    }

    fn place_program(&self, program: &Path) -> Result<PathBuf, HostError> {
        Ok(program.to_path_buf())
    }

    fn installed(&self, _name: &str, local: &Path) -> Result<PathBuf, HostError> {
        Ok(local.to_path_buf())
    }

    fn mkdir(&self, dirs: &[&Path]) -> Result<(), HostError> {
        for dir in dirs {
            std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        }
        Ok(())
    }

    fn upload(&self, local: &Path, remote: &Path, mode: u32) -> Result<(), HostError> {
        use std::os::unix::fs::PermissionsExt;
        if local == remote {
            return Ok(());
        }
        let tmp = remote.with_extension(format!("tmp{}", std::process::id()));
        std::fs::copy(local, &tmp).map_err(io("copy to", &tmp))?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
            .map_err(io("chmod", &tmp))?;
        std::fs::rename(&tmp, remote).map_err(io("rename to", remote))
    }

    fn fetch(&self, remote: &Path, local: &Path) -> Result<(), HostError> {
        if local == remote {
            return Ok(());
        }
        std::fs::copy(remote, local)
            .map(|_| ())
            .map_err(io("copy from", remote))
    }

    fn run(&self, argv: &[String], stdin: Option<&[u8]>) -> Result<String, HostError> {
        let (program, args) = argv.split_first().ok_or_else(|| HostError::Command {
            host: "local".into(),
            command: String::new(),
            message: "empty command".into(),
        })?;
        let mut command = Command::new(program);
        command.args(args);
        let input = stdin.map_or(Input::Null, Input::Bytes);
        exec::run(
            "local",
            &argv.join(" "),
            command,
            input,
            Output::Capture,
            RUN_LIMIT,
            |c| self.spawner.spawn(c),
        )
    }

    fn start(
        &self,
        id: &str,
        cmd: &NodeCommand,
        log: &Path,
    ) -> Result<Box<dyn NodeProc>, HostError> {
        let p = LocalProc::spawn(&self.spawner, id, cmd, log).map_err(|e| HostError::Command {
            host: "local".into(),
            command: cmd.display(),
            message: e.to_string(),
        })?;
        Ok(Box::new(p))
    }

    fn guard(&self, cleanup: &[String]) -> Result<HostGuard, HostError> {
        struct RunOnDrop(Vec<String>);
        impl Drop for RunOnDrop {
            fn drop(&mut self) {
                if let Some((p, args)) = self.0.split_first() {
                    let _ = Command::new(p)
                        .args(args)
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status();
                }
            }
        }
        Ok(HostGuard::new(RunOnDrop(cleanup.to_vec())))
    }

    fn remove_run_dir(&self, _dir: &Path) -> Result<(), HostError> {
        Ok(())
    }

    fn port_in_use(&self, addr: std::net::SocketAddr) -> bool {
        port_in_use(addr)
    }
}

/// A local node process that we spawned and have not reaped yet.
#[derive(Debug)]
pub struct LocalProc {
    child: Child,
    /// Process group id == the child's pid (`process_group(0)`).
    pgid: Pid,
    id: String,
    log: PathBuf,
}

impl LocalProc {
    /// Spawn `cmd` (on `spawner`'s thread) in a new process group, stdin closed, stdout and stderr
    /// appended to `log` (after a header line saying what is being started).
    pub fn spawn(
        spawner: &Spawner,
        id: &str,
        cmd: &NodeCommand,
        log: &Path,
    ) -> std::io::Result<LocalProc> {
        use std::os::unix::process::CommandExt;
        let mut file = OpenOptions::new().create(true).append(true).open(log)?;
        writeln!(
            file,
            "=== faultline: starting {id} at {}: {}",
            now(),
            cmd.display()
        )?;
        let err = file.try_clone()?;
        let mut command = Command::new(&cmd.program);
        command
            .args(&cmd.args)
            .envs(cmd.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(err))
            .process_group(0);
        let child = spawner.spawn(command)?;
        let pgid = Pid::from_raw(child.id() as i32);
        Ok(LocalProc {
            child,
            pgid,
            id: id.to_string(),
            log: log.to_path_buf(),
        })
    }

    fn killpg(&self, sig: Signal) -> Result<(), Errno> {
        match killpg(self.pgid, sig) {
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl NodeProc for LocalProc {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&mut self, sig: Signal) -> Result<(), HostError> {
        log_note(&self.log, &format!("{sig} {}", self.id));
        self.killpg(sig).map_err(|errno| HostError::Signal {
            host: "local".into(),
            signal: sig.to_string(),
            message: errno.to_string(),
        })
    }

    fn try_exit(&mut self) -> Option<String> {
        let status = self.child.try_wait().ok().flatten()?;
        // Whatever the leader left in its group goes too.
        let _ = self.killpg(Signal::SIGKILL);
        Some(describe_status(&status))
    }

    fn kill_and_reap(mut self: Box<Self>, limit: Duration) -> Option<String> {
        log_note(&self.log, &format!("SIGKILL {}", self.id));
        let _ = self.killpg(Signal::SIGKILL);
        let _ = self.killpg(Signal::SIGCONT);
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().ok().flatten() {
                // Stragglers the leader left in its group (e.g. a wrapper's children).
                let _ = self.killpg(Signal::SIGKILL);
                return Some(describe_status(&status));
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Append a `=== faultline: ...` marker line to a node's log, so a reader sees where the harness
/// signalled the node. Best effort: a log that cannot be written is not an error.
pub fn log_note(log: &Path, what: &str) {
    if let Ok(mut f) = OpenOptions::new().append(true).open(log) {
        let _ = writeln!(f, "=== faultline: {what} at {}", now());
    }
}

/// Describe an exit status for humans: `exit code 1`, `killed by SIGSEGV`.
pub fn describe_status(status: &ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    match status.signal() {
        Some(sig) => describe_signal(sig),
        None => "unknown status".to_string(),
    }
}

/// `killed by SIGKILL` for signal number `sig`.
pub fn describe_signal(sig: i32) -> String {
    match Signal::try_from(sig) {
        Ok(s) => format!("killed by {s}"),
        Err(_) => format!("killed by signal {sig}"),
    }
}

/// Whether `addr` is already taken on this host. Addresses this host does not have (e.g. inside
/// a network namespace) are not checked.
pub fn port_in_use(addr: std::net::SocketAddr) -> bool {
    matches!(
        std::net::TcpListener::bind(addr),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap_or_default()
    }

    #[test]
    fn spawns_logs_and_kills_a_group() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("n1.log");
        let cmd = NodeCommand {
            program: PathBuf::from("sh"),
            args: vec!["-c".into(), "echo hello $X; sleep 30 & wait".into()],
            env: vec![("X".into(), "world".into())],
        };
        let host = LocalHost::new().unwrap();
        let p = host.start("n1", &cmd, &log).unwrap();
        let pgid = Pid::from_raw(p.pid() as i32);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !tail(&log).contains("hello world") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(tail(&log).contains("hello world"));
        assert!(tail(&log).contains("=== faultline: starting n1"));
        let status = p.kill_and_reap(Duration::from_secs(5)).unwrap();
        assert_eq!(status, "killed by SIGKILL");
        assert!(tail(&log).contains("=== faultline: SIGKILL n1"));
        // The backgrounded `sleep` was in the group too: it must be gone (or a zombie about to be
        // reaped by init), so give the kernel a moment.
        let deadline = Instant::now() + Duration::from_secs(2);
        while killpg(pgid, None) != Err(Errno::ESRCH) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(killpg(pgid, None), Err(Errno::ESRCH));
    }

    #[test]
    fn runs_commands_and_copies_files() {
        let dir = tempfile::tempdir().unwrap();
        let host = LocalHost::new().unwrap();
        let out = host
            .run(
                &["sh".into(), "-c".into(), "cat; echo x".into()],
                Some(b"in "),
            )
            .unwrap();
        assert_eq!(out, "in x\n");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "data").unwrap();
        host.upload(&a, &b, 0o755).unwrap();
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "data");
        let c = dir.path().join("c");
        host.fetch(&b, &c).unwrap();
        assert_eq!(std::fs::read_to_string(&c).unwrap(), "data");
    }
}
