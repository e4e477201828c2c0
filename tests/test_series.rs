//! `faultline test --test-count N`: N runs with seeds seed, seed+1, ..., each stored and
//! rerunnable on its own, a table of the runs, JUnit with one test case per run, a stop at the
//! first invalid run unless `--keep-going`, and the worst verdict as the exit code.

mod run_support;

use std::path::{Path, PathBuf};

use run_support::*;

/// Concurrent CAS on three values: the seeded bug split-cas shows within a second or two.
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

/// Every stored run under `dir`, oldest first (the timestamped directory names sort by time).
fn runs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for test in std::fs::read_dir(dir.join("results")).unwrap().flatten() {
        if test.file_name() == "latest" || !test.path().is_dir() {
            continue;
        }
        for run in std::fs::read_dir(test.path()).unwrap().flatten() {
            out.push(run.path());
        }
    }
    out.sort();
    out
}

fn results(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap()
}

/// The JUnit file's test cases: (name, the tag of its failure or error child, if any).
fn junit_cases(path: &Path) -> Vec<(String, Option<String>)> {
    let xml = std::fs::read_to_string(path).expect("the series JUnit file");
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}:\n{xml}"));
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|c| {
            let bad = c
                .children()
                .find(|k| k.has_tag_name("failure") || k.has_tag_name("error"))
                .map(|k| {
                    format!(
                        "{}:{}",
                        k.tag_name().name(),
                        k.attribute("type").unwrap_or("")
                    )
                });
            (c.attribute("name").unwrap_or_default().to_string(), bad)
        })
        .collect()
}

#[test]
fn every_run_gets_the_next_seed_a_row_and_a_junit_case() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("series.xml");
    let out = run_test(
        dir.path(),
        &[
            "--test-count",
            "3",
            "--seed",
            "100",
            "--nemesis",
            "none",
            "--nodes",
            "3",
            "--time-limit",
            "2s",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_no_nodes_left(dir.path());
    assert_eq!(out.status.code(), Some(0));
    let stored = runs(dir.path());
    assert_eq!(stored.len(), 3, "{stored:?}");
    for (run, seed) in stored.iter().zip([100u64, 101, 102]) {
        let r = results(run);
        assert_eq!(r["seed"], seed);
        assert_eq!(r["check"]["verdict"], "valid");
        // Each run is rerunnable on its own: its test.toml holds its seed.
        let toml = std::fs::read_to_string(run.join("test.toml")).unwrap();
        assert!(toml.contains(&format!("seed = \"{seed}\"")), "{toml}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("3 of 3 runs made, 0 invalid"), "{stdout}");
    assert!(stdout.contains("run 2/3 (seed 101)"), "{stdout}");
    let cases = junit_cases(&junit);
    let names: Vec<&str> = cases.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["run 1 seed 100", "run 2 seed 101", "run 3 seed 102"]
    );
    assert!(cases.iter().all(|(_, bad)| bad.is_none()), "{cases:?}");
}

/// With split-cas, some run of a few is found invalid: the series stops right there (exit 1),
/// every run before it was valid, and JUnit marks that run as the failure.
#[test]
fn the_series_stops_at_the_first_invalid_run() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let workload = write(dir.path(), "cas-heavy.toml", CAS_HEAVY);
    let junit = dir.path().join("series.xml");
    let out = run_test(
        dir.path(),
        &[
            "--bug",
            "split-cas",
            "--workload",
            &workload,
            "--test-count",
            "4",
            "--seed",
            "7",
            "--nemesis",
            "none",
            "--nodes",
            "3",
            "--rate",
            "300",
            "--time-limit",
            "3s",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_no_nodes_left(dir.path());
    assert_eq!(out.status.code(), Some(1), "split-cas not found in 4 runs");
    let stored = runs(dir.path());
    let verdicts: Vec<String> = stored
        .iter()
        .map(|r| results(r)["check"]["verdict"].as_str().unwrap().to_string())
        .collect();
    let (last, before) = verdicts.split_last().unwrap();
    assert_eq!(last, "invalid", "{verdicts:?}");
    assert!(before.iter().all(|v| v != "invalid"), "{verdicts:?}");
    let cases = junit_cases(&junit);
    assert_eq!(cases.len(), stored.len());
    assert_eq!(
        cases.last().unwrap().1.as_deref(),
        Some("failure:invalid"),
        "{cases:?}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    if stored.len() < 4 {
        assert!(
            stdout.contains("stopped at the first invalid run"),
            "{stdout}"
        );
    }
}

/// `--keep-going` makes every run; the exit code is still the worst verdict.
#[test]
fn keep_going_makes_every_run_and_exits_with_the_worst_verdict() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let workload = write(dir.path(), "cas-heavy.toml", CAS_HEAVY);
    let out = run_test(
        dir.path(),
        &[
            "--bug",
            "split-cas",
            "--workload",
            &workload,
            "--test-count",
            "2",
            "--keep-going",
            "--nemesis",
            "none",
            "--nodes",
            "3",
            "--rate",
            "300",
            "--time-limit",
            "2s",
        ],
    );
    assert_no_nodes_left(dir.path());
    let stored = runs(dir.path());
    assert_eq!(stored.len(), 2);
    let invalid = stored
        .iter()
        .any(|r| results(r)["check"]["verdict"] == "invalid");
    assert_eq!(out.status.code(), Some(if invalid { 1 } else { 0 }));
}

#[test]
fn a_bad_test_count_is_a_harness_error_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_test(dir.path(), &["--test-count", "0"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--test-count"), "{stderr}");
    assert!(!dir.path().join("results").exists());
}
