//! The default partition backend: a userspace TCP proxy per directed node pair, all on 127.0.0.1,
//! no root needed.
//!
//! Node `a` reaches node `b`'s peer listener through the proxy `a→b` (that address is what `{peers}`
//! renders for `a`); the proxy forwards to `b`'s real peer port. Bytes flowing from the dialer to
//! the target travel on link `(a, b)`, the answers on link `(b, a)`, so a one-way cut stalls one
//! direction of every connection between the two. A new connection needs both directions (as a
//! TCP handshake does), so a one-way cut `(a, b)` also keeps `b` from opening new connections to
//! `a`; data already flowing `b → a` on an established connection keeps flowing (the proxy does
//! not model lost ACKs).
//!
//! Cut semantics (chosen to look like dropped packets to TCP, never like a refusal):
//! - existing connections stop carrying data in the cut direction: the proxy stops reading and
//!   writing, holding at most one read buffer (plus chunks a delayed link had in flight); the
//!   sender's kernel buffers fill and its writes block, exactly as when the network drops every
//!   segment;
//! - new connections are still *accepted* (the dialer's `connect` succeeds, as it would with a
//!   proxy-less SYN retry still pending) but the proxy does not dial the target while either
//!   direction is cut, so they carry nothing;
//! - on heal, held bytes are delivered in order and pending connections are dialled (those the
//!   dialer closed meanwhile are dropped without ever reaching the target): to both ends
//!   a cut looks like a long stall followed by TCP retransmission. Nothing is dropped mid-stream,
//!   so a node never sees a torn message. (Applications with their own timeouts will usually have
//!   given up on the stalled connection and reconnected, as they would on a real network.)
//!
//! If the target node is down, the proxy's dial is refused and it closes the accepted connection,
//! which the dialer sees as a reset: the same as dialing a dead process directly.
//!
//! Link faults ([`LinkFault`]): `delay`, `slow` and `flaky` act per directed link inside the
//! pumps (`pump`); `loss` needs packets, so only the netns backend has it. Random draws (jitter,
//! reset times) come from a ChaCha8 generator seeded with the faults' seed, the link and the
//! connection's number.

mod pump;

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::watch;

use super::link::{LinkFault, LinkFaults};
use super::ports::free_port;
use super::{Link, NamedPort, NetBackend, NetError, NodeEndpoints, NodeId};
use pump::{pump, reset_due, Bucket, Control};

type Cuts = Arc<BTreeSet<Link>>;

/// The userspace TCP proxy backend. Dropping it shuts every proxy down.
pub struct ProxyBackend {
    endpoints: Vec<NodeEndpoints>,
    ids: BTreeSet<NodeId>,
    cuts: watch::Sender<Cuts>,
    faults: watch::Sender<Arc<LinkFaults>>,
    /// One bandwidth clock per directed link, shared by every connection that carries it (the
    /// peer port's and the named ports' proxies alike).
    buckets: BTreeMap<Link, Arc<Bucket>>,
    shutdown: watch::Sender<bool>,
}

impl ProxyBackend {
    /// Lay out `n` nodes named `n1`..`nN` and start their proxies on `rt`.
    pub fn for_nodes(rt: &Handle, n: usize) -> Result<ProxyBackend, NetError> {
        let ids: Vec<NodeId> = (1..=n).map(|i| format!("n{i}")).collect();
        Self::start(rt, &ids)
    }

    /// Lay out the given nodes: a free client port and peer port each on 127.0.0.1, and one
    /// listening proxy per directed pair; start the proxies on `rt`.
    pub fn start(rt: &Handle, ids: &[NodeId]) -> Result<ProxyBackend, NetError> {
        Self::start_with_ports(rt, ids, &[])
    }

    /// Like [`Self::start`], with extra named node-to-node ports (a cluster spec's `ports`): each
    /// gets a free port per node and its own proxy per directed pair, cut together with the
    /// peer port's proxy of the same pair.
    pub fn start_with_ports(
        rt: &Handle,
        ids: &[NodeId],
        names: &[String],
    ) -> Result<ProxyBackend, NetError> {
        let localhost = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let pick = || {
            free_port().map(localhost).map_err(|source| NetError::Bind {
                addr: localhost(0),
                source,
            })
        };
        // Per node: client port, then the peer port and the named ports (index 0 = peer).
        let mut layout = Vec::with_capacity(ids.len());
        for id in ids {
            let client = pick()?;
            let ports = (0..=names.len())
                .map(|_| pick())
                .collect::<Result<Vec<_>, _>>()?;
            layout.push((id.clone(), client, ports));
        }
        let (cuts, _) = watch::channel(Cuts::default());
        let (faults, _) = watch::channel(Arc::new(LinkFaults::none()));
        let (shutdown, _) = watch::channel(false);
        let mut buckets = BTreeMap::new();
        for a in ids {
            for b in ids.iter().filter(|b| *b != a) {
                buckets.insert((a.clone(), b.clone()), Arc::new(Bucket::new()));
            }
        }
        // Built first so that an error below drops it, which stops the proxies already spawned.
        let mut backend = ProxyBackend {
            endpoints: Vec::new(),
            ids: ids.iter().cloned().collect(),
            cuts,
            faults,
            buckets,
            shutdown,
        };
        let mut endpoints = Vec::with_capacity(ids.len());
        for (from, client, ports) in &layout {
            // views[i] = how `from` reaches port i (peer, then named) of every other node.
            let mut views = vec![Vec::new(); ports.len()];
            for (to, _, targets) in &layout {
                if to == from {
                    continue;
                }
                for (view, target) in views.iter_mut().zip(targets) {
                    view.push((to.clone(), backend.spawn_proxy(rt, from, to, *target)?));
                }
            }
            let mut views = views.into_iter();
            let peers = views.next().unwrap_or_default();
            let named = names
                .iter()
                .zip(ports.iter().skip(1))
                .zip(views)
                .map(|((name, bind), peers)| NamedPort {
                    name: name.clone(),
                    bind: *bind,
                    peers,
                })
                .collect();
            endpoints.push(NodeEndpoints {
                id: from.clone(),
                client_bind: *client,
                client_addr: *client,
                peer_bind: ports[0],
                peers,
                command_prefix: Vec::new(),
                named,
            });
        }
        backend.endpoints = endpoints;
        Ok(backend)
    }

    /// Start the proxy that carries `from`'s connections to `target` (a port of node `to`);
    /// returns the address `from` dials.
    fn spawn_proxy(
        &self,
        rt: &Handle,
        from: &NodeId,
        to: &NodeId,
        target: SocketAddr,
    ) -> Result<SocketAddr, NetError> {
        let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let bind_err = |source| NetError::Bind { addr: any, source };
        let std_listener = std::net::TcpListener::bind(any)
            .and_then(|l| l.set_nonblocking(true).map(|_| l))
            .map_err(bind_err)?;
        let addr = std_listener.local_addr().map_err(bind_err)?;
        let (out, back) = ((from.clone(), to.clone()), (to.clone(), from.clone()));
        let pair = Pair {
            out_ctl: self.control(&out),
            back_ctl: self.control(&back),
            out,
            back,
            target,
            conns: Arc::new(AtomicU64::new(0)),
        };
        let stop = self.shutdown.subscribe();
        rt.spawn(until_shutdown(stop.clone(), async move {
            match TcpListener::from_std(std_listener) {
                Ok(l) => accept_loop(l, pair, stop).await,
                Err(e) => tracing::error!("proxy {addr}: {e}"),
            }
        }));
        Ok(addr)
    }

    /// What the pumps of one direction watch: cuts, link faults and the link's bandwidth clock.
    fn control(&self, link: &Link) -> Control {
        Control {
            cuts: self.cuts.subscribe(),
            faults: self.faults.subscribe(),
            bucket: self
                .buckets
                .get(link)
                .cloned()
                .unwrap_or_else(|| Arc::new(Bucket::new())),
        }
    }

    /// The currently cut links.
    pub fn cuts(&self) -> BTreeSet<Link> {
        self.cuts.borrow().as_ref().clone()
    }

    /// The currently degraded links.
    pub fn link_faults(&self) -> LinkFaults {
        self.faults.borrow().as_ref().clone()
    }

    fn check_nodes<'a>(&self, links: impl Iterator<Item = &'a Link>) -> Result<(), NetError> {
        for (a, b) in links {
            for n in [a, b] {
                if !self.ids.contains(n) {
                    return Err(NetError::UnknownNode(n.clone()));
                }
            }
        }
        Ok(())
    }
}

impl NetBackend for ProxyBackend {
    fn name(&self) -> &'static str {
        "proxy"
    }

    fn endpoints(&self) -> &[NodeEndpoints] {
        &self.endpoints
    }

    fn set_cuts(&self, cuts: &BTreeSet<Link>) -> Result<(), NetError> {
        self.check_nodes(cuts.iter())?;
        self.cuts.send_replace(Arc::new(cuts.clone()));
        Ok(())
    }

    fn set_link_faults(&self, faults: &LinkFaults) -> Result<(), NetError> {
        self.check_nodes(faults.links.keys())?;
        if let Some(f) = faults
            .links
            .values()
            .find(|f| matches!(f, LinkFault::Loss { .. }))
        {
            return Err(NetError::Unsupported(format!(
                "the proxy backend cannot {}: it forwards TCP streams, not packets; use --net netns",
                f.name()
            )));
        }
        self.faults.send_replace(Arc::new(faults.clone()));
        Ok(())
    }

    fn shutdown(&self) -> Result<(), NetError> {
        self.cuts.send_replace(Cuts::default());
        self.faults.send_replace(Arc::new(LinkFaults::none()));
        self.shutdown.send_replace(true);
        Ok(())
    }
}

impl Drop for ProxyBackend {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// One directed proxy: connections accepted here come from `out.0` and go to `out.1`.
#[derive(Clone)]
struct Pair {
    out: Link,
    back: Link,
    target: SocketAddr,
    out_ctl: Control,
    back_ctl: Control,
    /// Connections accepted so far (numbers each one's random stream).
    conns: Arc<AtomicU64>,
}

impl Pair {
    /// The generator for connection `conn` in direction `link`: the faults' seed, the link and
    /// the connection's number.
    fn rng(&self, link: &Link, conn: u64) -> ChaCha8Rng {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (self.out_ctl.faults.borrow().seed, link, conn).hash(&mut h);
        ChaCha8Rng::seed_from_u64(h.finish())
    }
}

/// Run `fut` until it finishes or the backend shuts down (which drops it and its sockets).
async fn until_shutdown(
    mut stop: watch::Receiver<bool>,
    fut: impl std::future::Future<Output = ()>,
) {
    tokio::select! {
        _ = stop.wait_for(|s| *s) => {}
        _ = fut => {}
    }
}

async fn accept_loop(listener: TcpListener, pair: Pair, stop: watch::Receiver<bool>) {
    loop {
        match listener.accept().await {
            Ok((conn, _)) => {
                let _ = conn.set_nodelay(true);
                tokio::spawn(until_shutdown(stop.clone(), serve(conn, pair.clone())));
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!("proxy {:?}: accept: {e}", pair.out);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn serve(conn: TcpStream, mut pair: Pair) {
    // Like a SYN that gets no answer: hold the accepted connection until both directions heal.
    // If the dialer gives up meanwhile, forget the connection: the target never hears of it.
    let (out, back) = (pair.out.clone(), pair.back.clone());
    let healed = pair
        .out_ctl
        .cuts
        .wait_for(|c| !c.contains(&out) && !c.contains(&back));
    let abandoned = async {
        let mut b = [0u8; 1];
        match conn.peek(&mut b).await {
            Ok(0) | Err(_) => {}
            // Data is waiting: the dialer is still there; stop watching.
            Ok(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        h = healed => if h.is_err() { return },
        _ = abandoned => return,
    }
    let upstream = match TcpStream::connect(pair.target).await {
        Ok(s) => s,
        Err(_) => return, // target down: dropping `conn` resets the dialer
    };
    let _ = upstream.set_nodelay(true);
    let n = pair.conns.fetch_add(1, Ordering::Relaxed);
    let (reset_tx, reset_rx) = watch::channel(false);
    let (cr, cw) = conn.into_split();
    let (ur, uw) = upstream.into_split();
    let there = pump(
        cr,
        uw,
        out.clone(),
        pair.out_ctl.clone(),
        pair.rng(&out, n),
        reset_rx.clone(),
    );
    let back_again = pump(
        ur,
        cw,
        back.clone(),
        pair.back_ctl.clone(),
        pair.rng(&back, n),
        reset_rx,
    );
    // An error in either direction tears down both; a clean EOF half-closes and waits.
    let pumps = async {
        let _ = tokio::try_join!(there, back_again);
    };
    // A flaky link resets the connection: the pumps see the signal, set a zero linger on both
    // sockets and fail, so both ends get RST.
    let flaky = async {
        reset_due(
            pair.out_ctl.faults.clone(),
            &out,
            &back,
            pair.rng(&back, !n),
        )
        .await;
        tracing::debug!(link = ?out, "flaky link: resetting a connection");
        let _ = reset_tx.send(true);
        std::future::pending::<()>().await
    };
    tokio::select! {
        _ = pumps => {}
        _ = flaky => {}
    }
}
