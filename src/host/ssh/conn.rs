//! The master connection to one host: `ssh -M` in the foreground as our child (with a
//! parent-death signal), its control socket in a private temporary directory, and the `ssh`
//! clients multiplexed over it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::host::config::SshTarget;
use crate::host::exec::{self, Input, Output};
use crate::host::spawn::Spawner;
use crate::host::HostError;

/// How long connecting (TCP + authentication) may take.
const CONNECT_LIMIT: Duration = Duration::from_secs(15);

/// An open master connection. Dropping it asks the master to exit and removes the socket.
#[derive(Debug)]
pub(super) struct Master {
    name: String,
    target: SshTarget,
    ssh: PathBuf,
    /// Holds the control socket; removed on drop.
    control_dir: PathBuf,
    control: PathBuf,
    child: Option<Child>,
    /// Spawns the master and every client; its thread is their parent for the death signal.
    spawner: Spawner,
}

impl Master {
    /// Connect to `target` (named `name` in errors).
    pub(super) fn open(name: &str, target: &SshTarget) -> Result<Master, HostError> {
        let conn = |message: String| HostError::Connect {
            host: name.to_string(),
            message,
        };
        let ssh = which("ssh").ok_or_else(|| {
            conn("`ssh` is not on PATH: install the OpenSSH client (openssh-client)".into())
        })?;
        let control_dir =
            control_dir().map_err(|e| conn(format!("cannot create a control directory: {e}")))?;
        let spawner = Spawner::new("faultline-ssh").map_err(|e| conn(e.to_string()))?;
        let mut m = Master {
            control: control_dir.join("m"),
            control_dir,
            name: name.to_string(),
            target: target.clone(),
            ssh,
            child: None,
            spawner,
        };
        m.start()?;
        Ok(m)
    }

    /// Spawn a client (tied to this host's spawner thread).
    pub(super) fn spawn(&self, c: Command) -> std::io::Result<Child> {
        self.spawner.spawn(c)
    }

    fn start(&mut self) -> Result<(), HostError> {
        let log = self.control_dir.join("master.log");
        let mut c = Command::new(&self.ssh);
        c.arg("-M").arg("-S").arg(&self.control).args(["-N", "-T"]);
        for o in [
            "ControlPersist=no",
            "BatchMode=yes",
            "StrictHostKeyChecking=yes",
            "ServerAliveInterval=5",
            "ServerAliveCountMax=3",
        ] {
            c.args(["-o", o]);
        }
        c.arg("-o")
            .arg(format!("ConnectTimeout={}", CONNECT_LIMIT.as_secs()));
        if let Some(k) = &self.target.known_hosts {
            c.arg("-o")
                .arg(format!("UserKnownHostsFile={}", k.display()));
        }
        if let Some(id) = &self.target.identity {
            c.args(["-o", "IdentitiesOnly=yes", "-i"]).arg(id);
        }
        self.destination(&mut c);
        c.arg("-E").arg(&log);
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let conn = |message: String| HostError::Connect {
            host: self.name.clone(),
            message,
        };
        let mut master = self
            .spawner
            .spawn(c)
            .map_err(|e| conn(format!("cannot start ssh: {e}")))?;
        let deadline = Instant::now() + CONNECT_LIMIT + Duration::from_secs(2);
        loop {
            if let Ok(Some(status)) = master.try_wait() {
                let why = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(conn(format!(
                    "ssh could not connect ({status}): {}; check that sshd runs there, that the key \
                     is authorized and that the host key is in known_hosts",
                    exec::one_line(&why)
                )));
            }
            if self.control.exists() && self.check().is_ok() {
                self.child = Some(master);
                return Ok(());
            }
            if Instant::now() >= deadline {
                let _ = master.kill();
                let _ = master.wait();
                return Err(conn(format!("no ssh connection within {CONNECT_LIMIT:?}")));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `ssh -O check`: the master is up and accepts clients.
    pub(super) fn check(&self) -> Result<String, HostError> {
        let mut c = self.client();
        c.args(["-O", "check"]);
        self.destination(&mut c);
        exec::run(
            &self.name,
            "ssh -O check",
            c,
            Input::Null,
            Output::Capture,
            Duration::from_secs(5),
            |c| self.spawner.spawn(c),
        )
    }

    /// An `ssh` client multiplexed over the master (never connecting on its own).
    pub(super) fn client(&self) -> Command {
        let mut c = Command::new(&self.ssh);
        c.arg("-S").arg(&self.control);
        for o in ["ControlMaster=no", "BatchMode=yes", "ProxyCommand=false"] {
            c.args(["-o", o]);
        }
        c
    }

    /// `[-F config] [-l user] [-p port] host`.
    pub(super) fn destination(&self, c: &mut Command) {
        if let Some(cfg) = &self.target.ssh_config {
            c.arg("-F").arg(cfg);
        }
        if let Some(u) = &self.target.user {
            c.args(["-l", u]);
        }
        if let Some(p) = self.target.port {
            c.arg("-p").arg(p.to_string());
        }
        c.arg(&self.target.host);
    }

    fn exit(&self) -> Result<String, HostError> {
        let mut c = self.client();
        c.args(["-O", "exit"]);
        self.destination(&mut c);
        exec::run(
            &self.name,
            "ssh -O exit",
            c,
            Input::Null,
            Output::Capture,
            Duration::from_secs(5),
            |c| self.spawner.spawn(c),
        )
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        if let Some(mut m) = self.child.take() {
            // Ask the master to exit (closing every channel), then make sure it is gone.
            let _ = self.exit();
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline && matches!(m.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = m.kill();
            let _ = m.wait();
        }
        let _ = std::fs::remove_dir_all(&self.control_dir);
    }
}

/// A fresh private directory for control sockets (short path: sockets are limited to 107
/// bytes), after removing those of dead controllers.
fn control_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let tmp = std::env::temp_dir();
    let prefix = "faultline-ssh-";
    if let Ok(entries) = std::fs::read_dir(&tmp) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let owner = name
                .strip_prefix(prefix)
                .and_then(|r| r.split('-').next())
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(pid) = owner {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
    for _ in 0..16 {
        let dir = tmp.join(format!(
            "{prefix}{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free name"))
}

/// `program` on `PATH`.
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/bin"].iter().map(PathBuf::from))
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}
