//! [`SshHost`]: a remote machine reached with the OpenSSH client.
//!
//! One master connection per host (`ssh -M`, `ControlPersist=no`, run in the foreground as our
//! child), and every command, upload and node multiplexed over it (`ssh -S <socket>`): one TCP
//! connection and one authentication per host per run. The master and every client are spawned
//! with a parent-death signal, so a controller killed with `kill -9` takes them with it; the
//! server then closes every channel, and each node's wrapper (see [`wrapper`]) kills its node when
//! its stdin reaches EOF. A client never falls back to a connection of its own if the master is
//! gone (`ProxyCommand=false`).
//!
//! Files: uploads are `cat` into a temporary name then `mv` (atomic); the node binary is cached
//! under `<work_dir>/bin/<crc32>-<len>/` so a host receives each build once; fetches are `cat`.
//! A run's files live in `<work_dir>/runs/<run>-<random>/`, removed when the cluster is dropped
//! (after the logs were copied back).
//!
//! Why not the `openssh` crate: its master is daemonized (`ssh -f`), so a killed controller would
//! leave it running, and its API is async while the cluster seam is synchronous (it must stop
//! nodes from `Drop`). What it does beyond `ssh -S` we do not need.

mod conn;
mod proc;
pub mod wrapper;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::config::SshTarget;
use super::exec::{self, Input, Output};
use super::{Host, HostError, HostFaults, HostGuard, NodeCommand, NodeProc};
use conn::Master;
pub use proc::SshProc;

/// How long a remote command may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);
/// How long an upload may take.
const UPLOAD_LIMIT: Duration = Duration::from_secs(600);

/// A connected remote host.
#[derive(Debug)]
pub struct SshHost {
    name: String,
    target: SshTarget,
    master: Master,
    /// `work_dir` as an absolute path on the host.
    work_dir: PathBuf,
}

impl SshHost {
    /// The faults nodes on an SSH host can take: kill, pause and partitions (nftables on the
    /// host). Clock and disk faults act on local processes and directories only (a libfaketime
    /// control file and a FUSE mount of the controller).
    pub const FAULTS: HostFaults = HostFaults {
        process: true,
        partition: true,
        clock: false,
        disk: false,
    };

    /// Open the master connection to `target` and make its working directory.
    pub fn connect(target: &SshTarget) -> Result<SshHost, HostError> {
        let name = target.display();
        let conn = |message: String| HostError::Connect {
            host: name.clone(),
            message,
        };
        let mut host = SshHost {
            master: Master::open(&name, target)?,
            name: name.clone(),
            target: target.clone(),
            work_dir: PathBuf::new(),
        };
        let out = host.run(
            &strings(&[
                "sh",
                "-c",
                "mkdir -p -- \"$1\" && cd -- \"$1\" && pwd -P",
                "sh",
                &target.work_dir,
            ]),
            None,
        )?;
        // The last line: a login shell that greets on stdout must not confuse the answer.
        host.work_dir = PathBuf::from(out.lines().last().unwrap_or("").trim());
        if !host.work_dir.is_absolute() {
            return Err(conn(format!(
                "work_dir {:?}: the host answered {out:?}",
                target.work_dir
            )));
        }
        Ok(host)
    }

    /// The absolute working directory on the host.
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// A client running `argv` on the host (quoted for the remote shell).
    fn remote(&self, argv: &[String]) -> Result<(Command, String), HostError> {
        let line = quote(argv).map_err(|message| HostError::Command {
            host: self.name.clone(),
            command: argv.join(" "),
            message,
        })?;
        let mut c = self.master.client();
        c.arg("-T");
        self.master.destination(&mut c);
        c.arg("--").arg(&line);
        Ok((c, line))
    }

    fn run_with(
        &self,
        argv: &[String],
        input: Input<'_>,
        output: Output,
        limit: Duration,
    ) -> Result<String, HostError> {
        let (c, line) = self.remote(argv)?;
        exec::run(&self.name, &line, c, input, output, limit, |c| {
            self.master.spawn(c)
        })
    }

    fn under_work_dir(&self, p: &Path) -> bool {
        p.starts_with(self.work_dir.join("runs")) && p != self.work_dir.join("runs")
    }
}

impl Host for SshHost {
    fn name(&self) -> &str {
        &self.name
    }

    fn faults(&self) -> HostFaults {
        SshHost::FAULTS
    }

    fn run_dir(&self, local_run_dir: &Path) -> PathBuf {
        let base: String = local_run_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let tag = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
        self.work_dir.join("runs").join(format!("{base}-{tag}"))
    }

    fn place_program(&self, program: &Path) -> Result<PathBuf, HostError> {
        let (crc, len) = checksum(program).map_err(|source| HostError::Io {
            what: "read",
            path: program.to_path_buf(),
            source,
        })?;
        let name = program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "node".into());
        let there = self
            .work_dir
            .join("bin")
            .join(format!("{crc:08x}-{len}"))
            .join(name);
        let path = there.display().to_string();
        if self.run(&strings(&["test", "-x", &path]), None).is_err() {
            self.upload(program, &there, 0o755)?;
        }
        Ok(there)
    }

    fn installed(&self, name: &str, _local: &Path) -> Result<PathBuf, HostError> {
        let out = self
            .run(
                &strings(&["sh", "-c", "command -v \"$1\"", "sh", name]),
                None,
            )
            .map_err(|e| HostError::Command {
                host: self.name.clone(),
                command: format!("command -v {name}"),
                message: format!(
                    "`{name}` is not installed there ({e}); install it on every host, or give the \
                     cluster spec's command as a path to upload it"
                ),
            })?;
        Ok(PathBuf::from(out.lines().last().unwrap_or(name).trim()))
    }

    fn mkdir(&self, dirs: &[&Path]) -> Result<(), HostError> {
        let mut argv = strings(&["mkdir", "-p", "--"]);
        argv.extend(dirs.iter().map(|d| d.display().to_string()));
        self.run(&argv, None).map(|_| ())
    }

    fn upload(&self, local: &Path, remote: &Path, mode: u32) -> Result<(), HostError> {
        let file = std::fs::File::open(local).map_err(|source| HostError::Io {
            what: "open",
            path: local.to_path_buf(),
            source,
        })?;
        let script = "set -e; mkdir -p -- \"$(dirname -- \"$1\")\"; t=\"$1.tmp.$$\"; \
                      cat > \"$t\"; chmod \"$2\" \"$t\"; mv -f -- \"$t\" \"$1\"";
        let argv = strings(&[
            "sh",
            "-c",
            script,
            "sh",
            &remote.display().to_string(),
            &format!("{mode:o}"),
        ]);
        self.run_with(&argv, Input::File(file), Output::Capture, UPLOAD_LIMIT)
            .map(|_| ())
    }

    fn fetch(&self, remote: &Path, local: &Path) -> Result<(), HostError> {
        let tmp = local.with_extension(format!("fetch{}", std::process::id()));
        let io = |what, source| HostError::Io {
            what,
            path: tmp.clone(),
            source,
        };
        let file = std::fs::File::create(&tmp).map_err(|e| io("create", e))?;
        let argv = strings(&["cat", "--", &remote.display().to_string()]);
        let res = self.run_with(&argv, Input::Null, Output::File(file), UPLOAD_LIMIT);
        if let Err(e) = res {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        std::fs::rename(&tmp, local).map_err(|e| io("rename", e))
    }

    fn run(&self, argv: &[String], stdin: Option<&[u8]>) -> Result<String, HostError> {
        self.run_with(
            argv,
            stdin.map_or(Input::Null, Input::Bytes),
            Output::Capture,
            RUN_LIMIT,
        )
    }

    fn run_privileged(&self, argv: &[String], stdin: Option<&[u8]>) -> Result<String, HostError> {
        if !self.target.sudo {
            return self.run(argv, stdin);
        }
        let mut all = strings(&["sudo", "-n", "--"]);
        all.extend_from_slice(argv);
        self.run(&all, stdin)
    }

    fn start(
        &self,
        id: &str,
        cmd: &NodeCommand,
        log: &Path,
    ) -> Result<Box<dyn NodeProc>, HostError> {
        let mut argv = strings(&[
            "sh",
            "-c",
            wrapper::NODE_SCRIPT,
            "faultline-node",
            &log.display().to_string(),
            &self.work_dir.display().to_string(),
        ]);
        if !cmd.env.is_empty() {
            argv.push("env".into());
            argv.extend(cmd.env.iter().map(|(k, v)| format!("{k}={v}")));
        }
        argv.push(cmd.program.display().to_string());
        argv.extend(cmd.args.iter().cloned());
        let (mut c, _) = self.remote(&argv)?;
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = self.master.spawn(c).map_err(|e| HostError::Command {
            host: self.name.clone(),
            command: cmd.display(),
            message: format!("cannot start ssh: {e}"),
        })?;
        tracing::debug!(node = id, host = %self.name, "starting a remote node");
        Ok(Box::new(SshProc::attach(
            &self.name,
            &cmd.display(),
            child,
        )?))
    }

    fn guard(&self, cleanup: &[String]) -> Result<HostGuard, HostError> {
        let mut argv = strings(&["sh", "-c", wrapper::GUARD_SCRIPT, "faultline-guard"]);
        if self.target.sudo {
            argv.extend(strings(&["sudo", "-n", "--"]));
        }
        argv.extend_from_slice(cleanup);
        let (mut c, line) = self.remote(&argv)?;
        c.stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = self.master.spawn(c).map_err(|e| HostError::Command {
            host: self.name.clone(),
            command: line,
            message: format!("cannot start ssh: {e}"),
        })?;
        Ok(HostGuard::new(Guard(std::sync::Mutex::new(Some(child)))))
    }

    fn remove_run_dir(&self, dir: &Path) -> Result<(), HostError> {
        if !self.under_work_dir(dir) {
            return Ok(());
        }
        self.run(
            &strings(&["rm", "-rf", "--", &dir.display().to_string()]),
            None,
        )
        .map(|_| ())
    }
}

/// Keeps a guard command's stdin open; dropping it closes stdin, so the cleanup runs on the host,
/// and waits (bounded) until it has.
struct Guard(std::sync::Mutex<Option<Child>>);

impl Drop for Guard {
    fn drop(&mut self) {
        let child = self.0.get_mut().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut child) = child {
            child.stdin.take();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

/// `argv` as one POSIX shell command line (what ssh hands the remote login shell).
pub fn quote(argv: &[String]) -> Result<String, String> {
    let parts: Result<Vec<String>, String> = argv
        .iter()
        .map(|a| {
            shlex::try_quote(a)
                .map(|q| q.into_owned())
                .map_err(|_| format!("argument {a:?} contains a NUL byte"))
        })
        .collect();
    Ok(parts?.join(" "))
}

/// CRC-32 and length of a file, read in 1 MiB chunks.
fn checksum(path: &Path) -> std::io::Result<(u32, u64)> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        len += n as u64;
        h.update(&buf[..n]);
    }
    Ok((h.finalize(), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_a_shell_round_trip() {
        let argv = strings(&["printf", "%s|", "a b", "it's", "$HOME", "*", ""]);
        let line = quote(&argv).unwrap();
        let out = Command::new("sh").args(["-c", &line]).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a b|it's|$HOME|*||");
        assert!(quote(&strings(&["a\0b"])).is_err());
    }

    #[test]
    fn checksums_name_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "one").unwrap();
        std::fs::write(&b, "two").unwrap();
        assert_ne!(checksum(&a).unwrap(), checksum(&b).unwrap());
        assert_eq!(checksum(&a).unwrap().1, 3);
    }
}
