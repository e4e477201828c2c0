//! Each seeded bug of the reference node, run under the nemesis that reveals it, is found invalid
//! (exit 1) within 60 s of test time; a run leaves no node process behind either way.

mod run_support;

use std::time::{Duration, Instant};

use run_support::*;

/// A cas-heavy single-register workload: concurrent CAS on few values, where split decisions show.
const CAS_HEAVY: &str = r#"
name = "cas-heavy"
model = "cas-register"
keys = 1
values = [0, 2]
[mix]
read = 1
write = 1
cas = 4
"#;

/// Mostly reads: a lost or stale value is seen soon after it goes wrong.
const READ_HEAVY: &str = r#"
name = "read-heavy"
model = "cas-register"
keys = 1
values = [0, 4]
[mix]
read = 6
write = 2
cas = 1
"#;

/// Isolate the leader often (every 2 s, for 3 s) so a short run sees several leader changes.
const LEADER_OFTEN: &str = r#"
name = "leader-often"
faults = ["partition-leader"]
interval = "2s"
duration = "3s"
"#;

/// Kill every node at once, then restart them: a node that keeps its log only in memory loses
/// acknowledged writes.
const KILL_ALL: &str = r#"
name = "kill-all"
faults = ["kill"]
interval = "1500ms"
duration = "500ms"
targets = "all"
"#;

/// Many keys, half reads: a write one node lost stays visible until the key is written again.
const WIDE_KV: &str = r#"
name = "wide-kv"
model = "kv"
keys = 400
values = [0, 1000000]
[mix]
read = 1
write = 1
"#;

/// Run `bug` with the given nemesis/workload until it is found invalid, trying a few seeds, and
/// fail if that takes more than 60 s of test time.
fn finds(bug: &str, nemesis: &str, workload: &str) {
    finds_on("raft", bug, nemesis, workload);
}

/// [`finds`] on the bundled cluster spec `cluster`; returns the invalid run's history.
fn finds_on(cluster: &str, bug: &str, nemesis: &str, workload: &str) -> String {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let nemesis = match nemesis {
        "kill-all" => write(dir.path(), "kill-all.toml", KILL_ALL),
        "leader-often" => write(dir.path(), "leader-often.toml", LEADER_OFTEN),
        other => other.to_string(),
    };
    let workload = match workload {
        "cas-heavy" => write(dir.path(), "cas-heavy.toml", CAS_HEAVY),
        "read-heavy" => write(dir.path(), "read-heavy.toml", READ_HEAVY),
        "wide-kv" => write(dir.path(), "wide-kv.toml", WIDE_KV),
        other => other.to_string(),
    };
    let start = Instant::now();
    for seed in 1..=4u32 {
        let seed = seed.to_string();
        let out = run_test(
            dir.path(),
            &[
                "--cluster",
                cluster,
                "--bug",
                bug,
                "--nemesis",
                &nemesis,
                "--workload",
                &workload,
                "--nodes",
                "3",
                "--clients",
                "8",
                "--rate",
                "300",
                "--time-limit",
                // Most bugs show within 3 s (see `faultline bench bugs`); no-truncate's sequence
                // needs about 9 s.
                if bug == "no-truncate" { "12s" } else { "8s" },
                "--seed",
                &seed,
            ],
        );
        assert_no_nodes_left(dir.path());
        match out.status.code() {
            Some(1) => {
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert!(stdout.contains("INVALID"), "{stdout}");
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "took {:?}",
                    start.elapsed()
                );
                return std::fs::read_to_string(latest(dir.path()).join("history.jsonl"))
                    .expect("history.jsonl");
            }
            Some(0) | Some(2) => {}
            other => panic!("bug {bug}: harness error {other:?}"),
        }
        if start.elapsed() > Duration::from_secs(45) {
            break;
        }
    }
    panic!("bug {bug} under {nemesis} not found within 60 s");
}

#[test]
fn stale_read_is_found_with_leader_partitions() {
    finds("stale-read", "partition-leader", "cas-register");
}

#[test]
fn stale_leader_is_found_with_leader_partitions() {
    finds("stale-leader", "leader-often", "read-heavy");
}

#[test]
fn early_ack_is_found_with_leader_partitions() {
    finds("early-ack", "leader-often", "read-heavy");
}

#[test]
fn split_cas_is_found_with_a_cas_heavy_mix() {
    finds("split-cas", "none", "cas-heavy");
}

#[test]
fn memory_log_is_found_when_every_node_is_killed() {
    finds("memory-log", "kill-all", "read-heavy");
}

#[test]
fn no_truncate_is_found_when_the_deposed_leader_leads_again() {
    finds("no-truncate", "reelect-deposed", "wide-kv");
}

/// forget-vote needs a node without pre-vote (pre-vote keeps two candidates from sharing a term).
/// The history says how: the restarted voters elected a second leader in the same term.
#[test]
fn forget_vote_is_found_when_voters_restart_mid_election() {
    let history = finds_on("raft-no-prevote", "forget-vote", "vote-twice", "read-heavy");
    assert!(
        history.contains("both lead term"),
        "no double leader recorded in the history"
    );
}

/// The correct node under the targeted nemeses (same workload and sizes) stays valid; under
/// vote-twice its restarted voters refuse the second candidate, and the history says so.
#[test]
fn correct_node_is_valid_under_the_targeted_sequences() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let workload = write(dir.path(), "wide-kv.toml", WIDE_KV);
    for (cluster, nemesis, time_limit) in [
        ("raft", "reelect-deposed", "12s"),
        ("raft", "election-flap", "8s"),
        ("raft-no-prevote", "vote-twice", "10s"),
    ] {
        let out = run_test(
            dir.path(),
            &[
                "--cluster",
                cluster,
                "--nemesis",
                nemesis,
                "--workload",
                &workload,
                "--nodes",
                "3",
                "--clients",
                "8",
                "--rate",
                "300",
                "--time-limit",
                time_limit,
                "--seed",
                "1",
            ],
        );
        assert_no_nodes_left(dir.path());
        assert_eq!(out.status.code(), Some(0), "correct node under {nemesis}");
        if nemesis == "vote-twice" {
            let history = std::fs::read_to_string(latest(dir.path()).join("history.jsonl"))
                .expect("history.jsonl");
            assert!(
                history.contains("refused"),
                "vote-twice never reached the second vote"
            );
            assert!(!history.contains("both lead term"));
        }
    }
}
