//! The values of every placeholder for one node: its own addresses and directories, and the lists
//! of its peers (`{peers}`, `{all_peers}`, `{initial_cluster}`, `{all_nodes}`) as this node
//! reaches them. Pure: built from the backend's layout, no I/O.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::template::substitute;
use crate::cluster::spec::ClusterSpec;
use crate::net::NodeEndpoints;

/// Where a node keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDirs {
    /// The data directory (`{data_dir}`), kept across kill and restart.
    pub data: PathBuf,
    /// The config directory (`{conf_dir}`), for rendered config files.
    pub conf: PathBuf,
}

/// Every placeholder's value for one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeVars {
    vars: BTreeMap<String, String>,
}

/// One node as another node sees it: the addresses it dials.
struct Seen<'a> {
    id: &'a str,
    n: usize,
    client: SocketAddr,
    peer: SocketAddr,
    named: Vec<(&'a str, SocketAddr)>,
}

impl NodeVars {
    /// The values for node `me` of `all` (the backend's layout, in node order).
    pub fn new(
        spec: &ClusterSpec,
        all: &[NodeEndpoints],
        me: &NodeEndpoints,
        dirs: &NodeDirs,
    ) -> Self {
        let view = view(all, me);
        let peers = me
            .peers
            .iter()
            .map(|(id, addr)| render_peer(&spec.peers_format, id, *addr))
            .collect::<Vec<_>>()
            .join(",");
        let initial_cluster = view
            .iter()
            .map(|s| format!("{}=http://{}", s.id, s.peer))
            .collect::<Vec<_>>()
            .join(",");
        let all_peers = view
            .iter()
            .map(|s| render_peer(&spec.peers_format, s.id, s.peer))
            .collect::<Vec<_>>()
            .join(",");
        let all_nodes = view
            .iter()
            .map(|s| {
                let entry = entry_vars(s);
                substitute(&spec.all_nodes_format, &|v| entry.get(v).cloned())
            })
            .collect::<Vec<_>>()
            .join(&spec.all_nodes_separator);
        let n = all.iter().position(|e| e.id == me.id).map_or(0, |i| i + 1);
        let mut vars: BTreeMap<String, String> = [
            ("id", me.id.clone()),
            ("n", n.to_string()),
            ("client_addr", me.client_bind.to_string()),
            ("peer_addr", me.peer_bind.to_string()),
            ("client_port", me.client_bind.port().to_string()),
            ("peer_port", me.peer_bind.port().to_string()),
            ("host", me.client_bind.ip().to_string()),
            ("data_dir", dirs.data.display().to_string()),
            ("conf_dir", dirs.conf.display().to_string()),
            ("peers", peers),
            ("initial_cluster", initial_cluster),
            ("all_peers", all_peers),
            ("all_nodes", all_nodes),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for p in &me.named {
            vars.insert(format!("{}_port", p.name), p.bind.port().to_string());
            vars.insert(format!("{}_addr", p.name), p.bind.to_string());
        }
        NodeVars { vars }
    }

    /// Render a template checked against the node placeholders.
    pub fn render(&self, template: &str) -> String {
        substitute(template, &|v| self.vars.get(v).cloned())
    }
}

/// Every node as `me` reaches it (itself at its own bind addresses), in node order. A node the
/// layout gives no route to (which backends never do) is left out.
fn view<'a>(all: &'a [NodeEndpoints], me: &'a NodeEndpoints) -> Vec<Seen<'a>> {
    let dialled = |list: &[(String, SocketAddr)], id: &str| {
        list.iter().find(|(p, _)| p == id).map(|(_, a)| *a)
    };
    all.iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let own = n.id == me.id;
            let peer = if own {
                Some(me.peer_bind)
            } else {
                dialled(&me.peers, &n.id)
            };
            let named = me
                .named
                .iter()
                .map(|p| {
                    let addr = if own {
                        Some(p.bind)
                    } else {
                        dialled(&p.peers, &n.id)
                    };
                    addr.map(|a| (p.name.as_str(), a))
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Seen {
                id: &n.id,
                n: i + 1,
                client: n.client_addr,
                peer: peer?,
                named,
            })
        })
        .collect()
}

/// The placeholders of one `{all_nodes}` entry.
fn entry_vars(s: &Seen<'_>) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = [
        ("id", s.id.to_string()),
        ("n", s.n.to_string()),
        ("host", s.peer.ip().to_string()),
        ("client_addr", s.client.to_string()),
        ("client_port", s.client.port().to_string()),
        ("peer_addr", s.peer.to_string()),
        ("peer_port", s.peer.port().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (name, addr) in &s.named {
        m.insert(format!("{name}_port"), addr.port().to_string());
        m.insert(format!("{name}_addr"), addr.to_string());
    }
    m
}

fn render_peer(format: &str, id: &str, addr: SocketAddr) -> String {
    substitute(format, &|v| match v {
        "id" => Some(id.to_string()),
        "addr" => Some(addr.to_string()),
        "host" => Some(addr.ip().to_string()),
        "port" => Some(addr.port().to_string()),
        _ => None,
    })
}
