//! Behaviour of the netns + nftables backend (`--net netns`): nodes in their own namespaces reach
//! each other and are reached by the controller, a cut drops packets (connects stall, not refused),
//! a heal restores, and nothing is left behind — also after a crashed run.
//!
//! Needs root, `ip` and `nft`: always runs when `CI=true`; otherwise skips (printing why) unless
//! root. Processes inside namespaces are this test binary re-executed through `ip netns exec` in a
//! helper mode chosen by an environment variable (`child_*` tests are no-ops otherwise).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faultline::net::netns::{NetnsBackend, NetnsOptions, REGISTRY_DIR};
use faultline::net::{Link, NetBackend};

const LISTEN_ENV: &str = "FL_TEST_LISTEN";
const CONNECT_ENV: &str = "FL_TEST_CONNECT";
const CONNECTED: i32 = 0;
const TIMED_OUT: i32 = 10;
const REFUSED: i32 = 11;

/// Whether to run root-only tests here; prints the reason when not.
fn can_run() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root && !ci {
        eprintln!("skipping: the netns backend needs root (set CI=true to force)");
    }
    root || ci
}

fn nodes() -> Vec<String> {
    vec!["n1".into(), "n2".into(), "n3".into()]
}

/// Re-run this binary inside `ns` in helper mode `test` with `env`.
fn in_namespace(ns: &str, test: &str, env: (&str, String)) -> Command {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns])
        .arg(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(env.0, env.1)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Helper mode: serve `hello` on `$FL_TEST_LISTEN` for at most 60 s.
#[test]
fn child_tcp_listener() {
    let Ok(addr) = std::env::var(LISTEN_ENV) else {
        return;
    };
    let listener = TcpListener::bind(&addr).expect("bind in namespace");
    listener.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match listener.accept() {
            Ok((mut s, _)) => {
                let _ = s.write_all(b"hello\n");
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Helper mode: connect to `$FL_TEST_CONNECT` within 2 s; the exit code says how it went.
#[test]
fn child_tcp_connect() {
    let Ok(addr) = std::env::var(CONNECT_ENV) else {
        return;
    };
    let addr: SocketAddr = addr.parse().expect("address");
    std::process::exit(classify(TcpStream::connect_timeout(
        &addr,
        Duration::from_secs(2),
    )));
}

fn classify(r: std::io::Result<TcpStream>) -> i32 {
    match r {
        Ok(mut s) => {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 6];
            match s.read_exact(&mut buf) {
                Ok(()) if &buf == b"hello\n" => CONNECTED,
                _ => 12,
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => TIMED_OUT,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => REFUSED,
        Err(_) => 13,
    }
}

/// How a connect from inside `ns` to `addr` ends.
fn connect_from(ns: &str, addr: SocketAddr) -> i32 {
    let status = in_namespace(ns, "child_tcp_connect", (CONNECT_ENV, addr.to_string()))
        .status()
        .expect("ip netns exec");
    status.code().unwrap_or(-1)
}

/// How a connect from the controller (root namespace) to `addr` ends.
fn connect_from_host(addr: SocketAddr) -> i32 {
    classify(TcpStream::connect_timeout(&addr, Duration::from_secs(2)))
}

/// Kills and reaps the child on drop, so a failing assertion leaves no process behind.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cut(links: &[(&str, &str)]) -> BTreeSet<Link> {
    links
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn ip_output(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("ip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Assert that no namespace, root link or route of run `rid` exists any more.
fn assert_gone(rid: &str) {
    let tag = format!("fl-{rid}-");
    let namespaces = ip_output(&["netns", "list"]);
    assert!(!namespaces.contains(&tag), "namespaces left: {namespaces}");
    let links = ip_output(&["-o", "link", "show"]);
    assert!(!links.contains(&tag), "links left: {links}");
    let routes = ip_output(&["route", "show"]);
    assert!(!routes.contains(&tag), "routes left: {routes}");
    let record = std::path::Path::new(REGISTRY_DIR).join(format!("{rid}.json"));
    assert!(
        !record.exists(),
        "registry record left: {}",
        record.display()
    );
}

#[test]
fn nodes_connect_a_cut_drops_and_a_heal_restores() {
    if !can_run() {
        return;
    }
    let net = NetnsBackend::create(&nodes(), NetnsOptions::default()).expect("create netns");
    let rid = net.run_id().to_string();
    let ep = net.endpoints().to_vec();
    assert_eq!(ep.len(), 3);
    assert_eq!(ep[0].command_prefix[1..3], ["netns", "exec"]);
    assert_eq!(ep[0].command_prefix[3], format!("fl-{rid}-n1"));
    assert_eq!(ep[0].peers.len(), 2);

    let n1 = ep[0].client_addr;
    let listener = in_namespace(
        &ep[0].command_prefix[3],
        "child_tcp_listener",
        (LISTEN_ENV, n1.to_string()),
    )
    .spawn()
    .expect("spawn listener");
    let _listener = Reaped(listener);
    let deadline = Instant::now() + Duration::from_secs(10);
    while connect_from_host(n1) != CONNECTED {
        assert!(Instant::now() < deadline, "controller never reached {n1}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (ns2, ns3) = (
        net.namespace_of("n2").unwrap(),
        net.namespace_of("n3").unwrap(),
    );
    assert_eq!(connect_from(ns2, n1), CONNECTED, "n2 -> n1 before any cut");

    net.set_cuts(&cut(&[("n2", "n1"), ("n1", "n2")]))
        .expect("cut");
    assert_eq!(
        connect_from(ns2, n1),
        TIMED_OUT,
        "a cut must drop, not refuse"
    );
    assert_eq!(connect_from(ns3, n1), CONNECTED, "n3 -> n1 is not cut");
    assert_eq!(
        connect_from_host(n1),
        CONNECTED,
        "the controller is never cut"
    );

    // Replacing the cut set is not additive: only n3 -> n1 is cut now.
    net.set_cuts(&cut(&[("n3", "n1")])).expect("re-cut");
    assert_eq!(
        connect_from(ns2, n1),
        CONNECTED,
        "n2 -> n1 healed by the new set"
    );
    assert_eq!(connect_from(ns3, n1), TIMED_OUT, "n3 -> n1 now cut");

    net.set_cuts(&BTreeSet::new()).expect("heal");
    assert_eq!(connect_from(ns3, n1), CONNECTED, "heal restores n3 -> n1");

    let unknown = net.set_cuts(&cut(&[("n1", "n9")])).unwrap_err();
    assert!(unknown.to_string().contains("n9"), "{unknown}");

    drop(_listener);
    net.shutdown().expect("shutdown");
    net.shutdown().expect("shutdown is idempotent");
    assert_gone(&rid);
}

#[test]
fn dropping_the_backend_removes_everything() {
    if !can_run() {
        return;
    }
    let net = NetnsBackend::create(&nodes(), NetnsOptions::default()).expect("create netns");
    let rid = net.run_id().to_string();
    let bridge = net.bridge_namespace();
    let tables = Command::new("ip")
        .args(["netns", "exec", &bridge, "nft", "list", "tables"])
        .output()
        .expect("nft");
    assert!(String::from_utf8_lossy(&tables.stdout).contains("bridge faultline"));
    assert!(ip_output(&["route", "show"]).contains(&net.host_link()));
    drop(net);
    assert_gone(&rid);
}

#[test]
fn leftovers_of_a_dead_run_are_removed_at_start() {
    if !can_run() {
        return;
    }
    // A pid that certainly belonged to a now-dead process: a child we reaped.
    let mut child = Command::new("true").spawn().expect("spawn true");
    let dead_pid = child.id();
    child.wait().expect("reap");
    let fake = format!("{:06x}", (std::process::id() ^ 0x00ab_cdef) & 0x00ff_ffff);
    let registered = format!("fl-{fake}-n1");
    let orphan_rid = format!("{:06x}", (std::process::id() ^ 0x0012_3456) & 0x00ff_ffff);
    let unregistered = format!("fl-{orphan_rid}-br");
    for ns in [&registered, &unregistered] {
        let ok = Command::new("ip")
            .args(["netns", "add", ns])
            .status()
            .expect("ip");
        assert!(ok.success(), "could not create {ns}");
    }
    std::fs::create_dir_all(REGISTRY_DIR).expect("registry dir");
    let record = serde_json::json!({
        "run_id": fake, "pid": dead_pid, "start_time": 1, "subnet": 249,
        "namespaces": [registered], "host_link": format!("fl-{fake}-h"),
    });
    let record_path = std::path::Path::new(REGISTRY_DIR).join(format!("{fake}.json"));
    std::fs::write(&record_path, record.to_string()).expect("write record");

    let net = NetnsBackend::create(&nodes(), NetnsOptions::default()).expect("create netns");
    let namespaces = ip_output(&["netns", "list"]);
    assert!(
        !namespaces.contains(&registered),
        "stale registered namespace survived"
    );
    assert!(
        !namespaces.contains(&unregistered),
        "stale unregistered namespace survived"
    );
    assert!(!record_path.exists(), "stale record survived");
    assert!(
        namespaces.contains(&net.bridge_namespace()),
        "live run must be untouched"
    );
    drop(net);
}

#[test]
fn without_root_the_error_names_the_proxy_backend() {
    if !can_run() {
        return;
    }
    // Re-run the check as uid 65534 (nobody), from a copy nobody can reach (the build directory
    // may sit under a private home).
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.path().join("netns_backend");
    std::fs::copy(std::env::current_exe().expect("test binary path"), &exe).expect("copy");
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args([
            "--exact",
            "child_check_supported",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("FL_TEST_CHECK", "1")
        .current_dir(dir.path())
        .output()
        .expect("setpriv");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("UNSUPPORTED"), "child said: {text}");
    assert!(text.contains("--net proxy"), "child said: {text}");
    assert!(text.contains("root"), "child said: {text}");
}

/// Helper mode: print the outcome of `check_supported`.
#[test]
fn child_check_supported() {
    if std::env::var("FL_TEST_CHECK").is_err() {
        return;
    }
    match NetnsBackend::check_supported() {
        Ok(()) => println!("SUPPORTED"),
        Err(e) => println!("UNSUPPORTED: {e}"),
    }
}

/// Run `f` on a thread that has joined namespace `ns`; sockets it creates stay in `ns`.
fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(format!("/run/netns/{ns}")).expect("open netns");
    std::thread::spawn(move || {
        // SAFETY: setns on a valid namespace fd affects only this (short-lived) thread.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .expect("namespace thread")
}

#[test]
fn an_open_connection_stalls_across_a_cut_and_resumes_after_heal() {
    if !can_run() {
        return;
    }
    let net = NetnsBackend::create(&nodes(), NetnsOptions::default()).expect("create netns");
    let n1 = net.endpoints()[0].peer_bind;
    let listener = in_netns(net.namespace_of("n1").unwrap(), move || {
        TcpListener::bind(n1).expect("bind in n1")
    });
    let mut client = in_netns(net.namespace_of("n2").unwrap(), move || {
        TcpStream::connect_timeout(&n1, Duration::from_secs(2)).expect("n2 connects to n1")
    });
    let (mut server, _) = listener.accept().expect("accept");
    server
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut buf = [0u8; 4];

    client.write_all(b"ping").unwrap();
    server
        .read_exact(&mut buf)
        .expect("data flows before the cut");

    net.set_cuts(&cut(&[("n2", "n1"), ("n1", "n2")]))
        .expect("cut");
    client.write_all(b"lost").unwrap();
    let stalled = server.read_exact(&mut buf).unwrap_err();
    assert!(
        matches!(
            stalled.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "a cut connection stalls (no reset): {stalled}"
    );

    net.set_cuts(&BTreeSet::new()).expect("heal");
    // TCP retransmits the stalled bytes once the link is back (first retry within ~1-3 s).
    server
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    server
        .read_exact(&mut buf)
        .expect("retransmitted after heal");
    assert_eq!(&buf, b"lost");
    net.shutdown().expect("shutdown");
}

/// `loss`: an nftables rule drops about the given share of a lossy link's packets (counted with
/// UDP datagrams, which nothing retransmits), 100 % behaves like a cut, and restoring the links
/// lets everything through. Cuts and losses live side by side in one rule set.
#[test]
fn a_lossy_link_drops_about_its_share_of_packets() {
    use faultline::net::{LinkFault, LinkFaults};
    use std::net::UdpSocket;
    if !can_run() {
        return;
    }
    let net = NetnsBackend::create(&nodes(), NetnsOptions::default()).expect("create netns");
    let n1 = net.endpoints()[0].peer_bind;
    let rx = in_netns(net.namespace_of("n1").unwrap(), move || {
        let s = UdpSocket::bind(n1).expect("bind in n1");
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        s
    });
    let tx = in_netns(net.namespace_of("n2").unwrap(), move || {
        let s = UdpSocket::bind("0.0.0.0:0").expect("bind in n2");
        s.connect(n1).expect("connect");
        s
    });
    let delivered = |count: u32| {
        for i in 0..count {
            tx.send(&i.to_be_bytes()).expect("send");
            if i % 50 == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        let mut got = 0;
        let mut buf = [0u8; 4];
        while rx.recv(&mut buf).is_ok() {
            got += 1;
        }
        got
    };
    let lossy = |percent| LinkFaults {
        seed: 1,
        links: [(
            ("n2".to_string(), "n1".to_string()),
            LinkFault::Loss { percent },
        )]
        .into(),
    };
    assert_eq!(delivered(200), 200, "a clean link delivers everything");
    net.set_link_faults(&lossy(50)).expect("50% loss");
    // A cut elsewhere must not disturb the loss rule (one rule set, re-rendered whole).
    net.set_cuts(&cut(&[("n3", "n1")])).expect("cut n3->n1");
    let got = delivered(400);
    assert!(
        (120..=280).contains(&got),
        "50% loss delivered {got} of 400"
    );
    net.set_link_faults(&lossy(100)).expect("100% loss");
    assert_eq!(delivered(100), 0, "100% loss is a cut");
    net.set_link_faults(&LinkFaults::none()).expect("restore");
    net.set_cuts(&BTreeSet::new()).expect("heal");
    assert_eq!(delivered(200), 200, "restored");
    let slow = LinkFaults {
        seed: 1,
        links: [(
            ("n2".to_string(), "n1".to_string()),
            LinkFault::Delay {
                delay: Duration::from_millis(10),
                jitter: Duration::ZERO,
            },
        )]
        .into(),
    };
    let e = net.set_link_faults(&slow).unwrap_err().to_string();
    assert!(e.contains("--net proxy"), "{e}");
    net.shutdown().expect("shutdown");
}
