//! `faultline test --net netns` on the bundled Raft node reaches the same verdicts as the default
//! proxy backend — valid for the correct node, invalid for a seeded bug that partitions reveal —
//! and leaves no namespace, link or node process behind. Needs root: always runs when `CI=true`.

mod netns_support;

use netns_support::{assert_nothing_left, can_run, faultline_test, leftovers, SERIAL};

/// One run of the bundled node under partitions with `net`; returns the exit code.
fn raft_run(net: &str, bug: Option<&str>) -> i32 {
    let results = tempfile::tempdir().expect("results dir");
    let mut args = vec![
        "--cluster",
        "clusters/raft.toml",
        "--nodes",
        "3",
        "--nemesis",
        "nemesis/partition-halves.toml",
        "--time-limit",
        "12s",
        "--seed",
        "7",
        "--clients",
        "6",
        "--rate",
        "100",
        "--net",
        net,
    ];
    if let Some(bug) = bug {
        args.extend(["--bug", bug]);
    }
    let run = faultline_test(&args, results.path());
    assert!(
        matches!(run.code, 0 | 1),
        "--net {net} {bug:?}: harness error {}: {}{}",
        run.code,
        run.stdout,
        run.stderr
    );
    run.code
}

#[test]
fn the_correct_node_is_valid_under_both_backends() {
    if !can_run(false) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = leftovers();
    assert_eq!(raft_run("netns", None), 0, "netns verdict");
    assert_nothing_left(&before, "raft under netns");
    assert_eq!(raft_run("proxy", None), 0, "proxy verdict");
    assert_nothing_left(&before, "raft under proxy");
}

#[test]
fn stale_reads_are_found_under_both_backends() {
    if !can_run(false) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = leftovers();
    assert_eq!(raft_run("netns", Some("stale-read")), 1, "netns verdict");
    assert_nothing_left(&before, "stale-read under netns");
    assert_eq!(raft_run("proxy", Some("stale-read")), 1, "proxy verdict");
    assert_nothing_left(&before, "stale-read under proxy");
}

#[test]
fn a_killed_controller_leaves_nothing_once_the_next_run_starts() {
    if !can_run(false) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = leftovers();
    let results = tempfile::tempdir().expect("results dir");
    let mut crashed = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "test",
            "--nodes",
            "3",
            "--net",
            "netns",
            "--nemesis",
            "nemesis/none.toml",
        ])
        .args(["--time-limit", "60s", "--results-dir"])
        .arg(results.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn faultline");
    // Wait (bounded) until its namespaces exist, then kill it the hard way: no cleanup runs.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let left = loop {
        let new: Vec<String> = netns_support::new_names(&before);
        if new.iter().any(|n| n.ends_with("-n3")) {
            break new;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run never created its namespaces"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    crashed.kill().expect("SIGKILL faultline");
    crashed.wait().expect("reap faultline");
    assert!(
        !netns_support::new_names(&before).is_empty(),
        "a SIGKILLed run cannot clean up; its namespaces {left:?} must still be there"
    );

    assert_eq!(raft_run("netns", None), 0, "the next run");
    assert_nothing_left(&before, "after a crashed run and a clean one");
}

/// `loss` drops a share of the packets to and from one node (nftables `numgen random`); TCP
/// retransmits, so the correct node stays valid, the fault is recorded with its coverage, and
/// nothing is left behind.
#[test]
fn the_correct_node_is_valid_under_packet_loss() {
    if !can_run(false) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = leftovers();
    let results = tempfile::tempdir().expect("results dir");
    let nemesis = results.path().join("lossy.toml");
    std::fs::write(
        &nemesis,
        "name = \"lossy\"\nfaults = [\"loss\"]\ninterval = \"1s\"\nduration = \"2s\"\ntargets = \"minority\"\n[link]\nloss_percent = 30\n",
    )
    .expect("write schedule");
    let run = faultline_test(
        &[
            "--nodes",
            "3",
            "--net",
            "netns",
            "--nemesis",
            nemesis.to_str().unwrap(),
            "--time-limit",
            "8s",
            "--seed",
            "3",
            "--clients",
            "6",
            "--rate",
            "150",
        ],
        results.path(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("faults      loss x"), "{}", run.stdout);
    assert!(run.stdout.contains("coverage    "), "{}", run.stdout);
    assert_nothing_left(&before, "raft under packet loss");
}
