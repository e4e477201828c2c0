//! Preparing a node on its host before it first starts: its directories, the program placed
//! there, its rendered command; and the port check made before every start.

use std::path::Path;
use std::sync::Arc;

use super::render::render_node;
use super::spec::ClusterSpec;
use super::supervise::{Node, State};
use super::ClusterError;
use crate::host::Host;
use crate::net::NodeEndpoints;

/// Make node `ep`'s directories on its host, place the program there, and render its command.
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
    let data = host_dir.join("data").join(&ep.id);
    let host_logs = host_dir.join("nodes");
    host.mkdir(&[&data, &host_logs]).map_err(on_host)?;
    let there = host.place_program(program).map_err(on_host)?;
    Ok(Node {
        endpoints: ep.clone(),
        command: render_node(spec, &there, layout, ep, &data),
        log: logs.join(format!("{}.log", ep.id)),
        host_log: host_logs.join(format!("{}.log", ep.id)),
        host,
        host_dir,
        collected: true,
        state: State::Killed,
    })
}

/// Fail if another process on the node's host already holds one of the node's addresses.
pub(super) fn check_ports(host: &dyn Host, ep: &NodeEndpoints) -> Result<(), ClusterError> {
    for addr in [ep.client_bind, ep.peer_bind] {
        if host.port_in_use(addr) {
            return Err(ClusterError::PortInUse {
                node: ep.id.clone(),
                addr,
            });
        }
    }
    Ok(())
}
