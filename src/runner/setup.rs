//! Building a run's parts from the plan: where nodes run (this machine, or SSH hosts), the network
//! backend, the nodes' lazy filesystems and libfaketime environment, the per-worker clients, the
//! leader probe the nemesis uses, and the bounded wait for the cluster to recover after healing.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::RunError;
use crate::client::etcd::{EtcdClient, EtcdOptions};
use crate::client::zookeeper::{ZkClient, ZkOptions};
use crate::client::{Client, HttpKvClient, HttpKvOptions};
use crate::clock::ClockControl;
use crate::cluster::{ClientKind, Cluster, ClusterSpec};
use crate::disk::{DiskError, LazyDisks};
use crate::host::{HostsFile, Placement};
use crate::nemesis::{FnLeaderProbe, LeaderProbe, StatusProbe};
use crate::net::hosts::{HostedNode, HostsNet};
use crate::net::netns::{NetnsBackend, NetnsOptions};
use crate::net::{NetBackend, NetError, NodeId, ProxyBackend};
use crate::plan::{NetKind, Plan};

/// How long the nemesis waits for one node's `GET /status` (a paused node never answers).
const STATUS_TIMEOUT: Duration = Duration::from_millis(500);

/// The cluster spec to start: `spec` itself, or with the libfaketime environment added when the
/// nodes' clocks are controlled. An `LD_PRELOAD` of the spec (or of faultline's environment) is
/// kept, after libfaketime.
pub fn clocked_spec(spec: &ClusterSpec, clock: Option<&ClockControl>) -> ClusterSpec {
    let Some(clock) = clock else {
        return spec.clone();
    };
    let mut spec = spec.clone();
    let inherited = std::env::var("LD_PRELOAD").ok();
    let existing = spec.env.get("LD_PRELOAD").cloned().or(inherited);
    for (k, v) in clock.env_templates(existing.as_deref()) {
        spec.env.insert(k, v);
    }
    spec
}

/// Mount a lazy filesystem over each node's data directory (`run_dir/data/<id>`), off the async
/// threads. Unmounted when the last handle drops.
pub async fn mount_disks(ids: &[NodeId], run_dir: &Path) -> Result<Arc<LazyDisks>, RunError> {
    let ids = ids.to_vec();
    let data = run_dir.join("data");
    let disks = tokio::task::spawn_blocking(move || LazyDisks::mount(&data, &ids))
        .await
        // A panicked mount task is a disk error, not a client one.
        .map_err(|e| DiskError::Io {
            what: "mount the lazy filesystems".into(),
            source: std::io::Error::other(e.to_string()),
        })??;
    Ok(Arc::new(disks))
}

/// Where the plan's nodes run, and the network backend that lays them out and cuts their links.
pub async fn backend(plan: &Plan) -> Result<(Arc<dyn NetBackend>, Placement), RunError> {
    let ids = plan.cluster.node_ids();
    let local =
        || Placement::local().map_err(|e| RunError::Net(NetError::Unsupported(e.to_string())));
    Ok(match (plan.net, &plan.hosts) {
        (NetKind::Hosts, Some((_, file))) => {
            let (file, ports) = (file.clone(), plan.cluster.ports.clone());
            tokio::task::spawn_blocking(move || remote(&file, &ids, &ports))
                .await
                .map_err(|e| RunError::Net(NetError::Unsupported(e.to_string())))??
        }
        (NetKind::Netns, _) => (
            Arc::new(NetnsBackend::create(
                &ids,
                NetnsOptions::with_named_ports(&plan.cluster.ports),
            )?),
            local()?,
        ),
        _ => (
            Arc::new(ProxyBackend::start_with_ports(
                &tokio::runtime::Handle::current(),
                &ids,
                &plan.cluster.ports,
            )?),
            local()?,
        ),
    })
}

/// Connect to every node's host and lay the nodes out at the hosts' addresses.
fn remote(
    file: &HostsFile,
    ids: &[NodeId],
    named_ports: &[String],
) -> Result<(Arc<dyn NetBackend>, Placement), RunError> {
    let unsupported = |m: String| RunError::Net(NetError::Unsupported(m));
    let placement = Placement::connect(file, ids).map_err(|e| unsupported(e.to_string()))?;
    let targets = file.targets_for(ids).map_err(unsupported)?;
    let mut nodes = Vec::with_capacity(ids.len());
    for (id, t) in targets {
        let addr = match t.addr {
            Some(a) => a,
            None => resolve(&t.host).ok_or_else(|| {
                unsupported(format!(
                    "{}: hosts.{id}: cannot resolve {:?} to an address; give `addr`",
                    file.source.display(),
                    t.host
                ))
            })?,
        };
        nodes.push(HostedNode {
            host: placement.host(&id),
            id,
            addr,
        });
    }
    let net = HostsNet::create(nodes, file.client_port, file.peer_port, named_ports)?;
    Ok((Arc::new(net), placement))
}

/// The first address of `host` (IPv4 preferred).
fn resolve(host: &str) -> Option<std::net::IpAddr> {
    use std::net::ToSocketAddrs;
    let addrs: Vec<SocketAddr> = (host, 0).to_socket_addrs().ok()?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .map(|a| a.ip())
}

/// The clients speaking the cluster's protocol: either one per worker (worker `i` starts at node
/// `i mod n`), or any number for other uses.
pub enum Clients {
    /// The `http-kv` protocol.
    HttpKv(HttpKvClient),
    /// etcd's v3 JSON gateway.
    Etcd(EtcdClient),
    /// ZooKeeper's client protocol, one session per worker, each pinned to one server.
    Zookeeper(ZkClient),
}

impl Clients {
    /// Build the client for `cluster`'s protocol.
    pub fn new(plan: &Plan, cluster: &Cluster) -> Result<Clients, RunError> {
        let addrs = cluster.client_addrs();
        let options = || {
            plan.cluster
                .client_options
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
        };
        let option_error =
            |e: String| RunError::Client(format!("{}: {e}", plan.cluster_path.display()));
        Ok(match plan.cluster.client {
            ClientKind::HttpKv => Clients::HttpKv(
                HttpKvClient::new(
                    addrs,
                    HttpKvOptions {
                        timeout: plan.client_timeout,
                        ..Default::default()
                    },
                )
                .map_err(|e| RunError::Client(e.to_string()))?,
            ),
            ClientKind::Etcd => Clients::Etcd(
                EtcdClient::new(
                    addrs,
                    EtcdOptions {
                        timeout: plan.client_timeout,
                        ..Default::default()
                    }
                    .with_client_options(options())
                    .map_err(option_error)?,
                )
                .map_err(|e| RunError::Client(e.to_string()))?,
            ),
            ClientKind::Zookeeper => Clients::Zookeeper(
                ZkClient::new(
                    addrs,
                    ZkOptions {
                        timeout: plan.client_timeout,
                        ..Default::default()
                    }
                    .with_client_options(options())
                    .map_err(option_error)?,
                )
                .map_err(|e| RunError::Client(e.to_string()))?,
            ),
        })
    }

    /// A client whose requests start at node `home % n`.
    pub fn for_home(&self, home: usize) -> Arc<dyn Client> {
        match self {
            Clients::HttpKv(c) => Arc::new(c.with_home(home)),
            Clients::Etcd(c) => Arc::new(c.with_home(home)),
            Clients::Zookeeper(c) => Arc::new(c.for_server(home)),
        }
    }

    /// The leader probe for the nemesis (http-kv nodes report it on `GET /status`, etcd members
    /// on `/v3/maintenance/status`, ZooKeeper servers on the `srvr` four-letter word).
    pub fn leader_probe(&self, addrs: Vec<(NodeId, SocketAddr)>) -> Arc<dyn LeaderProbe> {
        match self {
            // StatusProbe also reports each node's role and term, which `vote-twice` steers by.
            Clients::HttpKv(_) => Arc::new(StatusProbe::new(addrs, STATUS_TIMEOUT)),
            Clients::Etcd(c) => {
                let c = c.clone();
                Arc::new(FnLeaderProbe(move || {
                    let c = c.clone();
                    async move { c.leader().await }
                }))
            }
            Clients::Zookeeper(c) => {
                let c = c.clone();
                Arc::new(FnLeaderProbe(move || {
                    let c = c.clone();
                    async move { c.leader(STATUS_TIMEOUT).await }
                }))
            }
        }
    }

    /// Wait (at most `budget`) until some node says it leads; returns its index in `addrs`.
    /// etcd clusters are not probed: the final reads' retries cover them.
    pub async fn wait_recovered(
        &self,
        addrs: &[(NodeId, SocketAddr)],
        budget: Duration,
    ) -> Option<usize> {
        // The same probe the nemesis uses: the node leading in the highest term (epoch) wins.
        let probe: Arc<dyn LeaderProbe> = match self {
            Clients::HttpKv(_) => Arc::new(StatusProbe::new(addrs.to_vec(), STATUS_TIMEOUT)),
            Clients::Zookeeper(_) => self.leader_probe(addrs.to_vec()),
            Clients::Etcd(_) => return Some(0),
        };
        let deadline = Instant::now() + budget;
        while Instant::now() < deadline {
            if let Some(id) = probe.leader().await {
                return addrs.iter().position(|(n, _)| *n == id);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        None
    }
}
