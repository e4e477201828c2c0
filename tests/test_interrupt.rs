//! Ctrl-C during `faultline test`: the run heals and stops every node, keeps a readable,
//! well-formed history, writes results.json marked aborted, and exits 3.

mod run_support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use run_support::*;

#[test]
fn ctrl_c_stops_every_node_and_keeps_a_well_formed_history() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    // A long pause that is still in force when the run is interrupted.
    let nemesis = write(
        dir.path(),
        "long-pause.toml",
        "name = \"long-pause\"\nfaults = [\"pause\"]\ninterval = \"500ms\"\nduration = \"30s\"\n",
    );
    let mut child = test_cmd(
        dir.path(),
        &[
            "--nemesis",
            &nemesis,
            "--nodes",
            "3",
            "--time-limit",
            "60s",
            "--seed",
            "3",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // Wait until the workload is running and a node is paused, then interrupt.
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(latest_or_any(dir.path())).unwrap_or_default();
        if text.lines().count() > 200 && text.contains("\"f\":\"pause\"") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the run never started"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        !surviving_nodes(dir.path()).is_empty(),
        "nodes should be running"
    );
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "faultline did not stop after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(3), "stderr: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_no_nodes_left(dir.path());

    let run = latest(dir.path());
    let history = faultline::history::load(&run.join("history.jsonl"), None).unwrap();
    faultline::history::validate(&history).unwrap();
    assert!(history.ops.len() > 200);
    // The paused node was resumed before being stopped (the nemesis healed on Ctrl-C).
    assert!(
        history.ops.iter().any(|o| o.f == "resume"),
        "no resume recorded"
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    assert!(
        results["aborted"].as_str().unwrap().contains("interrupted"),
        "{results}"
    );
}

/// The history file of the only run under `dir` (before `latest` exists).
fn latest_or_any(dir: &std::path::Path) -> std::path::PathBuf {
    let results = dir.join("results");
    for name in std::fs::read_dir(&results).into_iter().flatten().flatten() {
        for run in std::fs::read_dir(name.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let h = run.path().join("history.jsonl");
            if h.exists() {
                return h;
            }
        }
    }
    results.join("none")
}
