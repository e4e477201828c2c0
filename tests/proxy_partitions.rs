//! Behaviour of the userspace TCP proxy backend: traffic flows through it, a cut link stalls
//! (never refuses) both existing and new connections, one-way cuts stall one direction, and heal
//! resumes delivery with nothing lost.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use faultline::net::{Link, NetBackend, NetError, ProxyBackend};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const STALL: Duration = Duration::from_millis(500);

/// An echo server on `addr` that also reports every chunk it receives.
async fn echo_server(addr: SocketAddr) -> mpsc::UnboundedReceiver<Vec<u8>> {
    let listener = TcpListener::bind(addr).await.unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                    let _ = tx.send(buf[..n].to_vec());
                }
            });
        }
    });
    rx
}

/// Two nodes; returns the backend, n1's proxy address for n2, and n2's echo-server feed.
async fn setup() -> (ProxyBackend, SocketAddr, mpsc::UnboundedReceiver<Vec<u8>>) {
    let net = ProxyBackend::for_nodes(&tokio::runtime::Handle::current(), 2).unwrap();
    let n2 = net.endpoints()[1].peer_bind;
    let rx = echo_server(n2).await;
    let via = net.endpoints()[0].peers[0].1;
    assert_eq!(net.endpoints()[0].peers[0].0, "n2");
    (net, via, rx)
}

fn cut(links: &[(&str, &str)]) -> BTreeSet<Link> {
    links
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn roundtrip(s: &mut TcpStream, msg: &[u8]) -> Option<Vec<u8>> {
    s.write_all(msg).await.ok()?;
    let mut buf = vec![0u8; msg.len()];
    tokio::time::timeout(STALL, s.read_exact(&mut buf))
        .await
        .ok()?
        .ok()?;
    Some(buf)
}

/// Reads nothing within `STALL`, and the connection is neither closed nor reset.
async fn stalls(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 16];
    tokio::time::timeout(STALL, s.read(&mut buf)).await.is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echo_server_works_through_the_proxy() {
    let (net, via, mut rx) = setup().await;
    let mut s = TcpStream::connect(via).await.unwrap();
    assert_eq!(
        roundtrip(&mut s, b"hello").await.as_deref(),
        Some(&b"hello"[..])
    );
    assert_eq!(rx.recv().await.unwrap(), b"hello");
    assert_eq!(net.name(), "proxy");
    // Every node gets distinct client and peer ports and a proxy for each other node.
    let eps = net.endpoints();
    assert_ne!(eps[0].client_bind, eps[1].client_bind);
    assert_ne!(eps[0].peer_bind, eps[1].peer_bind);
    assert_eq!(eps[1].peers.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_stalls_an_existing_connection_and_heal_delivers_the_held_bytes() {
    let (net, via, _rx) = setup().await;
    let mut s = TcpStream::connect(via).await.unwrap();
    assert!(roundtrip(&mut s, b"before").await.is_some());
    net.set_cuts(&cut(&[("n1", "n2"), ("n2", "n1")])).unwrap();
    s.write_all(b"during").await.unwrap();
    assert!(stalls(&mut s).await, "data crossed a cut link");
    net.set_cuts(&BTreeSet::new()).unwrap();
    let mut buf = [0u8; 6];
    tokio::time::timeout(STALL, s.read_exact(&mut buf))
        .await
        .expect("held bytes arrive after heal")
        .unwrap();
    assert_eq!(&buf, b"during");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_accepts_new_connections_but_carries_nothing_until_heal() {
    let (net, via, mut rx) = setup().await;
    net.set_cuts(&cut(&[("n1", "n2"), ("n2", "n1")])).unwrap();
    let mut s = TcpStream::connect(via)
        .await
        .expect("a cut must not refuse connections");
    s.write_all(b"ping").await.unwrap();
    assert!(stalls(&mut s).await);
    assert!(rx.try_recv().is_err(), "the target saw data across a cut");
    net.set_cuts(&BTreeSet::new()).unwrap();
    let mut fresh = TcpStream::connect(via).await.unwrap();
    assert!(roundtrip(&mut fresh, b"pong").await.is_some());
    // The connection made during the cut goes through once healed.
    let mut buf = [0u8; 4];
    tokio::time::timeout(STALL, s.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf, b"ping");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_way_cut_stalls_only_the_answers() {
    let (net, via, mut rx) = setup().await;
    let mut s = TcpStream::connect(via).await.unwrap();
    assert!(roundtrip(&mut s, b"a").await.is_some());
    assert_eq!(rx.recv().await.unwrap(), b"a");
    net.set_cuts(&cut(&[("n2", "n1")])).unwrap();
    s.write_all(b"b").await.unwrap();
    // n2 receives the request, but its answer does not come back.
    let got = tokio::time::timeout(STALL, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, b"b");
    assert!(stalls(&mut s).await);
    net.set_cuts(&BTreeSet::new()).unwrap();
    let mut buf = [0u8; 1];
    tokio::time::timeout(STALL, s.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf, b"b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cutting_an_unknown_node_is_an_error_and_shutdown_closes_the_proxies() {
    let (net, via, _rx) = setup().await;
    assert!(matches!(
        net.set_cuts(&cut(&[("n1", "n7")])),
        Err(NetError::UnknownNode(n)) if n == "n7"
    ));
    assert!(net.cuts().is_empty());
    net.shutdown().unwrap();
    net.shutdown().unwrap(); // idempotent
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        if TcpStream::connect(via).await.is_err() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "proxy still listening after shutdown"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_target_resets_the_dialer() {
    let net = ProxyBackend::for_nodes(&tokio::runtime::Handle::current(), 2).unwrap();
    let via = net.endpoints()[0].peers[0].1;
    let mut s = TcpStream::connect(via).await.unwrap();
    let mut buf = [0u8; 1];
    let r = tokio::time::timeout(STALL, s.read(&mut buf)).await;
    assert!(
        matches!(r, Ok(Ok(0)) | Ok(Err(_))),
        "expected EOF or reset when nothing listens behind the proxy, got {r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flapping_cuts_never_lose_or_reorder_bytes() {
    let (net, via, _rx) = setup().await;
    let s = TcpStream::connect(via).await.unwrap();
    let (mut r, mut w) = s.into_split();
    const LEN: usize = 512 * 1024;
    let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        for chunk in sent.chunks(4096) {
            w.write_all(chunk).await.unwrap();
        }
        w
    });
    let flapper = tokio::spawn(async move {
        for i in 0..20 {
            let links = match i % 3 {
                0 => cut(&[("n1", "n2"), ("n2", "n1")]),
                1 => cut(&[("n2", "n1")]),
                _ => cut(&[("n1", "n2")]),
            };
            net.set_cuts(&links).unwrap();
            tokio::time::sleep(Duration::from_millis(10)).await;
            net.set_cuts(&BTreeSet::new()).unwrap();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        net
    });
    let mut got = vec![0u8; LEN];
    tokio::time::timeout(Duration::from_secs(20), r.read_exact(&mut got))
        .await
        .expect("echo completes once the flapping stops")
        .unwrap();
    let _w = writer.await.unwrap();
    let _net = flapper.await.unwrap();
    assert!(got == data, "the echoed stream differs from what was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_abandoned_during_a_cut_never_reaches_the_target() {
    let net = ProxyBackend::for_nodes(&tokio::runtime::Handle::current(), 2).unwrap();
    let target = TcpListener::bind(net.endpoints()[1].peer_bind)
        .await
        .unwrap();
    let via = net.endpoints()[0].peers[0].1;
    net.set_cuts(&cut(&[("n1", "n2"), ("n2", "n1")])).unwrap();
    let s = TcpStream::connect(via).await.unwrap();
    let dialer = s.local_addr().unwrap();
    drop(s);
    // Heal only once the proxy has let go of the held connection: our closed end reaches
    // TIME_WAIT when the proxy closes its side (until then it waits in FIN_WAIT_2).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while tcp_state(dialer) != Some(TIME_WAIT) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the proxy never closed a connection its dialer abandoned (state {:?})",
            tcp_state(dialer)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    net.set_cuts(&BTreeSet::new()).unwrap();
    assert!(
        tokio::time::timeout(STALL, target.accept()).await.is_err(),
        "the target was dialled for a connection its dialer had closed"
    );
    // A live one still gets through.
    let _live = TcpStream::connect(via).await.unwrap();
    assert!(tokio::time::timeout(STALL, target.accept()).await.is_ok());
}

/// `st` of a socket in `/proc/net/tcp` meaning TIME_WAIT.
const TIME_WAIT: u8 = 0x06;

/// The kernel's TCP state of the IPv4 socket bound to `local`, if any.
fn tcp_state(local: SocketAddr) -> Option<u8> {
    let SocketAddr::V4(v4) = local else {
        return None;
    };
    let want = format!(
        "{:08X}:{:04X}",
        u32::from_ne_bytes(v4.ip().octets()),
        v4.port()
    );
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let mut cols = line.split_whitespace().skip(1);
        let (addr, state) = (cols.next()?, cols.nth(1)?);
        (addr == want).then(|| u8::from_str_radix(state, 16).ok())?
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_ports_get_their_own_proxies_and_are_cut_with_the_link() {
    let names = ["election".to_string()];
    let net = ProxyBackend::start_with_ports(
        &tokio::runtime::Handle::current(),
        &["n1".into(), "n2".into()],
        &names,
    )
    .unwrap();
    let (n1, n2) = (&net.endpoints()[0], &net.endpoints()[1]);
    let election = n2.named_port("election").expect("n2 has an election port");
    assert_ne!(election.bind, n2.peer_bind);
    assert_ne!(election.bind, n2.client_bind);
    let _rx = echo_server(election.bind).await;
    let via = &n1.named_port("election").unwrap().peers[0];
    assert_eq!(via.0, "n2");
    assert_ne!(
        via.1, n1.peers[0].1,
        "a proxy of its own, not the peer port's"
    );
    let mut s = TcpStream::connect(via.1).await.unwrap();
    assert_eq!(
        roundtrip(&mut s, b"vote").await.as_deref(),
        Some(&b"vote"[..])
    );
    net.set_cuts(&cut(&[("n1", "n2"), ("n2", "n1")])).unwrap();
    s.write_all(b"again").await.unwrap();
    assert!(stalls(&mut s).await, "election traffic crossed a cut link");
    net.set_cuts(&BTreeSet::new()).unwrap();
    let mut buf = [0u8; 5];
    tokio::time::timeout(STALL, s.read_exact(&mut buf))
        .await
        .expect("held bytes arrive")
        .unwrap();
    assert_eq!(&buf, b"again");
}
