//! The correct reference node passes under every nemesis: `faultline test` exits 0 (valid), stores
//! a complete run directory, and leaves no node process behind.

mod run_support;

use run_support::*;

fn passes_under(nemesis: &str, seed: &str) {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let out = run_test(
        dir.path(),
        &[
            "--nemesis",
            nemesis,
            "--nodes",
            "3",
            "--clients",
            "6",
            "--rate",
            "150",
            "--time-limit",
            "8s",
            "--seed",
            seed,
        ],
    );
    assert_no_nodes_left(dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "correct node judged not valid under {nemesis}"
    );
    let run = latest(dir.path());
    for f in ["test.toml", "history.jsonl", "results.json", "nodes/n1.log"] {
        assert!(run.join(f).exists(), "{f} missing in {}", run.display());
    }
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["check"]["verdict"], "valid");
    assert_eq!(results["seed"], seed.parse::<u64>().unwrap());
    assert!(
        results["outcomes"]["all"]["ok"].as_u64().unwrap() > 100,
        "{results}"
    );
    if nemesis != "none" {
        assert!(
            !results["faults"].as_array().unwrap().is_empty(),
            "no fault was injected"
        );
    }
}

#[test]
fn correct_node_is_valid_under_kill() {
    passes_under("kill", "11");
}

#[test]
fn correct_node_is_valid_under_pause() {
    passes_under("pause", "12");
}

#[test]
fn correct_node_is_valid_under_partition() {
    passes_under("partition-halves", "13");
}

#[test]
fn correct_node_is_valid_under_partition_leader() {
    passes_under("partition-leader", "14");
}

#[test]
fn correct_node_is_valid_under_mixed() {
    passes_under("mixed", "15");
}

/// `--rerun` repeats a stored run from its test.toml alone: the workload file it used is gone, the
/// seed, node count and workload are the stored ones, and a flag given next to it wins.
#[test]
fn rerun_repeats_a_stored_run_without_its_files() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let workload = write(
        dir.path(),
        "two-keys.toml",
        "name = \"two-keys\"\nmodel = \"kv\"\nkeys = 2\n[mix]\nread = 1\nwrite = 1\n",
    );
    let first = run_test(
        dir.path(),
        &[
            "--workload",
            &workload,
            "--nemesis",
            "none",
            "--nodes",
            "3",
            "--time-limit",
            "2s",
            "--seed",
            "4242",
        ],
    );
    assert_eq!(first.status.code(), Some(0));
    let stored = latest(dir.path());
    std::fs::remove_file(&workload).unwrap();

    let again = run_test(
        dir.path(),
        &["--rerun", stored.to_str().unwrap(), "--time-limit", "3s"],
    );
    assert_no_nodes_left(dir.path());
    assert_eq!(again.status.code(), Some(0));
    let rerun = latest(dir.path());
    assert_ne!(rerun, stored);
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(rerun.join("results.json")).unwrap())
            .unwrap();
    assert_eq!(results["seed"], 4242);
    assert_eq!(results["config"]["nodes"], "3");
    assert_eq!(results["config"]["time_limit"], "3s");
    assert_eq!(results["config"]["model"], "kv");
    let toml = std::fs::read_to_string(rerun.join("test.toml")).unwrap();
    assert!(toml.contains("name = \"two-keys\""), "{toml}");
}
