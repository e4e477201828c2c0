//! Preparing a node on its host before it first starts: its directories, the spec's `requires`,
//! its rendered files, the program placed there, its rendered command; the port check made before
//! every start, and the address its readiness check asks.

use std::path::Path;
use std::sync::Arc;

use super::ready::port_addr;
use super::render::{command, render_files, write_local, NodeDirs, NodeVars};
use super::resolve::ships_with_faultline;
use super::spec::{ClusterSpec, ReadyProbe};
use super::supervise::{Node, State};
use super::ClusterError;
use crate::host::{Host, HostError};
use crate::net::NodeEndpoints;

/// Make node `ep`'s directories on its host, check the spec's `requires` there, write its
/// rendered files (a copy stays in the local run directory; a remote host gets them uploaded),
/// make its program runnable there, and render its command.
pub(super) fn prepare(
    spec: &ClusterSpec,
    layout: &[NodeEndpoints],
    ep: &NodeEndpoints,
    host: Arc<dyn Host>,
    program: &Path,
    run_dir: &Path,
    logs: &Path,
) -> Result<Node, ClusterError> {
    let on_host = |source| ClusterError::Host {
        node: ep.id.clone(),
        source: Box::new(source),
    };
    let host_dir = host.run_dir(run_dir);
    let dirs_in = |base: &Path| NodeDirs {
        data: base.join("data").join(&ep.id),
        conf: base.join("conf").join(&ep.id),
    };
    let (here, there) = (dirs_in(run_dir), dirs_in(&host_dir));
    let host_logs = host_dir.join("nodes");
    let vars = NodeVars::new(spec, layout, ep, &there);
    let files = render_files(spec, &vars);
    let mut dirs = vec![there.data.as_path(), host_logs.as_path()];
    if !files.is_empty() {
        dirs.push(&there.conf);
    }
    host.mkdir(&dirs).map_err(on_host)?;
    check_requires(spec, host.as_ref()).map_err(on_host)?;
    write_local(&files, &here).map_err(|(path, source)| ClusterError::Io { path, source })?;
    for f in &files {
        host.upload(&f.path(&here), &f.path(&there), 0o644)
            .map_err(on_host)?;
    }
    let placed = if spec.command.contains('/') || ships_with_faultline(program) {
        host.place_program(program)
    } else {
        host.installed(&spec.command, program)
    };
    let placed = placed.map_err(on_host)?;
    Ok(Node {
        endpoints: ep.clone(),
        command: command(spec, &placed, ep, &vars),
        log: logs.join(format!("{}.log", ep.id)),
        host_log: host_logs.join(format!("{}.log", ep.id)),
        host,
        host_dir,
        collected: true,
        state: State::Killed,
    })
}

/// The spec's `requires` paths must exist on the host (for the local host: on this machine).
fn check_requires(spec: &ClusterSpec, host: &dyn Host) -> Result<(), HostError> {
    if spec.requires.is_empty() {
        return Ok(());
    }
    let mut argv: Vec<String> = [
        "sh",
        "-c",
        "for p; do [ -e \"$p\" ] || { echo \"$p\"; exit 1; }; done",
        "sh",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    argv.extend(spec.requires.keys().cloned());
    host.run(&argv, None).map(|_| ()).map_err(|e| {
        let missing = spec
            .requires
            .iter()
            .find(|(p, _)| e.to_string().contains(p.as_str()));
        match missing {
            Some((path, hint)) => HostError::Command {
                host: host.name().to_string(),
                command: format!("test -e {path}"),
                message: format!(
                    "{}: field \"requires\": {path} does not exist there; {hint}",
                    spec.source.display()
                ),
            },
            None => e,
        }
    })
}

/// The address a node's readiness check asks (the spec validated the port name; a backend that
/// laid out no such port falls back to the client address, whose check then fails visibly).
pub(super) fn ready_port(ep: &NodeEndpoints, probe: &ReadyProbe) -> std::net::SocketAddr {
    let port = match probe {
        ReadyProbe::HttpGet { port, .. } | ReadyProbe::Tcp { port, .. } => port,
    };
    port_addr(ep, port).unwrap_or(ep.client_addr)
}

/// Fail if another process on the node's host already holds one of the node's addresses.
pub(super) fn check_ports(host: &dyn Host, ep: &NodeEndpoints) -> Result<(), ClusterError> {
    let named = ep.named.iter().map(|p| p.bind);
    for addr in [ep.client_bind, ep.peer_bind].into_iter().chain(named) {
        if host.port_in_use(addr) {
            return Err(ClusterError::PortInUse {
                node: ep.id.clone(),
                addr,
            });
        }
    }
    Ok(())
}
