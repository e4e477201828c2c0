//! The validated configuration of one node (built by the `faultline-raft` binary from its flags).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::bugs::{Bug, Bugs};
use super::types::NodeId;

/// A flag value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--peers` is malformed.
    #[error("--peers: {0:?} is not `id=host:port`; pass e.g. --peers n2=127.0.0.1:7002,n3=127.0.0.1:7003")]
    Peer(String),
    /// `--peers` names this node.
    #[error("--peers: lists this node's own id {0:?}; list only the other nodes")]
    SelfPeer(String),
    /// Unknown `--bug`.
    #[error("--bug: unknown bug {0:?}; run `faultline-raft --list-bugs` to see the names")]
    Bug(String),
    /// Timing flags out of range.
    #[error("{0}")]
    Timing(String),
}

/// Everything a node needs to run.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// This node's id.
    pub id: NodeId,
    /// Where the HTTP client API listens.
    pub client_addr: String,
    /// Where peer RPC listens.
    pub peer_addr: String,
    /// How to reach each other node (may be a proxy).
    pub peers: BTreeMap<NodeId, String>,
    /// Data directory (log, snapshot).
    pub data_dir: PathBuf,
    /// Base election timeout.
    pub election_ms: u64,
    /// Heartbeat interval.
    pub heartbeat_ms: u64,
    /// Take a snapshot once this many applied entries follow the last one.
    pub snapshot_threshold: u64,
    /// Run pre-vote before elections.
    pub pre_vote: bool,
    /// Seeded bugs.
    pub bugs: Bugs,
}

/// Parse `id=host:port,id=host:port` (empty string = single-node cluster).
pub fn parse_peers(s: &str, me: &str) -> Result<BTreeMap<NodeId, String>, ConfigError> {
    let mut out = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (id, addr) = part
            .split_once('=')
            .filter(|(i, a)| !i.is_empty() && a.contains(':'))
            .ok_or_else(|| ConfigError::Peer(part.to_string()))?;
        if id == me {
            return Err(ConfigError::SelfPeer(id.to_string()));
        }
        out.insert(id.to_string(), addr.to_string());
    }
    Ok(out)
}

/// Parse `--bug` names.
pub fn parse_bugs(names: &[String]) -> Result<Bugs, ConfigError> {
    let bugs = names
        .iter()
        .map(|n| Bug::from_name(n).ok_or_else(|| ConfigError::Bug(n.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Bugs::of(bugs))
}

/// Check the timing flags make sense together.
pub fn check_timing(election_ms: u64, heartbeat_ms: u64) -> Result<(), ConfigError> {
    if heartbeat_ms == 0 || election_ms < 2 * heartbeat_ms {
        return Err(ConfigError::Timing(format!(
            "--election-timeout-ms ({election_ms}) must be at least twice --heartbeat-ms ({heartbeat_ms}), and both > 0"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse_and_reject_bad_input() {
        let p = parse_peers("n2=127.0.0.1:1,n3=127.0.0.1:2", "n1").expect("valid");
        assert_eq!(p.len(), 2);
        assert!(parse_peers("n2", "n1").is_err());
        assert!(parse_peers("n1=127.0.0.1:1", "n1").is_err());
        assert!(parse_peers("", "n1").expect("empty").is_empty());
        assert!(parse_bugs(&["stale-read".into()]).is_ok());
        assert!(parse_bugs(&["nope".into()]).is_err());
    }
}
