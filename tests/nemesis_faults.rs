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
use faultline::nemesis::note::describe;
use faultline::nemesis::{
    FaultNote, FnLeaderProbe, Nemesis, NemesisSchedule, Partition, TargetRole,
};
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
    // A port picked free can be taken by another process before the node binds it; the
    // cluster then refuses to start (as a run would, exit 3). Lay out fresh ports and retry.
    let mut attempt = 0;
    let (net, cluster) = loop {
        attempt += 1;
        let net = Arc::new(ProxyBackend::for_nodes(&tokio::runtime::Handle::current(), n).unwrap());
        match Cluster::start(&node_spec(n, &[]), net.as_ref(), dir.path()).await {
            Ok(c) => break (net, Arc::new(c)),
            Err(e @ faultline::cluster::ClusterError::PortInUse { .. }) if attempt < 3 => {
                eprintln!("rig: {e}; laying out other ports");
            }
            Err(e) => panic!("cluster start: {e}"),
        }
    };
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

/// `(f, value)` of every nemesis op (a fault note's value is its `desc`).
fn ops(r: &Recorder) -> Vec<(String, String)> {
    r.snapshot()
        .ops
        .iter()
        .map(|o| {
            assert_eq!(o.process, Process::Nemesis);
            assert_eq!(o.kind, OpType::Info);
            (o.f.clone(), describe(&o.value))
        })
        .collect()
}

/// The fault note carried by the `i`-th nemesis op.
fn note(r: &Recorder, i: usize) -> FaultNote {
    let op = &r.snapshot().ops[i];
    FaultNote::from_value(&op.value).unwrap_or_else(|| panic!("no note on {op:?}"))
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

/// A families schedule whose stop comes while a fault is being undone (a killed node being
/// restarted) returns and heals; it once polled the completed stop again and panicked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_families_schedule_stopped_during_an_undo_returns_and_heals() {
    if !can_run_nodes("a_families_schedule_stopped_during_an_undo_returns_and_heals") {
        return;
    }
    let schedule = NemesisSchedule::parse(
        "name='t'\norder='families'\nfaults=['kill']\ninterval='50ms'\nduration='50ms'\n",
        Path::new("t.toml"),
    )
    .unwrap();
    let r = rig(3).await;
    let seen = r.recorder.clone();
    // Completes as soon as the first restart has begun: the undo is still waiting for the node.
    let stop = async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !seen.snapshot().ops.iter().any(|o| o.f == "restart")
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    let summary = r.nemesis.run(&schedule, 1, stop).await.unwrap();
    assert!(summary.faults >= 1);
    everything_healthy(&r);
    let fs: Vec<String> = ops(&r.recorder).into_iter().map(|(f, _)| f).collect();
    assert!(fs.iter().any(|f| f == "restart"), "{fs:?}");
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
    // The fault's first op says what it was and whom it hit, in which role.
    let n = note(&r.recorder, 0);
    assert_eq!(n.fault, "pause-leader");
    assert_eq!(n.targets, [("n2".to_string(), TargetRole::Leader)].into());
    assert_eq!(note(&r.recorder, 1), n, "the done record repeats it");
    assert!(
        r.recorder.snapshot().ops[2].value.is_string(),
        "undo steps carry no note"
    );
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
        "clock-skew",
        "clock-strobe",
        "skew-isolate-leader",
        "delay",
        "slow",
        "flaky",
        "loss",
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

/// Clock and link verbs are recorded, and heal-all undoes them: links restored, every clock put
/// right, strobes stopped (no late flip after the reset).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heal_all_restores_links_and_puts_clocks_right() {
    use faultline::clock::ClockControl;
    use faultline::net::LinkFault;
    if !can_run_nodes("heal_all_restores_links_and_puts_clocks_right") {
        return;
    }
    let mut r = rig(3).await;
    let root = tempfile::tempdir().unwrap();
    // The verbs only write control files: the stand-in nodes need not run under libfaketime.
    let clock = Arc::new(
        ClockControl::create_in(root.path(), "/none.so".into(), &r.cluster.node_ids(), true)
            .unwrap(),
    );
    let probe = Arc::new(FnLeaderProbe(|| async { Some("n2".to_string()) }));
    r.nemesis = Nemesis::new(r.cluster.clone(), r.net.clone(), r.recorder.clone(), probe)
        .with_clock(clock.clone());
    let delay = LinkFault::Delay {
        delay: Duration::from_millis(5),
        jitter: Duration::ZERO,
    };
    r.nemesis
        .degrade_links(&["n1".to_string()], delay, 3)
        .unwrap();
    assert_eq!(r.net.link_faults().links.len(), 4);
    r.nemesis.clock_skew(&[("n2".to_string(), -5000)]);
    r.nemesis
        .clock_strobe(&[("n3".to_string(), 2000)], Duration::from_millis(20));
    assert_eq!(clock.offset("n2"), -5000);
    tokio::time::sleep(Duration::from_millis(70)).await;
    r.nemesis.heal_all().await.unwrap();
    assert!(r.net.link_faults().is_empty());
    tokio::time::sleep(Duration::from_millis(100)).await;
    for n in ["n1", "n2", "n3"] {
        assert_eq!(clock.offset(n), 0, "{n}");
        let text = std::fs::read_to_string(clock.file(n)).unwrap();
        assert_eq!(text, "+0.000\n", "{n}'s control file after heal-all");
    }
    let fs: Vec<String> = ops(&r.recorder).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fs,
        [
            "delay",
            "delay",
            "clock-skew",
            "clock-skew",
            "clock-strobe",
            "clock-strobe",
            "restore-links",
            "restore-links",
            "clock-reset",
            "clock-reset",
        ]
    );
    let recorded = ops(&r.recorder);
    assert_eq!(recorded[0].1, "[n1] 5ms +0..0ms");
    assert_eq!(recorded[2].1, "n2 -5000ms");
    everything_healthy(&r);
}
