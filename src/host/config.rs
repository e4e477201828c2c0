//! `hosts.toml`: which node runs on which machine, and how to reach it over SSH.
//!
//! ```toml
//! identity = "keys/id_ed25519"   # defaults for every host (paths relative to this file)
//! known_hosts = "known_hosts"    # default: ssh's own (~/.ssh/known_hosts), checked strictly
//! work_dir = "/var/tmp/faultline"  # default: faultline (under the remote user's home)
//! client_port = 2379             # the ports every node binds on its own host
//! peer_port = 2380
//!
//! [hosts]
//! n1 = "root@10.0.0.1"
//! n2 = { ssh = "admin@db2:2222", identity = "~/.ssh/db", work_dir = "/srv/fl", sudo = true }
//! n3 = { ssh = "root@db3", addr = "192.168.1.13" }   # the address peers reach it at
//! ```
//!
//! Parsing rejects unknown fields and names the file and field of every error. Reading the file
//! does no network I/O: host names are resolved when the run connects.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::net::NodeId;

/// Default `client_port` and `peer_port` (etcd's, as in the netns backend).
pub const DEFAULT_PORTS: (u16, u16) = (2379, 2380);
/// Default working directory on a host (relative = under the ssh user's home).
pub const DEFAULT_WORK_DIR: &str = "faultline";

/// How to reach one host, resolved against the file's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// The node id this host runs.
    pub node: NodeId,
    /// `user@`, if given.
    pub user: Option<String>,
    /// Host name or address as ssh dials it.
    pub host: String,
    /// `:port`, if given.
    pub port: Option<u16>,
    /// `ssh -i` (only this key is offered).
    pub identity: Option<PathBuf>,
    /// `UserKnownHostsFile`; host keys are always checked strictly.
    pub known_hosts: Option<PathBuf>,
    /// `ssh -F` (`none` reads no config file).
    pub ssh_config: Option<PathBuf>,
    /// Where faultline keeps its files on the host.
    pub work_dir: String,
    /// The address the other nodes reach this one at (default: `host`, resolved).
    pub addr: Option<IpAddr>,
    /// Run `nft` through `sudo -n` (for a non-root ssh user).
    pub sudo: bool,
}

impl SshTarget {
    /// `user@host:port` as written, for messages.
    pub fn display(&self) -> String {
        let mut s = String::new();
        if let Some(u) = &self.user {
            s.push_str(u);
            s.push('@');
        }
        s.push_str(&self.host);
        if let Some(p) = self.port {
            s.push_str(&format!(":{p}"));
        }
        s
    }
}

/// A validated `hosts.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostsFile {
    /// The file (for messages).
    pub source: PathBuf,
    /// Node id → host, in node order.
    pub hosts: BTreeMap<NodeId, SshTarget>,
    /// The client port every node binds.
    pub client_port: u16,
    /// The peer port every node binds.
    pub peer_port: u16,
}

/// Errors reading `hosts.toml`: each names the file and the field.
#[derive(Debug, thiserror::Error)]
pub enum HostsError {
    /// The file could not be read.
    #[error("{}: cannot read the hosts file: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TOML is malformed, or a field is missing, unknown or invalid.
    #[error("{}: {message}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// What is wrong (names the field).
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    identity: Option<String>,
    known_hosts: Option<String>,
    ssh_config: Option<String>,
    work_dir: Option<String>,
    #[serde(default)]
    sudo: bool,
    client_port: Option<u16>,
    peer_port: Option<u16>,
    hosts: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    ssh: String,
    identity: Option<String>,
    known_hosts: Option<String>,
    work_dir: Option<String>,
    addr: Option<String>,
    sudo: Option<bool>,
}

impl HostsFile {
    /// Read and validate a hosts file.
    pub fn load(path: &Path) -> Result<HostsFile, HostsError> {
        let text = std::fs::read_to_string(path).map_err(|source| HostsError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parse and validate hosts-file text; relative paths resolve against `source`'s directory.
    pub fn parse(text: &str, source: &Path) -> Result<HostsFile, HostsError> {
        let bad = |message: String| HostsError::Invalid {
            file: source.to_path_buf(),
            message,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| bad(e.message().to_string()))?;
        let dir = source
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let path = |p: &str| -> PathBuf {
            if p == "none" {
                return PathBuf::from("none");
            }
            match p.strip_prefix("~/") {
                Some(rest) => std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .unwrap_or_default()
                    .join(rest),
                None => dir.join(p),
            }
        };
        if raw.hosts.is_empty() {
            return Err(bad(
                "[hosts] is empty: map node ids to hosts, e.g. n1 = \"root@10.0.0.1\"".into(),
            ));
        }
        let (client_port, peer_port) = (
            raw.client_port.unwrap_or(DEFAULT_PORTS.0),
            raw.peer_port.unwrap_or(DEFAULT_PORTS.1),
        );
        if client_port == 0 || peer_port == 0 || client_port == peer_port {
            return Err(bad(format!(
                "client_port ({client_port}) and peer_port ({peer_port}) must be distinct and non-zero"
            )));
        }
        let mut hosts = BTreeMap::new();
        for (node, entry) in raw.hosts {
            let field = format!("hosts.{node}");
            if !is_node_id(&node) {
                return Err(bad(format!(
                    "{field}: node ids are n1, n2, ... (got {node:?})"
                )));
            }
            let h = match entry {
                toml::Value::String(ssh) => RawHost {
                    ssh,
                    identity: None,
                    known_hosts: None,
                    work_dir: None,
                    addr: None,
                    sudo: None,
                },
                toml::Value::Table(t) => {
                    RawHost::deserialize(t).map_err(|e| bad(format!("{field}: {}", e.message())))?
                }
                other => {
                    return Err(bad(format!(
                        "{field}: expected \"user@host[:port]\" or a table, found {}",
                        other.type_str()
                    )))
                }
            };
            let (user, host, port) =
                parse_destination(&h.ssh).map_err(|m| bad(format!("{field}.ssh: {m}")))?;
            let addr = match &h.addr {
                None => host.parse::<IpAddr>().ok(),
                Some(a) => Some(
                    a.parse::<IpAddr>()
                        .map_err(|_| bad(format!("{field}.addr: {a:?} is not an IP address")))?,
                ),
            };
            let work_dir = h
                .work_dir
                .or_else(|| raw.work_dir.clone())
                .unwrap_or_else(|| DEFAULT_WORK_DIR.to_string());
            if work_dir.is_empty() || work_dir.contains(['\0', '\n']) {
                return Err(bad(format!(
                    "{field}.work_dir: {work_dir:?} is not a usable path"
                )));
            }
            hosts.insert(
                node.clone(),
                SshTarget {
                    node,
                    user,
                    host,
                    port,
                    identity: h
                        .identity
                        .or_else(|| raw.identity.clone())
                        .map(|p| path(&p)),
                    known_hosts: h
                        .known_hosts
                        .or_else(|| raw.known_hosts.clone())
                        .map(|p| path(&p)),
                    ssh_config: raw.ssh_config.as_deref().map(path),
                    work_dir,
                    addr,
                    sudo: h.sudo.unwrap_or(raw.sudo),
                },
            );
        }
        Ok(HostsFile {
            source: source.to_path_buf(),
            hosts,
            client_port,
            peer_port,
        })
    }

    /// The host of each of `nodes`, in order; `Err` names the nodes the file does not place.
    pub fn targets_for(&self, nodes: &[NodeId]) -> Result<Vec<(NodeId, SshTarget)>, String> {
        let missing: Vec<&str> = nodes
            .iter()
            .filter(|n| !self.hosts.contains_key(*n))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{}: no host for node(s) {} ({} host(s) listed: {}); add them under [hosts] or \
                 run fewer --nodes",
                self.source.display(),
                missing.join(", "),
                self.hosts.len(),
                self.hosts.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        Ok(nodes
            .iter()
            .filter_map(|n| self.hosts.get(n).map(|t| (n.clone(), t.clone())))
            .collect())
    }
}

fn is_node_id(s: &str) -> bool {
    s.strip_prefix('n').is_some_and(|k| {
        !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) && !k.starts_with('0')
    })
}

/// Split `[user@]host[:port]` (IPv6 hosts in brackets: `[::1]:22`).
fn parse_destination(s: &str) -> Result<(Option<String>, String, Option<u16>), String> {
    let usage = || format!("{s:?} is not [user@]host[:port]");
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c == '\0') || s.starts_with('-') {
        return Err(usage());
    }
    let (user, rest) = match s.rsplit_once('@') {
        Some((u, r)) if !u.is_empty() => (Some(u.to_string()), r),
        Some(_) => return Err(usage()),
        None => (None, s),
    };
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let (h, after) = r.split_once(']').ok_or_else(usage)?;
        match after.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if after.is_empty() => (h, None),
            None => return Err(usage()),
        }
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return Err(usage());
    }
    let port = port
        .map(|p| p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(usage))
        .transpose()?;
    Ok((user, host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<HostsFile, String> {
        HostsFile::parse(text, Path::new("/lab/hosts.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn short_and_full_entries_take_the_defaults() {
        let f = parse(
            r#"
identity = "keys/id"
work_dir = "/w"
[hosts]
n1 = "root@10.0.0.1"
n2 = { ssh = "admin@db2:2222", work_dir = "/srv", sudo = true, addr = "192.168.1.2" }
"#,
        )
        .unwrap();
        let n1 = &f.hosts["n1"];
        assert_eq!(n1.user.as_deref(), Some("root"));
        assert_eq!(n1.host, "10.0.0.1");
        assert_eq!(n1.port, None);
        assert_eq!(n1.identity, Some(PathBuf::from("/lab/keys/id")));
        assert_eq!(n1.work_dir, "/w");
        assert_eq!(n1.addr, Some("10.0.0.1".parse().unwrap()));
        let n2 = &f.hosts["n2"];
        assert_eq!((n2.port, n2.sudo), (Some(2222), true));
        assert_eq!(n2.display(), "admin@db2:2222");
        assert_eq!(n2.addr, Some("192.168.1.2".parse().unwrap()));
        assert_eq!((f.client_port, f.peer_port), DEFAULT_PORTS);
    }

    #[test]
    fn errors_name_the_field() {
        for (text, needle) in [
            ("[hosts]\nn1 = \"root@\"\n", "hosts.n1.ssh"),
            ("[hosts]\nn1 = \"a b\"\n", "hosts.n1.ssh"),
            ("[hosts]\nn1 = \"h:99999\"\n", "hosts.n1.ssh"),
            ("[hosts]\nx1 = \"h\"\n", "hosts.x1"),
            (
                "[hosts]\nn1 = { ssh = \"h\", addr = \"db\" }\n",
                "hosts.n1.addr",
            ),
            ("[hosts]\nn1 = { ssh = \"h\", colour = 1 }\n", "hosts.n1"),
            ("[hosts]\n", "empty"),
            (
                "client_port = 5\npeer_port = 5\n[hosts]\nn1 = \"h\"\n",
                "distinct",
            ),
            ("bogus = 1\n[hosts]\nn1 = \"h\"\n", "bogus"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with("/lab/hosts.toml"), "{e}");
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn destinations_split_user_host_and_port() {
        assert_eq!(
            parse_destination("[::1]:22").unwrap(),
            (None, "::1".into(), Some(22))
        );
        assert_eq!(parse_destination("db").unwrap(), (None, "db".into(), None));
        assert!(parse_destination("-oProxyCommand=x").is_err());
    }

    #[test]
    fn missing_nodes_are_named() {
        let f = parse("[hosts]\nn1 = \"h1\"\n").unwrap();
        let e = f
            .targets_for(&["n1".into(), "n2".into(), "n3".into()])
            .unwrap_err();
        assert!(e.contains("n2, n3"), "{e}");
    }
}
