//! `faultline lab up N` / `faultline lab down`: remote hosts on one machine, for trying `--hosts`
//! (and testing it in CI) with real SSH and separate network stacks.
//!
//! `up` lays out N network namespaces exactly as the netns backend does (the same layout code,
//! registry and bridge: `10.77.x.k` per host, the controller at `.254` through a veth), and starts
//! one `sshd` (Debian's `openssh-server`) in each, listening on its host's address, with a host
//! key and an authorized client key generated for the lab. It writes `<dir>/hosts.toml` (node
//! `nK` → `root@10.77.x.k`, a work directory per host under `<dir>/hosts/nK/work`) and
//! `<dir>/lab.json`, which keeps the lab's registry record alive: the stale-run sweep of later
//! netns runs leaves a lab alone while that file exists. `down` kills every process in the lab's
//! namespaces (sshd, and any node a killed controller left), removes the namespaces, veths and nft
//! tables with them, the registry record, and every file `up` wrote.
//!
//! # Layout
//! - `sshd`: keys, `sshd_config`, starting sshd inside a namespace.
//! - `state`: `lab.json` and `hosts.toml`.

mod sshd;
mod state;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::net::netns::cmd::find_program;
use crate::net::netns::layout::{Layout, MAX_NODES};
use crate::net::netns::registry::{Registry, DEFAULT_DIR};
use crate::net::netns::setup::{self, Tools};
use crate::net::NetError;
use crate::owner::start_time;
pub use state::LabState;

/// Where `faultline lab` keeps a lab unless `--dir` says otherwise.
pub const DEFAULT_LAB_DIR: &str = "/var/lib/faultline/lab";
/// Most hosts one lab may have.
pub const MAX_HOSTS: usize = 32;

/// Errors of `faultline lab`. Each says what is missing or wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Not root.
    #[error("faultline lab needs root (this process runs as uid {euid}): it creates network namespaces, veths and nftables tables and starts sshd in them; run it with sudo")]
    NotRoot {
        /// The effective uid.
        euid: u32,
    },
    /// A program is missing.
    #[error("faultline lab needs `{program}` ({package}), which is not on PATH or in /usr/sbin: apt-get install {package}")]
    Missing {
        /// The program.
        program: &'static str,
        /// The Debian package that has it.
        package: &'static str,
    },
    /// Bad `N`.
    #[error("lab up: the number of hosts must be between 1 and {MAX_HOSTS}, got {0}")]
    Count(usize),
    /// A lab already lives in the directory.
    #[error("{}: a lab is already up here; `faultline lab down --dir {}` first", .0.display(), .0.display())]
    AlreadyUp(PathBuf),
    /// Namespaces, links or the registry failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// A file could not be written or read.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A host's sshd did not come up.
    #[error("lab host {host}: {message}")]
    Sshd {
        /// The host's node id.
        host: String,
        /// What failed (with sshd's log).
        message: String,
    },
    /// `lab.json` is unreadable.
    #[error("{}: not a faultline lab state file: {message}", path.display())]
    State {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
}

pub(crate) fn io<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> LabError + 'a {
    move |source| LabError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// The programs a lab needs.
struct LabTools {
    net: Tools,
    sshd: PathBuf,
    keygen: PathBuf,
}

/// Root, `ip`, `nft`, `sshd` and `ssh-keygen` — or an error naming what is missing.
fn tools() -> Result<LabTools, LabError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        return Err(LabError::NotRoot { euid });
    }
    let find = |program: &'static str, package: &'static str| {
        find_program(program).ok_or(LabError::Missing { program, package })
    };
    Ok(LabTools {
        net: Tools {
            ip: find("ip", "iproute2")?,
            nft: find("nft", "nftables")?,
        },
        sshd: find("sshd", "openssh-server")?,
        keygen: find("ssh-keygen", "openssh-client")?,
    })
}

/// Bring up a lab of `n` hosts in `dir`; returns its state (hosts.toml is `dir/hosts.toml`).
/// On failure everything created so far is removed again.
pub fn up(n: usize, dir: &Path) -> Result<LabState, LabError> {
    if n == 0 || n > MAX_HOSTS.min(MAX_NODES) {
        return Err(LabError::Count(n));
    }
    let t = tools()?;
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    let dir = std::fs::canonicalize(dir).map_err(io("resolve", dir))?;
    if state::path(&dir).exists() {
        return Err(LabError::AlreadyUp(dir));
    }
    let ids: Vec<String> = (1..=n).map(|k| format!("n{k}")).collect();
    let registry = Registry::at(DEFAULT_DIR);
    let layout = {
        let _lock = registry.lock()?;
        if let Err(e) = setup::sweep_stale(&t.net, &registry) {
            tracing::warn!("could not remove the leftovers of a dead run: {e}");
        }
        let layout = setup::register(&t.net, &registry, &ids, Some(&dir))?;
        // Written under the lock: from here on the sweep sees a live lab.
        let st = LabState::new(&layout, &dir);
        if let Err(e) = st.save() {
            let _ = registry.remove(&layout.run_id);
            return Err(e);
        }
        layout
    };
    match build(&t, &layout, &dir) {
        Ok(st) => Ok(st),
        Err(e) => {
            if let Err(cleanup) = down(&dir) {
                tracing::warn!("removing the half-built lab failed: {cleanup}");
            }
            Err(e)
        }
    }
}

fn build(t: &LabTools, layout: &Layout, dir: &Path) -> Result<LabState, LabError> {
    setup::build(&t.net, layout)?;
    let keys = sshd::Keys::generate(&t.keygen, dir, layout)?;
    for node in &layout.nodes {
        sshd::start(&t.sshd, dir, node, &keys)?;
    }
    for node in &layout.nodes {
        sshd::wait_listening(dir, node, Duration::from_secs(10))?;
    }
    own_record(layout, dir)?;
    state::write_hosts_toml(dir, layout, &keys)?;
    LabState::load(dir)
}

/// Make the first host's sshd the owner of the lab's registry record, so that faultline builds
/// that predate labs (which judge a record by its owner process alone) also see a live lab.
fn own_record(layout: &Layout, dir: &Path) -> Result<(), LabError> {
    let Some(first) = layout.nodes.first() else {
        return Ok(());
    };
    let Some(pid) = sshd::pid_of(dir, &first.id) else {
        return Ok(());
    };
    let registry = Registry::at(DEFAULT_DIR);
    let _lock = registry.lock()?;
    let (records, _) = registry.list();
    if let Some(mut r) = records.into_iter().find(|r| r.run_id == layout.run_id) {
        r.pid = pid;
        r.start_time = start_time(pid).unwrap_or(0);
        registry.write(&r)?;
    }
    Ok(())
}

/// Tear down the lab in `dir`: processes, namespaces, veths, nft tables, registry record, keys and
/// files. `Ok(None)` if there is no lab there.
pub fn down(dir: &Path) -> Result<Option<LabState>, LabError> {
    if !state::path(dir).exists() {
        return Ok(None);
    }
    let t = tools()?;
    let st = LabState::load(dir)?;
    // Also by pid file: a namespace someone else removed still holds its sshd.
    for (id, _) in &st.hosts {
        sshd::kill(dir, id);
    }
    setup::teardown(&t.net, &st.namespaces, &st.host_link)?;
    let registry = Registry::at(DEFAULT_DIR);
    {
        let _lock = registry.lock()?;
        registry.remove(&st.run_id)?;
    }
    state::remove_files(dir)?;
    Ok(Some(st))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_bad_count_before_touching_anything() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(up(0, dir.path()), Err(LabError::Count(0))));
        assert!(matches!(up(1000, dir.path()), Err(LabError::Count(1000))));
    }

    #[test]
    fn down_without_a_lab_is_a_no_op() {
        let dir = tempfile::tempdir().unwrap();
        assert!(down(dir.path()).unwrap().is_none());
    }

    #[test]
    fn not_root_names_what_to_do() {
        let e = LabError::NotRoot { euid: 1000 }.to_string();
        assert!(e.contains("needs root") && e.contains("sudo"), "{e}");
        let e = LabError::Missing {
            program: "sshd",
            package: "openssh-server",
        }
        .to_string();
        assert!(e.contains("apt-get install openssh-server"), "{e}");
    }
}
