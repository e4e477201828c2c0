//! The partition backend for nodes on remote hosts (`faultline test --hosts`): nftables rules on
//! the hosts themselves. Each node binds its host's address at the hosts file's ports and dials its
//! peers directly; a cut directed link `(a, b)` is a rule on `b`'s host that drops every packet
//! from `a`'s address (DROP, not REJECT: a partition must look like lost packets).
//!
//! Each run has its own table, `inet faultline_<6 hex>`, replaced in one `nft -f -` transaction
//! per host (atomic), deleted at shutdown — and, through a host guard, also when the controller
//! dies without shutting down (the guard's channel closes and the host deletes the table). Nothing
//! else on the hosts' firewalls is touched.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use super::{Link, NamedPort, NetBackend, NetError, NodeEndpoints, NodeId};
use crate::host::{Host, HostGuard};

/// One node's host and address.
#[derive(Debug, Clone)]
pub struct HostedNode {
    /// The node id.
    pub id: NodeId,
    /// The host it runs on.
    pub host: Arc<dyn Host>,
    /// The address its peers reach it at.
    pub addr: IpAddr,
}

/// nftables partitions on remote hosts.
#[derive(Debug)]
pub struct HostsNet {
    nodes: Vec<HostedNode>,
    endpoints: Vec<NodeEndpoints>,
    table: String,
    state: Mutex<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// One per host, armed while the table may exist.
    guards: Vec<HostGuard>,
    shut_down: bool,
}

impl HostsNet {
    /// Lay out `nodes` at their addresses with the given ports (the `i`th named port binds
    /// `peer_port + 1 + i`, as with netns), install an empty table on every host (checking that
    /// `nft` works there) and arm the guards that delete it.
    pub fn create(
        nodes: Vec<HostedNode>,
        client_port: u16,
        peer_port: u16,
        named_ports: &[String],
    ) -> Result<HostsNet, NetError> {
        let last = u32::from(peer_port) + named_ports.len() as u32;
        if last > u32::from(u16::MAX)
            || (u32::from(peer_port)..=last).contains(&u32::from(client_port))
        {
            return Err(NetError::Unsupported(format!(
                "hosts file ports: client {client_port} and peer {peer_port} with {} named ports \
                 after it do not fit or overlap",
                named_ports.len()
            )));
        }
        let distinct: BTreeSet<IpAddr> = nodes.iter().map(|n| n.addr).collect();
        if distinct.len() != nodes.len() {
            return Err(NetError::Unsupported(
                "with --hosts every node needs its own address (nftables cuts links by address); \
                 give each host a distinct `addr`"
                    .into(),
            ));
        }
        let endpoints = nodes
            .iter()
            .map(|n| NodeEndpoints {
                id: n.id.clone(),
                client_bind: SocketAddr::new(n.addr, client_port),
                client_addr: SocketAddr::new(n.addr, client_port),
                peer_bind: SocketAddr::new(n.addr, peer_port),
                peers: nodes
                    .iter()
                    .filter(|p| p.id != n.id)
                    .map(|p| (p.id.clone(), SocketAddr::new(p.addr, peer_port)))
                    .collect(),
                command_prefix: vec![],
                named: named_ports
                    .iter()
                    .enumerate()
                    .map(|(i, name)| {
                        let port = peer_port + 1 + i as u16;
                        NamedPort {
                            name: name.clone(),
                            bind: SocketAddr::new(n.addr, port),
                            peers: nodes
                                .iter()
                                .filter(|p| p.id != n.id)
                                .map(|p| (p.id.clone(), SocketAddr::new(p.addr, port)))
                                .collect(),
                        }
                    })
                    .collect(),
            })
            .collect();
        let net = HostsNet {
            table: format!("faultline_{:06x}", rand::random::<u32>() & 0xff_ffff),
            endpoints,
            nodes,
            state: Mutex::new(Shared {
                guards: Vec::new(),
                shut_down: false,
            }),
        };
        let armed = net.on_every_host(|n| {
            let guard = n
                .host
                .guard(&delete_argv(&net.table))
                .map_err(|e| host_err(n, e))?;
            net.lock().guards.push(guard);
            net.load(n, &[])
        });
        armed.map(|()| net)
    }

    /// The run's table name (`faultline_<6 hex>`), in the `inet` family on every host.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Run `f` for every node's host at once (hosts answer in parallel, so a cut set reaches
    /// every host at about the same time); the first error, after all have run.
    fn on_every_host(
        &self,
        f: impl Fn(&HostedNode) -> Result<(), NetError> + Sync,
    ) -> Result<(), NetError> {
        let results: Vec<Result<(), NetError>> = std::thread::scope(|s| {
            let handles: Vec<_> = self.nodes.iter().map(|n| s.spawn(|| f(n))).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(NetError::Unsupported("a host thread panicked".into()))
                    })
                })
                .collect()
        });
        results.into_iter().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn load(&self, n: &HostedNode, drops: &[IpAddr]) -> Result<(), NetError> {
        let script = render(&self.table, drops);
        n.host
            .run_privileged(
                &["nft".into(), "-f".into(), "-".into()],
                Some(script.as_bytes()),
            )
            .map(|_| ())
            .map_err(|e| host_err(n, e))
    }
}

fn host_err(n: &HostedNode, e: crate::host::HostError) -> NetError {
    NetError::Command {
        command: format!("nft on {} (node {})", n.host.name(), n.id),
        message: format!(
            "{e}; the host needs nftables and an ssh user allowed to run `nft` (root, or sudo = true)"
        ),
    }
}

fn delete_argv(table: &str) -> Vec<String> {
    ["nft", "delete", "table", "inet", table]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

impl NetBackend for HostsNet {
    fn name(&self) -> &'static str {
        "hosts"
    }

    fn endpoints(&self) -> &[NodeEndpoints] {
        &self.endpoints
    }

    fn set_cuts(&self, cuts: &BTreeSet<Link>) -> Result<(), NetError> {
        let addr_of = |id: &NodeId| {
            self.nodes
                .iter()
                .find(|n| n.id == *id)
                .map(|n| n.addr)
                .ok_or_else(|| NetError::UnknownNode(id.clone()))
        };
        // Destination node -> the sources it must drop.
        let mut drops: BTreeMap<&NodeId, Vec<IpAddr>> = BTreeMap::new();
        for (from, to) in cuts {
            let src = addr_of(from)?;
            addr_of(to)?;
            if from != to {
                drops.entry(to).or_default().push(src);
            }
        }
        let st = self.lock();
        if st.shut_down {
            return if cuts.is_empty() {
                Ok(())
            } else {
                Err(NetError::Unsupported(
                    "the hosts backend was shut down; cannot cut links any more".into(),
                ))
            };
        }
        let res = self.on_every_host(|n| {
            let d = drops.get(&n.id).map(Vec::as_slice).unwrap_or(&[]);
            self.load(n, d)
        });
        drop(st);
        res
    }

    fn shutdown(&self) -> Result<(), NetError> {
        let mut st = self.lock();
        if st.shut_down {
            return Ok(());
        }
        // Closing a guard deletes the table on its host (and waits until it has).
        let guards = std::mem::take(&mut st.guards);
        std::thread::scope(|s| {
            for g in guards {
                s.spawn(move || drop(g));
            }
        });
        st.shut_down = true;
        Ok(())
    }
}

impl Drop for HostsNet {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::warn!(table = %self.table, "removing the partition table from the hosts failed: {e}");
        }
    }
}

/// The `nft -f` script that makes `drops` the complete set of addresses this host drops. Declaring
/// the table before flushing it makes the script valid whether or not it exists yet.
pub fn render(table: &str, drops: &[IpAddr]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "table inet {table}");
    let _ = writeln!(s, "flush table inet {table}");
    let _ = writeln!(s, "table inet {table} {{");
    let _ = writeln!(s, "  chain input {{");
    let _ = writeln!(s, "    type filter hook input priority -10; policy accept;");
    for a in drops {
        let family = if a.is_ipv4() { "ip" } else { "ip6" };
        let _ = writeln!(s, "    {family} saddr {a} drop");
    }
    let _ = writeln!(s, "  }}");
    let _ = writeln!(s, "}}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_drop_per_cut_source_after_a_flush() {
        let text = render(
            "faultline_abc123",
            &["10.0.0.1".parse().unwrap(), "fd00::2".parse().unwrap()],
        );
        let flush = text.find("flush table inet faultline_abc123").unwrap();
        assert!(flush < text.find("ip saddr 10.0.0.1 drop").unwrap());
        assert!(text.contains("ip6 saddr fd00::2 drop"));
        assert!(text.contains("hook input"));
        assert!(!text.contains("reject"));
        assert!(!render("t", &[]).contains("drop"));
    }
}
