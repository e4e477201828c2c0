//! Rendering a node's command line and files from the spec's templates and the network layout.
//!
//! Placeholders in `args`, `env` values and `files`: `{id}`, `{n}` (the node's 1-based number),
//! `{client_addr}`, `{peer_addr}`, `{peers}`, `{data_dir}`, `{conf_dir}`, `{client_port}`,
//! `{peer_port}`, `{host}`, `{all_peers}`, `{initial_cluster}`, `{all_nodes}`, and for every
//! named port `p` of the spec's `ports`: `{p_port}` and `{p_addr}`.
//! `{peers}` lists the *other* nodes as this node must dial them (with the proxy backend: through
//! the per-pair proxies), each rendered with `peers_format` (placeholders `{id}`, `{addr}`,
//! `{host}`, `{port}`; default `{id}={addr}`) and joined with `,`. `{all_peers}` is the same list
//! over all nodes in node order, with this node at its own `{peer_addr}`. `{initial_cluster}` is etcd's
//! `id=http://addr,...` over *all* nodes (this node's own peer address, the others as dialled).
//! `{all_nodes}` is every node in node order, each rendered with `all_nodes_format` (placeholders
//! [`ALL_NODES_PLACEHOLDERS`] plus the named ports, as this node reaches that node) and joined
//! with `all_nodes_separator`: e.g. ZooKeeper's `server.{n}={host}:{peer_port}:{election_port}`
//! lines. `{{` and `}}` are literal braces.
//!
//! - `template`: parsing, checking and substituting templates.
//! - `vars`: every placeholder's value for one node ([`NodeVars`]).
//! - `files`: per-node files ([`render_files`], [`write_local`]).

mod files;
mod template;
mod vars;

use std::path::{Path, PathBuf};

use crate::net::NodeEndpoints;

use super::spec::ClusterSpec;
pub use files::{render_files, write_local, RenderedFile};
pub use vars::{NodeDirs, NodeVars};

/// Placeholders allowed in `args`, `env` values and `files`, besides the named ports'.
pub const NODE_PLACEHOLDERS: &[&str] = &[
    "id",
    "n",
    "client_addr",
    "peer_addr",
    "peers",
    "data_dir",
    "conf_dir",
    "client_port",
    "peer_port",
    "host",
    "initial_cluster",
    "all_peers",
    "all_nodes",
];

/// Placeholders allowed in `peers_format`.
pub const PEER_PLACEHOLDERS: &[&str] = &["id", "addr", "host", "port"];

/// Placeholders allowed in `all_nodes_format`, besides the named ports'.
pub const ALL_NODES_PLACEHOLDERS: &[&str] = &[
    "id",
    "n",
    "host",
    "client_addr",
    "client_port",
    "peer_addr",
    "peer_port",
];

pub use crate::host::NodeCommand;

fn with_named(base: &[&str], ports: &[String]) -> Vec<String> {
    let mut known: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    for p in ports {
        known.push(format!("{p}_port"));
        known.push(format!("{p}_addr"));
    }
    known
}

/// Check an `args`/`env`/`files` template of a spec with named ports `ports`.
pub fn check_node_template(t: &str, ports: &[String]) -> Result<(), String> {
    template::check_against(t, &with_named(NODE_PLACEHOLDERS, ports))
}

/// Check an `args`/`env` template of a spec without named ports.
pub fn check_template(t: &str) -> Result<(), String> {
    check_node_template(t, &[])
}

/// Check a `peers_format` template.
pub fn check_peer_template(t: &str) -> Result<(), String> {
    template::check_against(t, PEER_PLACEHOLDERS)
}

/// Check an `all_nodes_format` template of a spec with named ports `ports`.
pub fn check_all_nodes_template(t: &str, ports: &[String]) -> Result<(), String> {
    template::check_against(t, &with_named(ALL_NODES_PLACEHOLDERS, ports))
}

/// Render the command for node `me` of `all` (the backend's layout), with its directories.
pub fn render_node(
    spec: &ClusterSpec,
    program: &Path,
    all: &[NodeEndpoints],
    me: &NodeEndpoints,
    dirs: &NodeDirs,
) -> NodeCommand {
    command(spec, program, me, &NodeVars::new(spec, all, me, dirs))
}

/// Render the command for node `me` from its placeholder values.
pub fn command(
    spec: &ClusterSpec,
    program: &Path,
    me: &NodeEndpoints,
    vars: &NodeVars,
) -> NodeCommand {
    let rendered: Vec<String> = spec.args.iter().map(|a| vars.render(a)).collect();
    let env = spec
        .env
        .iter()
        .map(|(k, v)| (k.clone(), vars.render(v)))
        .collect();
    let (program, args) = match me.command_prefix.split_first() {
        Some((first, rest)) => {
            let mut args: Vec<String> = rest.to_vec();
            args.push(program.display().to_string());
            args.extend(rendered);
            (PathBuf::from(first), args)
        }
        None => (program.to_path_buf(), rendered),
    };
    NodeCommand { program, args, env }
}

#[cfg(test)]
mod tests;
