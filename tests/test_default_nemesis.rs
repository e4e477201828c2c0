//! The default nemesis (`nemesis/default.toml`): a run with no nemesis flag hits every fault
//! family it can do before its time limit, says in the history and the summary which faults it
//! left out and why, and the correct node stays valid. `overlap` lets faults run at once.

mod run_support;

use std::collections::BTreeSet;

use run_support::*;

fn results(dir: &std::path::Path) -> serde_json::Value {
    let run = latest(dir);
    serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap()
}

/// A short default run on three nodes: every family the run can do is hit within 15 s, the rest
/// is listed as left out with a reason (loss needs netns; vote-twice drops out once the bundled
/// node shows it runs pre-vote; power loss and disk failures need root and /dev/fuse, and when
/// the run has them the crash family starts with power loss on every node).
#[test]
fn a_default_run_hits_every_family_it_can_do_and_says_what_it_left_out() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let out = run_test(
        dir.path(),
        &["--nodes", "3", "--time-limit", "15s", "--seed", "5"],
    );
    assert_no_nodes_left(dir.path());
    assert_eq!(out.status.code(), Some(0), "correct node judged not valid");
    let r = results(dir.path());
    assert_eq!(r["config"]["nemesis"], "nemesis/default.toml");
    let cov = &r["coverage"];
    let families = cov["families"]
        .as_object()
        .expect("the families the run set out to hit");
    let left_out = cov["left_out"].as_object().cloned().unwrap_or_default();
    let hit: BTreeSet<&str> = cov["windows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["fault"].as_str())
        .collect();
    for (family, kinds) in families {
        let kinds: Vec<&str> = kinds
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|k| k.as_str())
            .collect();
        let reached = kinds.iter().any(|k| hit.contains(k));
        let dropped = kinds.iter().all(|k| left_out.contains_key(*k));
        assert!(
            reached || dropped,
            "family {family} ({kinds:?}) was not hit; hit: {hit:?}"
        );
    }
    for family in ["process", "crash", "partition", "leader", "reelect"] {
        assert!(
            families.contains_key(family),
            "{family} missing from {families:?}"
        );
    }
    assert!(
        left_out["loss"].as_str().unwrap().contains("--net netns"),
        "{left_out:?}"
    );
    assert!(
        left_out["vote-twice"]
            .as_str()
            .unwrap()
            .contains("pre-vote"),
        "{left_out:?}"
    );
    // Power loss and failing disks: their own families where the run can mount the lazy
    // filesystem (root, /dev/fuse), left out with the reason where it cannot.
    match faultline::disk::requirements() {
        Ok(()) => {
            assert_eq!(
                families["crash"],
                serde_json::json!(["lose-unfsynced", "torn-write", "kill-all"])
            );
            assert_eq!(
                families["disk"],
                serde_json::json!(["disk-error", "disk-full"])
            );
            assert!(hit.contains("lose-unfsynced"), "{hit:?}");
            let dir = std::fs::canonicalize(dir.path()).unwrap();
            let left: Vec<_> = faultline::disk::our_mounts()
                .into_iter()
                .filter(|m| m.starts_with(&dir))
                .collect();
            assert!(
                left.is_empty(),
                "lazy filesystems outlived the run: {left:?}"
            );
        }
        Err(missing) => {
            eprintln!("the lazy filesystem {missing}: power loss and disk faults left out");
            assert_eq!(families["crash"], serde_json::json!(["kill-all"]));
            assert!(!families.contains_key("disk"), "{families:?}");
            for k in ["lose-unfsynced", "torn-write", "disk-error", "disk-full"] {
                assert!(left_out.contains_key(k), "{k} not left out: {left_out:?}");
            }
        }
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("families"))
        .unwrap_or_else(|| panic!("no families line:\n{stdout}"));
    assert!(!line.contains("not reached"), "{line}");
    assert!(stdout.contains("left out"), "{stdout}");
}

/// With `overlap = 2`, a fault on the processes and one on the network run at once; coverage
/// keeps their windows apart (each ends at its own undo), and the correct node stays valid.
#[test]
fn overlapping_faults_run_at_once_and_keep_their_own_windows() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let schedule = write(
        dir.path(),
        "overlap.toml",
        "name = \"overlap\"\norder = \"families\"\noverlap = 2\nfaults = [\"pause\", \"partition-halves\"]\ninterval = \"300ms\"\nduration = \"1500ms\"\n",
    );
    let out = run_test(
        dir.path(),
        &[
            "--nemesis",
            &schedule,
            "--nodes",
            "3",
            "--time-limit",
            "6s",
            "--seed",
            "3",
        ],
    );
    assert_no_nodes_left(dir.path());
    assert_eq!(out.status.code(), Some(0));
    let r = results(dir.path());
    let windows = r["coverage"]["windows"].as_array().unwrap();
    let spans: Vec<(String, i64, i64)> = windows
        .iter()
        .map(|w| {
            (
                w["fault"].as_str().unwrap().to_string(),
                w["start_ns"].as_i64().unwrap(),
                w["end_ns"].as_i64().unwrap(),
            )
        })
        .collect();
    let overlapping = spans
        .windows(2)
        .any(|p| p[1].1 < p[0].2 && p[0].0 != p[1].0);
    assert!(overlapping, "no two faults overlapped: {spans:?}");
    // The first two windows last about their own duration (1.5 s): the first is not cut short
    // when the second starts 300 ms later.
    assert!(
        spans[..2].iter().all(|(_, s, e)| e - s >= 1_000_000_000),
        "{spans:?}"
    );
    let history = std::fs::read_to_string(latest(dir.path()).join("history.jsonl")).unwrap();
    assert!(
        history.contains("\"fault-end\""),
        "no fault-end op recorded"
    );
}
