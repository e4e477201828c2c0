//! The lab's SSH side: a client key and one host key per host (`ssh-keygen`, ed25519, no
//! passphrase), `known_hosts` for those host keys, and one `sshd` per host started inside the
//! host's namespace, listening only on the host's address, accepting only the lab's key.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::state::host_dir;
use super::{io, LabError};
use crate::net::netns::layout::{Layout, NodeSlot};

/// The lab's key files.
#[derive(Debug, Clone)]
pub struct Keys {
    /// The client's private key (`keys/id_ed25519`).
    pub client: PathBuf,
    /// `keys/authorized_keys`: the client's public key.
    pub authorized: PathBuf,
    /// `known_hosts`: every host's key at its address.
    pub known_hosts: PathBuf,
}

fn keygen(program: &Path, file: &Path, comment: &str) -> Result<String, LabError> {
    let out = Command::new(program)
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .map_err(io("run ssh-keygen for", file))?;
    if !out.status.success() {
        return Err(LabError::Sshd {
            host: comment.into(),
            message: format!(
                "ssh-keygen failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    let public = file.with_extension("pub");
    std::fs::read_to_string(&public).map_err(io("read", &public))
}

impl Keys {
    /// Generate the client key and every host's key, and write `authorized_keys` and
    /// `known_hosts`.
    pub fn generate(program: &Path, dir: &Path, layout: &Layout) -> Result<Keys, LabError> {
        let keys = dir.join("keys");
        std::fs::create_dir_all(&keys).map_err(io("create", &keys))?;
        let client = keys.join("id_ed25519");
        let public = keygen(program, &client, "faultline-lab")?;
        let authorized = keys.join("authorized_keys");
        std::fs::write(&authorized, &public).map_err(io("write", &authorized))?;
        let mut known = String::new();
        for n in &layout.nodes {
            let public = keygen(program, &keys.join(format!("host_{}", n.id)), &n.id)?;
            // "<type> <key> <comment>" -> "<address> <type> <key>"
            let mut parts = public.split_whitespace();
            let (kind, key) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            known.push_str(&format!("{} {kind} {key}\n", n.ip));
        }
        let known_hosts = dir.join("known_hosts");
        std::fs::write(&known_hosts, known).map_err(io("write", &known_hosts))?;
        Ok(Keys {
            client,
            authorized,
            known_hosts,
        })
    }
}

/// `sshd_config` for one host.
pub fn config(dir: &Path, node: &NodeSlot, keys: &Keys) -> String {
    let host = host_dir(dir, &node.id);
    format!(
        "ListenAddress {ip}:22\n\
         HostKey {hostkey}\n\
         PidFile {pid}\n\
         AuthorizedKeysFile {auth}\n\
         PermitRootLogin prohibit-password\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         UsePAM no\n\
         StrictModes no\n\
         UseDNS no\n\
         PrintMotd no\n\
         MaxSessions 64\n\
         MaxStartups 64:30:128\n\
         ClientAliveInterval 2\n\
         ClientAliveCountMax 3\n\
         Subsystem sftp internal-sftp\n\
         LogLevel ERROR\n",
        ip = node.ip,
        hostkey = dir.join("keys").join(format!("host_{}", node.id)).display(),
        pid = host.join("sshd.pid").display(),
        auth = keys.authorized.display(),
    )
}

/// Start sshd for `node` inside its namespace (it daemonizes: it must outlive `lab up`).
pub fn start(sshd: &Path, dir: &Path, node: &NodeSlot, keys: &Keys) -> Result<(), LabError> {
    let host = host_dir(dir, &node.id);
    let work = host.join("work");
    std::fs::create_dir_all(&work).map_err(io("create", &work))?;
    // sshd refuses to start without its privilege-separation directory (normally made by the
    // package's service unit); it is empty and shared, so it is left in place.
    let privsep = Path::new("/run/sshd");
    if !privsep.exists() {
        std::fs::create_dir_all(privsep).map_err(io("create", privsep))?;
    }
    let cfg = host.join("sshd_config");
    std::fs::write(&cfg, config(dir, node, keys)).map_err(io("write", &cfg))?;
    let log = host.join("sshd.log");
    let ip = crate::net::netns::cmd::find_program("ip").unwrap_or_else(|| "ip".into());
    let out = Command::new(ip)
        .args(["netns", "exec", &node.namespace])
        .arg(sshd)
        .arg("-f")
        .arg(&cfg)
        .arg("-E")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(io("start sshd with", &cfg))?;
    if !out.status.success() {
        return Err(LabError::Sshd {
            host: node.id.clone(),
            message: format!(
                "sshd did not start ({}): {} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim(),
                std::fs::read_to_string(&log).unwrap_or_default().trim()
            ),
        });
    }
    Ok(())
}

/// The pid of `id`'s sshd listener, from its pid file, if that process is this lab's sshd.
pub fn pid_of(dir: &Path, id: &str) -> Option<u32> {
    let host = host_dir(dir, id);
    let pid: u32 = std::fs::read_to_string(host.join("sshd.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let cfg = host.join("sshd_config");
    String::from_utf8_lossy(&cmdline)
        .contains(&*cfg.to_string_lossy())
        .then_some(pid)
}

/// SIGKILL `id`'s sshd listener (found by its pid file and checked by its command line).
pub fn kill(dir: &Path, id: &str) {
    if let Some(pid) = pid_of(dir, id) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Wait until `node`'s sshd accepts TCP connections on its address.
pub fn wait_listening(dir: &Path, node: &NodeSlot, limit: Duration) -> Result<(), LabError> {
    let addr = SocketAddr::from((node.ip, 22));
    let deadline = Instant::now() + limit;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let log = host_dir(dir, &node.id).join("sshd.log");
            return Err(LabError::Sshd {
                host: node.id.clone(),
                message: format!(
                    "sshd is not listening on {addr} after {limit:?}; its log: {}",
                    std::fs::read_to_string(&log).unwrap_or_default().trim()
                ),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sshd_listens_only_on_its_host_and_takes_only_the_lab_key() {
        let layout = Layout::new("abcdef", 7, &["n1".into()]);
        let keys = Keys {
            client: "/lab/keys/id_ed25519".into(),
            authorized: "/lab/keys/authorized_keys".into(),
            known_hosts: "/lab/known_hosts".into(),
        };
        let c = config(Path::new("/lab"), &layout.nodes[0], &keys);
        assert!(c.contains("ListenAddress 10.77.7.1:22\n"), "{c}");
        assert!(c.contains("AuthorizedKeysFile /lab/keys/authorized_keys\n"));
        assert!(c.contains("HostKey /lab/keys/host_n1\n"));
        assert!(c.contains("PasswordAuthentication no"));
        assert!(c.contains("ClientAliveInterval"));
    }
}
