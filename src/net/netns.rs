//! The netns + nftables partition backend (`--net netns`, root only). Owns one run's network
//! namespaces: a bridge namespace, one namespace per node joined to the bridge by a veth pair, and
//! a veth from the root namespace so the controller reaches every node. Partitions are nftables
//! DROP rules on the bridge, so any node binary works unchanged (e.g. etcd): it binds its real
//! address inside its namespace and talks to its peers directly. Lossy links (`loss`) are
//! nftables rules on the same bridge that drop a random share of packets.
//!
//! Addresses: `10.77.x.k/24` inside the run's namespaces only (node k = `.k`, controller `.254`);
//! the root namespace gets one connected route for that /24 via the run's veth and nothing else.
//!
//! Lifetimes: every name carries the run id (`fl-<rid>-...`); the owner pid is recorded under
//! `/run/faultline/netns` before anything is created, construction sweeps the leftovers of dead
//! runs, and [`NetBackend::shutdown`] (also run on drop) removes everything. Processes started
//! inside the namespaces belong to `cluster`, which must stop them before shutdown.
//!
//! # Layout
//! - `layout`: names and addresses (pure).
//! - `rules`: the nftables rule set for a cut set (pure).
//! - `registry`: the on-disk record of live runs and their owners.
//! - `setup`: creating, tearing down and sweeping namespaces and links.
//! - `cmd`: running `ip` / `nft` with bounded time.

pub(crate) mod cmd;
pub(crate) mod layout;
pub(crate) mod registry;
mod rules;
pub(crate) mod setup;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

pub use layout::{MAX_NODES, PREFIX};
pub use registry::DEFAULT_DIR as REGISTRY_DIR;

use crate::net::{
    Link, LinkFault, LinkFaults, NamedPort, NetBackend, NetError, NodeEndpoints, NodeId,
};
use layout::Layout;
use registry::Registry;
use setup::Tools;

/// Ports every node binds inside its own namespace (each node has its own address, so all nodes
/// can use the same ports). There is deliberately no registry-path option: the stale sweep must
/// see every live run on the host, so all runs share [`REGISTRY_DIR`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetnsOptions {
    /// Client API port (`{client_port}`).
    pub client_port: u16,
    /// Peer port (`{peer_port}`).
    pub peer_port: u16,
    /// The cluster spec's extra named ports, in order; the `i`th binds `peer_port + 1 + i`.
    pub named_ports: Vec<String>,
}

impl Default for NetnsOptions {
    fn default() -> Self {
        NetnsOptions {
            client_port: 2379,
            peer_port: 2380,
            named_ports: Vec::new(),
        }
    }
}

impl NetnsOptions {
    /// The default ports with the given extra named ports.
    pub fn with_named_ports(names: &[String]) -> NetnsOptions {
        NetnsOptions {
            named_ports: names.to_vec(),
            ..NetnsOptions::default()
        }
    }
}

/// One run's namespaces, bridge, veths and nftables rules.
#[derive(Debug)]
pub struct NetnsBackend {
    tools: Tools,
    registry: Registry,
    layout: Layout,
    endpoints: Vec<NodeEndpoints>,
    /// The rules in force; guarded so rule changes never race teardown.
    state: Mutex<Rules>,
}

/// The nftables rules in force (each update re-renders both kinds).
#[derive(Debug, Default)]
struct Rules {
    /// `true` once everything was removed.
    shut_down: bool,
    drops: Vec<(std::net::Ipv4Addr, std::net::Ipv4Addr)>,
    lossy: Vec<rules::Lossy>,
}

impl NetnsBackend {
    /// Check that this process can use the backend: root, `ip` and `nft` present. The error
    /// names `--net proxy` as the alternative.
    pub fn check_supported() -> Result<(), NetError> {
        locate_tools().map(|_| ())
    }

    /// Lay out `nodes` (in order) in fresh namespaces, after removing the leftovers of dead runs.
    pub fn create(nodes: &[NodeId], opts: NetnsOptions) -> Result<NetnsBackend, NetError> {
        let tools = locate_tools()?;
        validate_nodes(nodes)?;
        validate_ports(&opts)?;
        let registry = Registry::at(REGISTRY_DIR);
        let layout = {
            let _lock = registry.lock()?;
            // Leftovers that cannot be removed do not block this run: it picks a subnet and a
            // run id they do not use.
            match setup::sweep_stale(&tools, &registry) {
                Ok(removed) if !removed.is_empty() => {
                    tracing::info!(?removed, "removed leftovers of dead netns runs")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("could not remove leftovers of a dead netns run: {e}"),
            }
            setup::register(&tools, &registry, nodes, None)?
        };
        let backend = NetnsBackend {
            endpoints: endpoints(&layout, &tools, &opts),
            tools,
            registry,
            layout,
            state: Mutex::new(Rules::default()),
        };
        // On failure, dropping `backend` tears down whatever part was built.
        setup::build(&backend.tools, &backend.layout)?;
        tracing::info!(run_id = %backend.layout.run_id, subnet = backend.layout.subnet, "netns up");
        Ok(backend)
    }

    /// Remove the namespaces, links and records of every dead run; returns the names removed.
    /// [`NetnsBackend::create`] does this itself.
    pub fn sweep_stale() -> Result<Vec<String>, NetError> {
        let tools = locate_tools()?;
        let registry = Registry::at(REGISTRY_DIR);
        let _lock = registry.lock()?;
        setup::sweep_stale(&tools, &registry)
    }

    /// The run id carried by every name (`fl-<run id>-...`).
    pub fn run_id(&self) -> &str {
        &self.layout.run_id
    }

    /// Every namespace of the run (bridge first, then the nodes').
    pub fn namespaces(&self) -> Vec<String> {
        self.layout.namespaces()
    }

    /// The namespace node `id` runs in.
    pub fn namespace_of(&self, id: &str) -> Option<&str> {
        self.layout.node(id).map(|n| n.namespace.as_str())
    }

    /// The namespace that holds the bridge and the nftables table.
    pub fn bridge_namespace(&self) -> String {
        self.layout.bridge_namespace()
    }

    /// The run's veth in the root namespace.
    pub fn host_link(&self) -> String {
        self.layout.host_link()
    }

    /// The controller's address on the run's subnet.
    pub fn host_ip(&self) -> std::net::Ipv4Addr {
        self.layout.host_ip()
    }

    /// The address pair of a link between two distinct nodes (`None` for a self-link).
    fn addrs(
        &self,
        (from, to): &Link,
    ) -> Result<Option<(std::net::Ipv4Addr, std::net::Ipv4Addr)>, NetError> {
        let ip_of = |id: &NodeId| {
            self.layout
                .node(id)
                .map(|n| n.ip)
                .ok_or_else(|| NetError::UnknownNode(id.clone()))
        };
        let (src, dst) = (ip_of(from)?, ip_of(to)?);
        Ok((src != dst).then_some((src, dst)))
    }

    /// Apply `change` to the rules in force and load them, unless the backend was shut down
    /// (then only a change to "no rules" is accepted, as a no-op).
    fn update(&self, change: impl FnOnce(&mut Rules)) -> Result<(), NetError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = Rules {
            shut_down: state.shut_down,
            drops: state.drops.clone(),
            lossy: state.lossy.clone(),
        };
        change(&mut next);
        if state.shut_down {
            return if next.drops.is_empty() && next.lossy.is_empty() {
                Ok(())
            } else {
                Err(NetError::Unsupported(
                    "the netns backend was shut down; cannot change links any more".into(),
                ))
            };
        }
        self.tools.nft_load(
            &self.layout.bridge_namespace(),
            &rules::render(&next.drops, &next.lossy),
        )?;
        *state = next;
        Ok(())
    }
}

impl NetBackend for NetnsBackend {
    fn name(&self) -> &'static str {
        "netns"
    }

    fn endpoints(&self) -> &[NodeEndpoints] {
        &self.endpoints
    }

    fn set_cuts(&self, cuts: &BTreeSet<Link>) -> Result<(), NetError> {
        let mut drops = Vec::with_capacity(cuts.len());
        for link in cuts {
            drops.extend(self.addrs(link)?);
        }
        self.update(|r| r.drops = drops)
    }

    fn set_link_faults(&self, faults: &LinkFaults) -> Result<(), NetError> {
        let mut lossy = Vec::with_capacity(faults.links.len());
        for (link, fault) in &faults.links {
            let LinkFault::Loss { percent } = fault else {
                return Err(NetError::Unsupported(format!(
                    "the netns backend cannot {} links (that needs netem, which this kernel may \
                     lack); use --net proxy for delay, slow and flaky",
                    fault.name()
                )));
            };
            if let Some((src, dst)) = self.addrs(link)? {
                lossy.push(rules::Lossy {
                    src,
                    dst,
                    percent: *percent,
                });
            }
        }
        self.update(|r| r.lossy = lossy)
    }

    fn shutdown(&self) -> Result<(), NetError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.shut_down {
            return Ok(());
        }
        setup::teardown(
            &self.tools,
            &self.layout.namespaces(),
            &self.layout.host_link(),
        )?;
        self.registry.remove(&self.layout.run_id)?;
        *state = Rules {
            shut_down: true,
            ..Rules::default()
        };
        Ok(())
    }
}

impl Drop for NetnsBackend {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::warn!(run_id = %self.layout.run_id, "netns teardown failed: {e}");
        }
    }
}

/// Root, `ip` and `nft`, or an error naming `--net proxy` as the alternative.
fn locate_tools() -> Result<Tools, NetError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        return Err(NetError::Unsupported(format!(
            "--net netns needs root (this process runs as uid {euid}): it creates network \
             namespaces and nftables rules; run as root or use `--net proxy` (the default, no \
             root needed)"
        )));
    }
    let find = |program: &str, package: &str| {
        cmd::find_program(program).ok_or_else(|| {
            NetError::Unsupported(format!(
                "--net netns needs `{program}` ({package}), which is not on PATH or in \
                 /usr/sbin: install {package} or use `--net proxy`"
            ))
        })
    };
    Ok(Tools {
        ip: find("ip", "iproute2")?,
        nft: find("nft", "nftables")?,
    })
}

fn validate_nodes(nodes: &[NodeId]) -> Result<(), NetError> {
    if nodes.is_empty() || nodes.len() > MAX_NODES {
        return Err(NetError::Unsupported(format!(
            "--net netns supports 1 to {MAX_NODES} nodes, got {}",
            nodes.len()
        )));
    }
    let unique: BTreeSet<&NodeId> = nodes.iter().collect();
    if unique.len() != nodes.len() {
        return Err(NetError::Unsupported(format!(
            "node ids must be distinct, got {nodes:?}"
        )));
    }
    Ok(())
}

fn validate_ports(opts: &NetnsOptions) -> Result<(), NetError> {
    let last = u32::from(opts.peer_port) + opts.named_ports.len() as u32;
    let clash = (u32::from(opts.peer_port)..=last).contains(&u32::from(opts.client_port));
    if last > u32::from(u16::MAX) || clash || opts.client_port == 0 || opts.peer_port == 0 {
        return Err(NetError::Unsupported(format!(
            "netns ports: client {} and peer {} with {} named ports after it do not fit or overlap",
            opts.client_port,
            opts.peer_port,
            opts.named_ports.len()
        )));
    }
    Ok(())
}

fn endpoints(l: &Layout, tools: &Tools, opts: &NetnsOptions) -> Vec<NodeEndpoints> {
    let ip = tools.ip.to_string_lossy().into_owned();
    let addr = |n: &layout::NodeSlot, port| SocketAddr::new(IpAddr::V4(n.ip), port);
    l.nodes
        .iter()
        .map(|n| NodeEndpoints {
            id: n.id.clone(),
            client_bind: addr(n, opts.client_port),
            client_addr: addr(n, opts.client_port),
            peer_bind: addr(n, opts.peer_port),
            peers: l
                .nodes
                .iter()
                .filter(|p| p.id != n.id)
                .map(|p| (p.id.clone(), addr(p, opts.peer_port)))
                .collect(),
            command_prefix: vec![
                ip.clone(),
                "netns".into(),
                "exec".into(),
                n.namespace.clone(),
            ],
            named: opts
                .named_ports
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let port = opts.peer_port + 1 + i as u16;
                    NamedPort {
                        name: name.clone(),
                        bind: addr(n, port),
                        peers: l
                            .nodes
                            .iter()
                            .filter(|p| p.id != n.id)
                            .map(|p| (p.id.clone(), addr(p, port)))
                            .collect(),
                    }
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_ports_follow_the_peer_port_at_every_nodes_own_address() {
        let ids: Vec<NodeId> = vec!["n1".into(), "n2".into(), "n3".into()];
        let layout = Layout::new("0a1b2c", 7, &ids);
        let tools = Tools {
            ip: "/sbin/ip".into(),
            nft: "/sbin/nft".into(),
        };
        let opts = NetnsOptions::with_named_ports(&["election".into(), "admin".into()]);
        let eps = endpoints(&layout, &tools, &opts);
        let n2 = &eps[1];
        assert_eq!(n2.named.len(), 2);
        assert_eq!(
            n2.named_port("election").unwrap().bind.to_string(),
            "10.77.7.2:2381"
        );
        assert_eq!(
            n2.named_port("admin").unwrap().bind.to_string(),
            "10.77.7.2:2382"
        );
        let seen: Vec<String> = n2.named[0]
            .peers
            .iter()
            .map(|(id, a)| format!("{id}@{a}"))
            .collect();
        assert_eq!(seen, ["n1@10.77.7.1:2381", "n3@10.77.7.3:2381"]);
        assert!(validate_ports(&opts).is_ok());
        let clash = NetnsOptions {
            client_port: 2382,
            ..opts.clone()
        };
        assert!(validate_ports(&clash).is_err());
        let overflow = NetnsOptions {
            peer_port: u16::MAX,
            ..opts
        };
        assert!(validate_ports(&overflow).is_err());
    }
}
