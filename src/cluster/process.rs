//! One node process: spawning it in its own process group with its output appended to its log,
//! signalling the group, and reaping it. The only code in faultline that calls `fork`/`kill`.
//!
//! Signals go to the node's process group (`-pgid`), so a node started through a wrapper (a shell
//! script, `ip netns exec`) is stopped with everything it started. We only ever signal groups we
//! created: the group id is the pid of a child we spawned, and we stop signalling a group once its
//! leader is reaped and the group is empty.
//!
//! Orphans if the harness itself is killed: every node is spawned with `PR_SET_PDEATHSIG =
//! SIGKILL`, so the kernel kills it when the thread that spawned it dies. That thread is the
//! [`Spawner`]'s, which lives exactly as long as the cluster (not a tokio worker, which may come
//! and go), so a `kill -9` of the controller takes its nodes with it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::render::NodeCommand;

/// A running (or paused) node process that we spawned and have not reaped yet.
#[derive(Debug)]
pub struct NodeProcess {
    child: Child,
    /// Process group id == the child's pid (`process_group(0)`).
    pgid: Pid,
}

impl NodeProcess {
    /// Spawn `cmd` in a new process group, stdin closed, stdout and stderr appended to `log`
    /// (after a header line saying what is being started).
    pub fn spawn(id: &str, cmd: &NodeCommand, log: &Path) -> std::io::Result<NodeProcess> {
        let mut file = OpenOptions::new().create(true).append(true).open(log)?;
        writeln!(
            file,
            "=== faultline: starting {id} at {}: {}",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
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
        let parent = nix::unistd::getpid();
        // SAFETY: the closure runs between fork and exec and only makes async-signal-safe
        // system calls (prctl, getppid); it allocates only on the error path, which ends in
        // exec failure reporting as std expects.
        unsafe {
            command.pre_exec(move || {
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
                // The parent may have died before prctl took effect.
                if nix::unistd::getppid() != parent {
                    return Err(std::io::Error::other("the controller exited during spawn"));
                }
                Ok(())
            });
        }
        let child = command.spawn()?;
        let pgid = Pid::from_raw(child.id() as i32);
        Ok(NodeProcess { child, pgid })
    }

    /// The process id (also the process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send `sig` to the whole process group. `ESRCH` (group already gone) is not an error.
    pub fn signal(&self, sig: Signal) -> Result<(), Errno> {
        match killpg(self.pgid, sig) {
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// If the leader has exited, reap it and return its status (non-blocking).
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGKILL the group (continuing it first, in case it was stopped) and reap the leader,
    /// waiting at most `limit`. Returns the exit status, or `None` if the leader did not go away
    /// in time (it is then left to the OS; it has been sent SIGKILL).
    pub fn kill_and_reap(mut self, limit: Duration) -> Option<ExitStatus> {
        let _ = self.signal(Signal::SIGKILL);
        let _ = self.signal(Signal::SIGCONT);
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.try_exit() {
                // Stragglers the leader left in its group (e.g. a wrapper's children).
                let _ = self.signal(Signal::SIGKILL);
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Kill whatever is left in the group of a leader that already exited on its own.
    pub fn kill_group_leftovers(&self) {
        let _ = self.signal(Signal::SIGKILL);
    }
}

type SpawnRequest = (
    String,
    NodeCommand,
    std::path::PathBuf,
    mpsc::Sender<std::io::Result<NodeProcess>>,
);

/// A dedicated thread that spawns node processes, so that their parent-death signal is tied to
/// a thread that lives as long as the cluster. Dropping it ends the thread.
pub struct Spawner {
    tx: Option<mpsc::Sender<SpawnRequest>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Spawner {
    /// Start the spawner thread.
    pub fn new() -> std::io::Result<Spawner> {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        let thread = std::thread::Builder::new()
            .name("faultline-spawner".into())
            .spawn(move || {
                for (id, cmd, log, reply) in rx {
                    let _ = reply.send(NodeProcess::spawn(&id, &cmd, &log));
                }
            })?;
        Ok(Spawner {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Spawn a node on the spawner thread (see [`NodeProcess::spawn`]).
    pub fn spawn(&self, id: &str, cmd: &NodeCommand, log: &Path) -> std::io::Result<NodeProcess> {
        let gone = || std::io::Error::other("the spawner thread is gone");
        let (reply, answer) = mpsc::channel();
        self.tx
            .as_ref()
            .ok_or_else(gone)?
            .send((id.to_string(), cmd.clone(), log.to_path_buf(), reply))
            .map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }
}

impl Drop for Spawner {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Append a `=== faultline: ...` marker line to a node's log, so a reader sees where the harness
/// signalled the node. Best effort: a log that cannot be written is not an error.
pub fn log_note(log: &Path, what: &str) {
    if let Ok(mut f) = OpenOptions::new().append(true).open(log) {
        let _ = writeln!(
            f,
            "=== faultline: {what} at {}",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ")
        );
    }
}

/// Describe an exit status for humans: `exit code 1`, `killed by SIGSEGV`.
pub fn describe_status(status: &ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    match status.signal() {
        Some(sig) => match Signal::try_from(sig) {
            Ok(s) => format!("killed by {s}"),
            Err(_) => format!("killed by signal {sig}"),
        },
        None => "unknown status".to_string(),
    }
}

/// The last `n` lines of a log file (reads at most the last 64 KiB); empty if unreadable.
pub fn log_tail(path: &Path, n: usize) -> String {
    let mut buf = Vec::new();
    if let Ok(mut f) = File::open(path) {
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let start = len.saturating_sub(64 * 1024);
        if f.seek(SeekFrom::Start(start)).is_ok() {
            let _ = f.read_to_end(&mut buf);
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
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
    use std::path::PathBuf;

    #[test]
    fn spawns_logs_and_kills_a_group() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("n1.log");
        let cmd = NodeCommand {
            program: PathBuf::from("sh"),
            args: vec!["-c".into(), "echo hello $X; sleep 30 & wait".into()],
            env: vec![("X".into(), "world".into())],
        };
        let p = NodeProcess::spawn("n1", &cmd, &log).unwrap();
        let pgid = Pid::from_raw(p.pid() as i32);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !log_tail(&log, 5).contains("hello world") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(log_tail(&log, 5).contains("hello world"));
        assert!(log_tail(&log, 5).contains("=== faultline: starting n1"));
        let status = p.kill_and_reap(Duration::from_secs(5)).unwrap();
        assert_eq!(describe_status(&status), "killed by SIGKILL");
        // The backgrounded `sleep` was in the group too: it must be gone (or a zombie about to be
        // reaped by init), so give the kernel a moment.
        let deadline = Instant::now() + Duration::from_secs(2);
        while killpg(pgid, None) != Err(Errno::ESRCH) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(killpg(pgid, None), Err(Errno::ESRCH));
    }

    #[test]
    fn tail_returns_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l");
        std::fs::write(&p, (1..=30).map(|i| format!("{i}\n")).collect::<String>()).unwrap();
        let t = log_tail(&p, 3);
        assert_eq!(t, "28\n29\n30");
        assert_eq!(log_tail(&dir.path().join("missing"), 3), "");
    }
}
