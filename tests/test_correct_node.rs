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
