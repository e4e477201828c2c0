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
