//! Behaviour of the nemesis against a real cluster: a seeded schedule records the same fault
//! sequence every time, every fault is recorded as a start/done pair of nemesis `info` ops, and
//! heal-all resumes, restarts and reconnects everything. Also: the bundled schedule and cluster
//! files are valid.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use faultline::cluster::{Cluster, ClusterSpec};
use faultline::history::{OpType, Process, Recorder};
use faultline::nemesis::{FnLeaderProbe, Nemesis, NemesisSchedule, Partition};
use faultline::net::ProxyBackend;
use support::{can_run_nodes, node_spec};

struct Rig {
    cluster: Arc<Cluster>,
    net: Arc<ProxyBackend>,
    recorder: Arc<Recorder>,
    nemesis: Nemesis,
    _dir: tempfile::TempDir,
}

async fn rig(n: usize) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let net = Arc::new(ProxyBackend::for_nodes(&tokio::runtime::Handle::current(), n).unwrap());
    let cluster = Arc::new(
        Cluster::start(&node_spec(n, &[]), net.as_ref(), dir.path())
            .await
            .unwrap(),
    );
    let recorder = Arc::new(Recorder::in_memory());
    let probe = Arc::new(FnLeaderProbe(|| async { Some("n2".to_string()) }));
    let nemesis = Nemesis::new(cluster.clone(), net.clone(), recorder.clone(), probe);
    Rig {
        cluster,
        net,
        recorder,
        nemesis,
        _dir: dir,
    }
}

/// `(f, value)` of every nemesis op.
fn ops(r: &Recorder) -> Vec<(String, String)> {
    r.snapshot()
        .ops
        .iter()
        .map(|o| {
            assert_eq!(o.process, Process::Nemesis);
            assert_eq!(o.kind, OpType::Info);
            (
                o.f.clone(),
                o.value.as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn everything_healthy(r: &Rig) {
    for id in r.cluster.node_ids() {
        assert!(r.cluster.is_running(&id), "{id} not running");
        assert!(!r.cluster.is_paused(&id), "{id} still paused");
    }
    assert!(r.net.cuts().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_seed_records_the_same_fault_sequence_twice() {
    if !can_run_nodes("a_fixed_seed_records_the_same_fault_sequence_twice") {
        return;
    }
    let schedule = NemesisSchedule::parse(
        "name='t'\nfaults=['kill','pause','kill-leader','pause-leader','partition-halves','partition-one','partition-leader','partition-ring','bridge']\ninterval='50ms'\nduration='50ms'\n",
        Path::new("t.toml"),
    )
    .unwrap();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let r = rig(3).await;
        // Stop well after the six faults are done.
        let stop = tokio::time::sleep(Duration::from_secs(30));
        let done = r.recorder.clone();
        let stop = async move {
            tokio::select! {
                _ = stop => {}
                _ = async {
                    while done.snapshot().ops.len() < 24 {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                } => {}
            }
        };
        let summary = r
            .nemesis
            .run_limited(&schedule, 42, Some(6), stop)
            .await
            .unwrap();
        assert_eq!(summary.faults, 6);
        assert!(summary.errors.is_empty(), "{:?}", summary.errors);
        everything_healthy(&r);
        assert!(r.cluster.unexpected_exits().is_empty());
        let recorded = ops(&r.recorder);
        // Six faults and six undo steps, each a start/done pair of identical ops.
        assert_eq!(recorded.len(), 24, "{recorded:?}");
        for pair in recorded.chunks(2) {
            assert_eq!(pair[0], pair[1]);
        }
        runs.push(recorded);
    }
    assert_eq!(runs[0], runs[1]);
    let fs: BTreeSet<&str> = runs[0].iter().map(|(f, _)| f.as_str()).collect();
    assert!(fs.len() >= 4, "too little variety: {fs:?}");
    assert!(fs
        .iter()
        .all(|f| ["kill", "restart", "pause", "resume", "partition", "heal"].contains(f)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heal_all_resumes_restarts_and_reconnects_everything() {
    if !can_run_nodes("heal_all_resumes_restarts_and_reconnects_everything") {
        return;
    }
    let r = rig(3).await;
    r.nemesis.kill(&["n1".to_string()]);
    r.nemesis.pause(&["n2".to_string()]);
    let p = Partition::halves(&r.cluster.node_ids());
    r.nemesis.partition(&p).unwrap();
    assert!(!r.cluster.is_running("n1"));
    assert!(r.cluster.is_paused("n2"));
    assert_eq!(r.net.cuts(), p.cuts);

    r.nemesis.heal_all().await.unwrap();
    everything_healthy(&r);
    let fs: Vec<String> = ops(&r.recorder).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fs,
        [
            "kill",
            "kill",
            "pause",
            "pause",
            "partition",
            "partition",
            "heal",
            "heal",
            "resume",
            "resume",
            "restart",
            "restart"
        ]
    );
    let values = ops(&r.recorder);
    assert_eq!(values[0].1, "[n1]");
    assert_eq!(values[4].1, "[n1] [n2 n3]");

    // Nothing left to heal: heal-all records nothing more.
    let before = r.recorder.snapshot().ops.len();
    r.nemesis.heal_all().await.unwrap();
    assert_eq!(r.recorder.snapshot().ops.len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pausing_the_leader_asks_the_probe_and_resumes_it() {
    if !can_run_nodes("pausing_the_leader_asks_the_probe_and_resumes_it") {
        return;
    }
    let r = rig(3).await;
    let schedule = NemesisSchedule::parse(
        "name='t'\nfaults=['pause-leader']\ninterval='10ms'\nduration='200ms'\n",
        Path::new("t.toml"),
    )
    .unwrap();
    let recorder = r.recorder.clone();
    let stop = async move {
        while recorder.snapshot().ops.len() < 4 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let watcher = async {
        // While the fault is on, the leader (n2 per the probe) is stopped.
        while r.recorder.snapshot().ops.len() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(r.cluster.is_paused("n2"));
    };
    let (res, ()) = tokio::join!(r.nemesis.run_limited(&schedule, 3, Some(1), stop), watcher);
    res.unwrap();
    let recorded = ops(&r.recorder);
    assert_eq!(recorded[0], ("pause".into(), "[n2] (leader n2)".into()));
    assert_eq!(recorded[2], ("resume".into(), "[n2]".into()));
    everything_healthy(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolating_the_leader_asks_the_probe() {
    if !can_run_nodes("isolating_the_leader_asks_the_probe") {
        return;
    }
    let r = rig(3).await;
    let schedule = NemesisSchedule::parse(
        "name='t'\nfaults=['partition-leader']\ninterval='10ms'\nduration='5s'\n",
        Path::new("t.toml"),
    )
    .unwrap();
    // Stop as soon as the partition is in place (its start/done pair is recorded): mid-fault.
    let recorder = r.recorder.clone();
    let stop = async move {
        while recorder.snapshot().ops.len() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), r.nemesis.run(&schedule, 1, stop))
        .await
        .expect("the partition was never recorded")
        .unwrap();
    let recorded = ops(&r.recorder);
    assert_eq!(
        recorded[0],
        ("partition".into(), "[n2] [n1 n3] (leader n2)".into())
    );
    // Stopped mid-fault: the run still ends healed.
    assert_eq!(recorded.last().unwrap().0, "heal");
    everything_healthy(&r);
}

#[test]
fn the_bundled_schedules_and_cluster_specs_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root.join("nemesis")).unwrap() {
        let path = entry.unwrap().path();
        let s = NemesisSchedule::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            Some(s.name.as_str()),
            path.file_stem().and_then(|n| n.to_str())
        );
        names.push(s.name);
    }
    names.sort();
    for want in [
        "none",
        "kill",
        "pause",
        "partition-halves",
        "partition-leader",
        "partition-ring",
        "bridge",
        "mixed",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "missing nemesis/{want}.toml"
        );
    }
    let raft = ClusterSpec::load(&root.join("clusters/raft.toml")).unwrap();
    assert_eq!(raft.nodes, 5);
    assert_eq!(raft.command, "faultline-raft");
}
