//! The bundled cluster spec starts real `faultline-raft` nodes through the proxy backend, and the
//! nemesis's leader-targeted faults hit the leader the nodes report: isolating it makes the rest
//! elect a new one; healing reunites them.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use faultline::cluster::{Cluster, ClusterSpec};
use faultline::history::Recorder;
use faultline::nemesis::{LeaderProbe, Nemesis, Partition, StatusProbe};
use faultline::net::ProxyBackend;

/// Cargo builds the node binary for these tests, so it must work: a broken one fails the test
/// (locally and under `CI=true` alike) instead of skipping it.
fn require_raft_node() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_faultline-raft"))
        .arg("--list-bugs")
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "faultline-raft --list-bugs failed ({}): {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("cannot run faultline-raft: {e}"),
    }
}

async fn wait_leader(probe: &StatusProbe, not: Option<&str>) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(l) = probe.leader().await {
            if Some(l.as_str()) != not {
                return l;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no leader (other than {not:?}) within 15s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolating_the_raft_leader_elects_another_and_heal_reunites() {
    require_raft_node();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = ClusterSpec::load(&root.join("clusters/raft.toml"))
        .unwrap()
        .with_nodes(3)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let net = Arc::new(ProxyBackend::for_nodes(&tokio::runtime::Handle::current(), 3).unwrap());
    let cluster = Arc::new(
        Cluster::start(&spec, net.as_ref(), dir.path())
            .await
            .unwrap(),
    );
    let probe = Arc::new(StatusProbe::new(
        cluster.client_addrs(),
        Duration::from_millis(300),
    ));
    let leader = wait_leader(&probe, None).await;

    let recorder = Arc::new(Recorder::in_memory());
    let nemesis = Nemesis::new(cluster.clone(), net.clone(), recorder, probe.clone());
    nemesis
        .partition(&Partition::isolate(&leader, &cluster.node_ids()))
        .unwrap();
    let new_leader = wait_leader(&probe, Some(&leader)).await;
    assert_ne!(new_leader, leader);

    nemesis.heal_all().await.unwrap();
    // Once healed, the old leader learns the new term: exactly one leader, reachable by all.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let l = wait_leader(&probe, None).await;
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut agree = 0;
        for (_, addr) in cluster.client_addrs() {
            let s: Option<faultline::protocol::StatusBody> = async {
                client
                    .get(format!("http://{addr}/status"))
                    .timeout(Duration::from_millis(300))
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()
            }
            .await;
            if s.and_then(|s| s.leader).as_deref() == Some(l.as_str()) {
                agree += 1;
            }
        }
        if agree == 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nodes never agreed on one leader after heal"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        cluster.unexpected_exits().is_empty(),
        "{:?}",
        cluster.unexpected_exits()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_kind_on_raft_nodes_ends_healed_with_one_leader() {
    require_raft_node();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = ClusterSpec::load(&root.join("clusters/raft.toml")).unwrap();
    let mut schedule =
        faultline::nemesis::NemesisSchedule::load(&root.join("nemesis/mixed.toml")).unwrap();
    schedule.interval = Duration::from_millis(200);
    schedule.duration = Duration::from_millis(400);
    let dir = tempfile::tempdir().unwrap();
    let net = Arc::new(ProxyBackend::for_nodes(&tokio::runtime::Handle::current(), 5).unwrap());
    let cluster = Arc::new(
        Cluster::start(&spec, net.as_ref(), dir.path())
            .await
            .unwrap(),
    );
    let probe = Arc::new(StatusProbe::new(
        cluster.client_addrs(),
        Duration::from_millis(300),
    ));
    wait_leader(&probe, None).await;
    let recorder = Arc::new(Recorder::in_memory());
    let nemesis = Nemesis::new(
        cluster.clone(),
        net.clone(),
        recorder.clone(),
        probe.clone(),
    );
    // Stop once six faults were started and undone (four ops each), or after a generous cap.
    let ops = recorder.clone();
    let stop = async move {
        let deadline = Instant::now() + Duration::from_secs(30);
        while ops.snapshot().ops.len() < 24 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let summary = nemesis.run(&schedule, 11, stop).await.unwrap();
    assert!(summary.faults >= 5, "{summary:?}");
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    for id in cluster.node_ids() {
        assert!(cluster.is_running(&id) && !cluster.is_paused(&id), "{id}");
    }
    assert!(net.cuts().is_empty());
    assert!(
        cluster.unexpected_exits().is_empty(),
        "{:?}",
        cluster.unexpected_exits()
    );
    wait_leader(&probe, None).await;
}
