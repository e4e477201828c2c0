//! Link faults in the userspace proxy: `delay` adds its latency and keeps the byte order,
//! `slow` caps a link's bandwidth, `flaky` resets connections (RST to both ends) at its rate, and
//! restoring the links brings everything back. `loss` is refused (it needs packets: netns).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use faultline::net::{LinkFault, LinkFaults, NetBackend, NetError, ProxyBackend};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// An echo server on `addr`; reports how each served connection ended (`Ok` on EOF, the error
/// kind otherwise).
async fn echo_server(addr: SocketAddr) -> mpsc::UnboundedReceiver<std::io::ErrorKind> {
    let listener = TcpListener::bind(addr).await.unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) => return,
                        Ok(n) => {
                            if let Err(e) = s.write_all(&buf[..n]).await {
                                let _ = tx.send(e.kind());
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(e.kind());
                            return;
                        }
                    }
                }
            });
        }
    });
    rx
}

/// Two nodes; n1 reaches n2's echo server at the returned address.
async fn setup() -> (
    ProxyBackend,
    SocketAddr,
    mpsc::UnboundedReceiver<std::io::ErrorKind>,
) {
    let net = ProxyBackend::for_nodes(&tokio::runtime::Handle::current(), 2).unwrap();
    let rx = echo_server(net.endpoints()[1].peer_bind).await;
    let via = net.endpoints()[0].peers[0].1;
    (net, via, rx)
}

fn on(links: &[(&str, &str)], fault: LinkFault) -> LinkFaults {
    LinkFaults {
        seed: 7,
        links: links
            .iter()
            .map(|(a, b)| ((a.to_string(), b.to_string()), fault))
            .collect::<BTreeMap<_, _>>(),
    }
}

async fn round_trip(s: &mut TcpStream, msg: &[u8]) -> Duration {
    let t = Instant::now();
    s.write_all(msg).await.unwrap();
    let mut buf = vec![0u8; msg.len()];
    tokio::time::timeout(Duration::from_secs(10), s.read_exact(&mut buf))
        .await
        .expect("answer within 10 s")
        .unwrap();
    assert_eq!(buf, msg);
    t.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_adds_its_latency_and_keeps_the_order() {
    let (net, via, _) = setup().await;
    let mut s = TcpStream::connect(via).await.unwrap();
    s.set_nodelay(true).unwrap();
    let base = round_trip(&mut s, b"warm").await;
    let delay = LinkFault::Delay {
        delay: Duration::from_millis(100),
        jitter: Duration::from_millis(50),
    };
    // Both directions: a round trip pays twice.
    net.set_link_faults(&on(&[("n1", "n2"), ("n2", "n1")], delay))
        .unwrap();
    assert_eq!(net.link_faults().links.len(), 2);
    for _ in 0..3 {
        let rtt = round_trip(&mut s, b"ping").await;
        assert!(rtt >= Duration::from_millis(200), "rtt {rtt:?}");
        assert!(
            rtt < Duration::from_millis(300) + base * 4 + Duration::from_millis(400),
            "rtt {rtt:?}"
        );
    }
    // Many small writes with random jitter each: they arrive complete and in order, and
    // pipelined (the whole burst takes about one delayed round trip, not one per write).
    let (mut r, mut w) = s.into_split();
    let writer = tokio::spawn(async move {
        for i in 0u32..400 {
            w.write_all(&i.to_be_bytes()).await.unwrap();
            if i % 40 == 0 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        w
    });
    let t = Instant::now();
    let mut got = vec![0u8; 400 * 4];
    tokio::time::timeout(Duration::from_secs(10), r.read_exact(&mut got))
        .await
        .expect("burst within 10 s")
        .unwrap();
    let _w = writer.await.unwrap();
    let elapsed = t.elapsed();
    for (i, chunk) in got.chunks(4).enumerate() {
        assert_eq!(u32::from_be_bytes(chunk.try_into().unwrap()), i as u32);
    }
    assert!(elapsed < Duration::from_secs(3), "burst took {elapsed:?}");
    // Restored: back to the base latency.
    net.set_link_faults(&LinkFaults::none()).unwrap();
    let mut s = TcpStream::connect(via).await.unwrap();
    let rtt = round_trip(&mut s, b"fast").await;
    assert!(
        rtt < Duration::from_millis(150),
        "rtt after restore {rtt:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_caps_the_links_bandwidth() {
    let (net, via, _) = setup().await;
    let mut s = TcpStream::connect(via).await.unwrap();
    let payload = vec![7u8; 24 * 1024];
    let fast = round_trip(&mut s, &payload).await;
    assert!(fast < Duration::from_millis(500), "uncapped {fast:?}");
    // 16 KiB/s on the way there only: 24 KiB take about 1.5 s.
    net.set_link_faults(&on(
        &[("n1", "n2")],
        LinkFault::Slow {
            bytes_per_sec: 16 * 1024,
        },
    ))
    .unwrap();
    let slow = round_trip(&mut s, &payload).await;
    assert!(
        slow >= Duration::from_millis(1300) && slow < Duration::from_secs(5),
        "capped {slow:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flaky_resets_connections_at_its_rate_and_restore_stops_it() {
    let (net, via, mut server_ends) = setup().await;
    net.set_link_faults(&on(
        &[("n1", "n2")],
        LinkFault::Flaky {
            reset_every: Duration::from_millis(100),
        },
    ))
    .unwrap();
    let mut lifetimes = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let mut s = TcpStream::connect(via).await.unwrap();
        let _ = s.write_all(b"x").await;
        let mut buf = [0u8; 8];
        let kind = loop {
            let read = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
                .await
                .expect("reset within 5 s");
            match read {
                Ok(0) => panic!("an orderly close, not a reset"),
                Ok(_) => continue, // the echo
                Err(e) => break e.kind(),
            }
        };
        assert_eq!(kind, std::io::ErrorKind::ConnectionReset);
        lifetimes.push(t.elapsed());
    }
    let mean = lifetimes.iter().sum::<Duration>() / lifetimes.len() as u32;
    // Exponential with mean 100 ms: the mean of 20 draws lies well within [30, 300] ms.
    assert!(
        mean >= Duration::from_millis(30) && mean <= Duration::from_millis(300),
        "mean lifetime {mean:?} ({lifetimes:?})"
    );
    // The node on the other side saw resets too.
    let mut resets = 0;
    while let Ok(k) = server_ends.try_recv() {
        if k == std::io::ErrorKind::ConnectionReset {
            resets += 1;
        }
    }
    assert!(resets >= 10, "the target saw {resets} resets");
    net.set_link_faults(&LinkFaults::none()).unwrap();
    let mut s = TcpStream::connect(via).await.unwrap();
    round_trip(&mut s, b"x").await;
    let mut buf = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(600), s.read(&mut buf))
            .await
            .is_err(),
        "a restored link keeps its connections"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loss_and_unknown_nodes_are_refused() {
    let (net, _, _) = setup().await;
    let e = net
        .set_link_faults(&on(&[("n1", "n2")], LinkFault::Loss { percent: 10 }))
        .unwrap_err();
    assert!(e.to_string().contains("--net netns"), "{e}");
    let e = net
        .set_link_faults(&on(&[("n1", "n9")], LinkFault::Slow { bytes_per_sec: 1 }))
        .unwrap_err();
    assert!(matches!(e, NetError::UnknownNode(n) if n == "n9"));
    assert!(net.link_faults().is_empty());
}
