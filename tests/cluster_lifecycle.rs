//! Behaviour of `cluster::Cluster`: starting real node processes, the verbs (kill, pause, resume,
//! restart), clean-up without orphans, and clear start-up errors.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use faultline::cluster::{Cluster, ClusterError, SpecError};
use faultline::net::{NodeEndpoints, ProxyBackend};
use support::{can_run_nodes, get, group_gone, node_spec, StaticNet};

const SHORT: Duration = Duration::from_millis(400);

async fn start(n: usize, extra: &[&str]) -> (Cluster, ProxyBackend, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let net = ProxyBackend::for_nodes(&tokio::runtime::Handle::current(), n).unwrap();
    let cluster = Cluster::start(&node_spec(n, extra), &net, dir.path())
        .await
        .unwrap();
    (cluster, net, dir)
}

fn addr(c: &Cluster, id: &str) -> SocketAddr {
    c.endpoints(id).unwrap().client_addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_every_node_ready_with_its_own_log_and_data_dir() {
    if !can_run_nodes("starts_every_node") {
        return;
    }
    let (c, _net, dir) = start(3, &[]).await;
    assert_eq!(c.node_ids(), ["n1", "n2", "n3"]);
    for id in c.node_ids() {
        assert!(c.is_running(&id));
        assert_eq!(get(addr(&c, &id), "/health", SHORT).await, Some(200));
        let log = std::fs::read_to_string(dir.path().join(format!("nodes/{id}.log"))).unwrap();
        assert!(log.contains(&format!("node {id} starting")), "{log}");
        assert!(dir.path().join("data").join(&id).is_dir());
    }
    assert!(c.unexpected_exits().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_pause_resume_and_restart_change_liveness() {
    if !can_run_nodes("kill_pause_resume_and_restart") {
        return;
    }
    let (c, _net, _dir) = start(3, &[]).await;
    let old_pid = c.pid("n1").unwrap();

    c.kill("n1").unwrap();
    assert!(!c.is_running("n1"));
    assert!(group_gone(old_pid));
    assert_eq!(get(addr(&c, "n1"), "/health", SHORT).await, None);

    c.restart("n1").await.unwrap();
    assert!(c.is_running("n1"));
    assert_ne!(c.pid("n1"), Some(old_pid));
    assert_eq!(get(addr(&c, "n1"), "/health", SHORT).await, Some(200));
    assert!(matches!(
        c.restart("n1").await,
        Err(ClusterError::AlreadyRunning(_))
    ));

    let log = std::fs::read_to_string(c.log_path("n1").unwrap()).unwrap();
    assert!(log.contains("=== faultline: SIGKILL n1 at "), "{log}");
    assert_eq!(
        log.matches("=== faultline: starting n1").count(),
        2,
        "{log}"
    );

    c.pause("n2").unwrap();
    assert!(c.is_paused("n2") && c.is_running("n2"));
    assert_eq!(get(addr(&c, "n2"), "/health", SHORT).await, None);
    c.resume("n2").unwrap();
    assert!(!c.is_paused("n2"));
    assert_eq!(get(addr(&c, "n2"), "/health", SHORT).await, Some(200));

    // Killing a paused node works and is not an unexpected exit.
    c.pause("n3").unwrap();
    c.kill("n3").unwrap();
    assert!(!c.is_running("n3"));
    assert!(c.unexpected_exits().is_empty());
    assert!(matches!(c.kill("n9"), Err(ClusterError::UnknownNode(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_all_and_drop_leave_no_process_in_any_group() {
    if !can_run_nodes("stop_all_leaves_no_process") {
        return;
    }
    let (c, _net, _dir) = start(3, &[]).await;
    c.pause("n2").unwrap();
    let pids: Vec<u32> = c.node_ids().iter().filter_map(|id| c.pid(id)).collect();
    assert_eq!(pids.len(), 3);
    c.stop_all();
    for pid in &pids {
        assert!(group_gone(*pid), "group {pid} survived stop_all");
    }
    assert!(c.node_ids().iter().all(|id| !c.is_running(id)));
    c.stop_all(); // idempotent

    let (c, _net, _dir) = start(3, &[]).await;
    let pids: Vec<u32> = c.node_ids().iter().filter_map(|id| c.pid(id)).collect();
    drop(c);
    for pid in &pids {
        assert!(group_gone(*pid), "group {pid} survived drop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_task_leaves_no_orphans() {
    if !can_run_nodes("a_panicking_task_leaves_no_orphans") {
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let task = tokio::spawn(async move {
        let (c, _net, _dir) = start(3, &[]).await;
        let pids: Vec<u32> = c.node_ids().iter().filter_map(|id| c.pid(id)).collect();
        tx.send(pids).unwrap();
        panic!("test panic while the cluster runs");
    });
    assert!(task.await.unwrap_err().is_panic());
    for pid in rx.recv().unwrap() {
        assert!(group_gone(pid), "group {pid} survived a panic");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_dies_on_its_own_is_an_unexpected_exit() {
    if !can_run_nodes("unexpected_exit") {
        return;
    }
    let (c, _net, _dir) = start(3, &[]).await;
    let _ = get(addr(&c, "n2"), "/crash", SHORT).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while c.unexpected_exits().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let exits = c.unexpected_exits();
    assert_eq!(exits.len(), 1, "{exits:?}");
    assert_eq!(exits[0].node, "n2");
    assert_eq!(exits[0].status, "exit code 7");
    assert!(exits[0].log_tail.contains("crash requested"));
    assert!(!c.is_running("n2"));
    // It can be restarted like a killed node.
    c.restart("n2").await.unwrap();
    assert_eq!(get(addr(&c, "n2"), "/health", SHORT).await, Some(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_binary_is_a_clear_error() {
    let mut spec = node_spec(3, &[]);
    spec.command = "no-such-node-binary-xyz".into();
    let dir = tempfile::tempdir().unwrap();
    let net = ProxyBackend::for_nodes(&tokio::runtime::Handle::current(), 3).unwrap();
    let err = Cluster::start(&spec, &net, dir.path())
        .await
        .err()
        .expect("start must fail");
    assert!(matches!(
        err,
        ClusterError::Spec(SpecError::CommandNotFound { .. })
    ));
    let msg = err.to_string();
    assert!(
        msg.contains("field \"command\": \"no-such-node-binary-xyz\" not found"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_exits_during_start_is_reported_with_its_log() {
    if !can_run_nodes("exits_during_start") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let net = ProxyBackend::for_nodes(&tokio::runtime::Handle::current(), 1).unwrap();
    let err = Cluster::start(&node_spec(1, &["--fail-start"]), &net, dir.path())
        .await
        .err()
        .expect("start must fail");
    let msg = err.to_string();
    assert!(
        msg.starts_with("node n1 (") && msg.contains(") exited during start (exit code 3)"),
        "{msg}"
    );
    assert!(msg.contains("fatal: cannot open data directory"), "{msg}");
    assert!(msg.contains("nodes/n1.log"), "{msg}");
    assert!(msg.lines().count() <= 22, "tail is bounded: {msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_already_in_use_is_a_clear_error() {
    if !can_run_nodes("port_in_use") {
        return;
    }
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = squatter.local_addr().unwrap();
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let ep = NodeEndpoints {
        id: "n1".into(),
        client_bind: taken,
        client_addr: taken,
        peer_bind: free,
        peers: vec![],
        command_prefix: vec![],
        named: vec![],
    };
    let net = Arc::new(StaticNet(vec![ep]));
    let dir = tempfile::tempdir().unwrap();
    let err = Cluster::start(&node_spec(1, &[]), net.as_ref(), dir.path())
        .await
        .err()
        .expect("start must fail");
    assert_eq!(
        err.to_string(),
        format!("node n1: address {taken} is already in use by another process; stop it or let faultline choose other ports")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_all_brings_back_every_killed_node_and_reports_per_node() {
    if !can_run_nodes("restart_all") {
        return;
    }
    let (c, _net, _dir) = start(3, &[]).await;
    for id in ["n1", "n3"] {
        c.kill(id).unwrap();
    }
    let ids: Vec<String> = c.node_ids();
    let results = c.restart_all(&ids).await;
    // n2 was never stopped: that one result is an error, the others succeed.
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(matches!(results[1], Err(ClusterError::AlreadyRunning(_))));
    for id in &ids {
        assert_eq!(get(addr(&c, id), "/health", SHORT).await, Some(200));
    }
}
