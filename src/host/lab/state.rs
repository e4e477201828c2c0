//! A lab's files: `lab.json` (what `up` created, so `down` can remove it and the registry keeps
//! it alive) and `hosts.toml` (what `faultline test --hosts` reads).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::sshd::Keys;
use super::{io, LabError};
use crate::net::netns::layout::Layout;

/// What a lab is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabState {
    /// The lab's directory.
    pub dir: PathBuf,
    /// The registry run id its names carry (`fl-<run id>-...`).
    pub run_id: String,
    /// Third octet of its `10.77.x.0/24`.
    pub subnet: u8,
    /// Every namespace (bridge first).
    pub namespaces: Vec<String>,
    /// The controller's veth.
    pub host_link: String,
    /// `(node id, address)` of every host.
    pub hosts: Vec<(String, std::net::Ipv4Addr)>,
}

/// `<dir>/lab.json`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("lab.json")
}

/// `<dir>/hosts.toml`.
pub fn hosts_toml(dir: &Path) -> PathBuf {
    dir.join("hosts.toml")
}

/// A host's directory: `<dir>/hosts/<id>` (sshd config, pid file, log, work dir).
pub fn host_dir(dir: &Path, id: &str) -> PathBuf {
    dir.join("hosts").join(id)
}

impl LabState {
    /// The state of a lab laid out as `layout` in `dir`.
    pub fn new(layout: &Layout, dir: &Path) -> LabState {
        LabState {
            dir: dir.to_path_buf(),
            run_id: layout.run_id.clone(),
            subnet: layout.subnet,
            namespaces: layout.namespaces(),
            host_link: layout.host_link(),
            hosts: layout.nodes.iter().map(|n| (n.id.clone(), n.ip)).collect(),
        }
    }

    /// Write `lab.json` (atomically).
    pub fn save(&self) -> Result<(), LabError> {
        let p = path(&self.dir);
        let tmp = p.with_extension("tmp");
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| LabError::State {
            path: p.clone(),
            message: e.to_string(),
        })?;
        std::fs::write(&tmp, bytes).map_err(io("write", &tmp))?;
        std::fs::rename(&tmp, &p).map_err(io("rename", &p))
    }

    /// Read `<dir>/lab.json`.
    pub fn load(dir: &Path) -> Result<LabState, LabError> {
        let p = path(dir);
        let bytes = std::fs::read(&p).map_err(io("read", &p))?;
        serde_json::from_slice(&bytes).map_err(|e| LabError::State {
            path: p,
            message: e.to_string(),
        })
    }

    /// `<dir>/hosts.toml`.
    pub fn hosts_toml(&self) -> PathBuf {
        hosts_toml(&self.dir)
    }
}

/// Write `<dir>/hosts.toml` for `layout`.
pub fn write_hosts_toml(dir: &Path, layout: &Layout, keys: &Keys) -> Result<(), LabError> {
    let mut s = format!(
        "# Written by `faultline lab up {n}` (lab {rid}, 10.77.{sub}.0/24): {n} namespaced sshd hosts on\n\
         # this machine. Use it with `faultline test --hosts {file}`; remove the lab with\n\
         # `faultline lab down --dir {dir}`.\n",
        n = layout.nodes.len(),
        rid = layout.run_id,
        sub = layout.subnet,
        file = hosts_toml(dir).display(),
        dir = dir.display(),
    );
    s.push_str(&format!(
        "identity = {:?}\nknown_hosts = {:?}\nssh_config = \"none\"\n\n[hosts]\n",
        keys.client.display().to_string(),
        keys.known_hosts.display().to_string()
    ));
    for n in &layout.nodes {
        let work = host_dir(dir, &n.id).join("work");
        s.push_str(&format!(
            "{} = {{ ssh = \"root@{}\", work_dir = {:?} }}\n",
            n.id,
            n.ip,
            work.display().to_string()
        ));
    }
    let p = hosts_toml(dir);
    std::fs::write(&p, s).map_err(io("write", &p))
}

/// Remove every file `up` wrote (keys, host directories, hosts.toml, lab.json last) and the
/// directory itself if that leaves it empty.
pub fn remove_files(dir: &Path) -> Result<(), LabError> {
    for sub in ["keys", "hosts"] {
        let p = dir.join(sub);
        match std::fs::remove_dir_all(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(LabError::Io {
                    what: "remove",
                    path: p,
                    source: e,
                })
            }
            _ => {}
        }
    }
    for p in [hosts_toml(dir), dir.join("known_hosts"), path(dir)] {
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(LabError::Io {
                    what: "remove",
                    path: p,
                    source: e,
                })
            }
            _ => {}
        }
    }
    let _ = std::fs::remove_dir(dir);
    Ok(())
}
