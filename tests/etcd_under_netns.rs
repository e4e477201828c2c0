//! `clusters/etcd.toml` runs a real 3-member etcd unchanged inside netns namespaces: the spec
//! renders, the members start and elect a leader, and an nftables partition isolates a member so
//! that its linearizable reads stall (unknown) while its serializable reads return stale data —
//! the anomaly the serializable read mode lets a test find. Nothing is left behind.
//!
//! The rendering test always runs. The cluster test needs root, `ip`, `nft` and `etcd`: it always
//! runs when `CI=true` and otherwise skips, printing why.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use faultline::client::etcd::{EtcdClient, EtcdOptions, ReadMode};
use faultline::client::{Client, Completion, Request};
use faultline::cluster::render::{render_node, NodeDirs};
use faultline::cluster::{ClientKind, Cluster, ClusterSpec};
use faultline::history::OpType;
use faultline::net::netns::{NetnsBackend, NetnsOptions};
use faultline::net::{NetBackend, NodeEndpoints};
use serde_json::json;

fn spec() -> ClusterSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("clusters/etcd.toml");
    ClusterSpec::load(&path).expect("clusters/etcd.toml parses")
}

#[test]
fn etcd_spec_renders_real_addresses_for_every_member() {
    let spec = spec();
    assert_eq!((spec.nodes, spec.client), (3, ClientKind::Etcd));
    let ip = |k| IpAddr::V4(Ipv4Addr::new(10, 77, 5, k));
    let all: Vec<NodeEndpoints> = (1..=3u8)
        .map(|k| NodeEndpoints {
            id: format!("n{k}"),
            client_bind: SocketAddr::new(ip(k), 2379),
            client_addr: SocketAddr::new(ip(k), 2379),
            peer_bind: SocketAddr::new(ip(k), 2380),
            peers: (1..=3u8)
                .filter(|p| *p != k)
                .map(|p| (format!("n{p}"), SocketAddr::new(ip(p), 2380)))
                .collect(),
            command_prefix: vec!["ip".into(), "netns".into(), "exec".into(), format!("ns{k}")],
            named: vec![],
        })
        .collect();
    let cmd = render_node(
        &spec,
        Path::new("/usr/bin/etcd"),
        &all,
        &all[1],
        &NodeDirs {
            data: "/r/n2".into(),
            conf: "/c/n2".into(),
        },
    );
    assert_eq!(cmd.program, Path::new("ip"));
    let args = cmd.args.join(" ");
    assert!(
        args.starts_with("netns exec ns2 /usr/bin/etcd --name n2 --data-dir /r/n2"),
        "{args}"
    );
    assert!(
        args.contains("--listen-client-urls http://10.77.5.2:2379"),
        "{args}"
    );
    assert!(
        args.contains("--initial-advertise-peer-urls http://10.77.5.2:2380"),
        "{args}"
    );
    let cluster = "n1=http://10.77.5.1:2380,n2=http://10.77.5.2:2380,n3=http://10.77.5.3:2380";
    assert!(
        args.contains(&format!("--initial-cluster {cluster}")),
        "{args}"
    );
}

fn can_run() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if ci {
        return true;
    }
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: the netns backend needs root (CI=true forces)");
        return false;
    }
    if Command::new("etcd").arg("--version").output().is_err() {
        eprintln!("skipping: `etcd` is not on PATH (apt-get install etcd-server; CI=true forces)");
        return false;
    }
    true
}

/// Retry `req` until it is ok (at most `tries` times); the last completion.
async fn until_ok(c: &EtcdClient, req: &Request, tries: usize) -> Completion {
    let mut last = c.invoke(req).await;
    for _ in 1..tries {
        if last.kind == OpType::Ok {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        last = c.invoke(req).await;
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_isolated_member_serves_stale_serializable_reads_but_no_linearizable_ones() {
    if !can_run() {
        return;
    }
    let spec = spec();
    let net = NetnsBackend::create(&spec.node_ids(), NetnsOptions::default()).expect("netns");
    let rid = net.run_id().to_string();
    let run_dir = tempfile::tempdir().expect("run dir");
    let cluster = Cluster::start(&spec, &net, run_dir.path())
        .await
        .expect("etcd members start and elect a leader");
    let pids: Vec<u32> = spec
        .node_ids()
        .iter()
        .filter_map(|id| cluster.pid(id))
        .collect();
    assert_eq!(pids.len(), 3);

    let opts = |read| EtcdOptions {
        timeout: Duration::from_secs(2),
        read,
    };
    let lin = EtcdClient::new(cluster.client_addrs(), opts(ReadMode::Linearizable)).unwrap();
    let ser = EtcdClient::new(cluster.client_addrs(), opts(ReadMode::Serializable)).unwrap();
    let write = |v: i64| Request::Write {
        key: "k".into(),
        value: json!(v),
    };
    let read = Request::Read { key: "k".into() };
    assert_eq!(until_ok(&lin, &write(1), 10).await.kind, OpType::Ok);
    // n3 has applied 1 once its own linearizable read sees it.
    let seen = until_ok(&lin.with_home(2), &read, 10).await;
    assert_eq!((seen.kind, seen.value), (OpType::Ok, json!(1)));

    // Isolate n3 both ways; the majority (n1, n2) keeps (or elects) a leader and takes a write.
    let cut: BTreeSet<(String, String)> = ["n1", "n2"]
        .iter()
        .flat_map(|o| {
            [
                (o.to_string(), "n3".to_string()),
                ("n3".to_string(), o.to_string()),
            ]
        })
        .collect();
    net.set_cuts(&cut).expect("partition");
    let w = until_ok(&lin, &write(2), 20).await;
    assert_eq!(
        w.kind,
        OpType::Ok,
        "majority write during the partition: {w:?}"
    );

    let stale = ser.with_home(2).invoke(&read).await;
    assert_eq!(
        (stale.kind, stale.value.clone()),
        (OpType::Ok, json!(1)),
        "{stale:?}"
    );
    let stalled = lin.with_home(2).invoke(&read).await;
    assert_eq!(
        stalled.kind,
        OpType::Info,
        "minority linearizable read: {stalled:?}"
    );

    net.set_cuts(&BTreeSet::new()).expect("heal");
    let healed = until_ok(&lin.with_home(2), &read, 30).await;
    assert_eq!((healed.kind, healed.value), (OpType::Ok, json!(2)));

    drop(cluster);
    net.shutdown().expect("shutdown");
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "etcd pid {pid} survived"
        );
    }
    let namespaces = String::from_utf8_lossy(
        &Command::new("ip")
            .args(["netns", "list"])
            .output()
            .expect("ip")
            .stdout,
    )
    .into_owned();
    assert!(!namespaces.contains(&format!("fl-{rid}-")), "{namespaces}");
}
