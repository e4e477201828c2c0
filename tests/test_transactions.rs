//! `faultline test` with the transaction workloads against the bundled cluster: `list-append`
//! and `rw-register` are valid under the mixed nemesis, with the transaction counts in the
//! summary and the isolation verdict in `results.json`; each seeded transaction bug is found
//! (exit 1) with its anomaly class named in the summary and a witness drawn in report.html; a
//! node without `POST /txn` stops the run before it starts (exit 3, naming the endpoint).

mod run_support;

use std::time::{Duration, Instant};

use run_support::*;
use serde_json::Value;

/// Isolate the leader every 2 s for 3 s, so a short run sees several leader changes.
const LEADER_OFTEN: &str = r#"
name = "leader-often"
faults = ["partition-leader"]
interval = "2s"
duration = "3s"
"#;

fn results_json(dir: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(latest(dir).join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("results.json parses")
}

fn txn_run(
    dir: &std::path::Path,
    workload: &str,
    nemesis: &str,
    seed: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "--workload",
        workload,
        "--nemesis",
        nemesis,
        "--nodes",
        "3",
        "--clients",
        "8",
        "--rate",
        "300",
        "--time-limit",
        "8s",
        "--seed",
        seed,
    ];
    args.extend_from_slice(extra);
    run_test(dir, &args)
}

#[test]
fn list_append_and_rw_register_are_valid_under_the_mixed_nemesis() {
    let _g = serial();
    for workload in ["list-append", "rw-register"] {
        let dir = tempfile::tempdir().unwrap();
        let out = txn_run(dir.path(), workload, "mixed", "5", &[]);
        assert_no_nodes_left(dir.path());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{workload}: {stdout}");
        let txn_row = stdout
            .lines()
            .find(|l| l.contains(" txn "))
            .unwrap_or_else(|| panic!("no txn row in the summary: {stdout}"));
        assert!(
            stdout.contains("VALID") && stdout.contains(workload),
            "{stdout}"
        );
        let r = results_json(dir.path());
        assert_eq!(r["check"]["valid"], Value::Bool(true), "{workload}");
        assert_eq!(r["check"]["anomaly_types"], serde_json::json!([]));
        let ok = r["outcomes"]["txn"]["ok"].as_u64().unwrap_or(0);
        // A few hundred at least even on a loaded 2-core box (about 2000 when idle), so the
        // verdict is about a real history.
        assert!(
            ok > 100,
            "{workload}: only {ok} transactions committed ({txn_row})"
        );
        assert!(txn_row.contains(&ok.to_string()), "{txn_row}");
        // The final reads are read-only transactions over the live keys.
        let history = std::fs::read_to_string(latest(dir.path()).join("history.jsonl")).unwrap();
        assert!(history.lines().all(|l| !l.contains("\"process\":")
            || l.contains("\"nemesis\"")
            || l.contains("\"f\":\"txn\"")));
    }
}

/// Run `bug` until it is found (exit 1) with one of `classes` named in the summary; at most
/// three seeds and 60 s of test time.
fn finds(bug: &str, nemesis: &str, classes: &[&str]) {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let nemesis = match nemesis {
        "leader-often" => write(dir.path(), "leader-often.toml", LEADER_OFTEN),
        other => other.to_string(),
    };
    let start = Instant::now();
    for seed in ["1", "2", "3"] {
        let junit = dir.path().join("junit.xml").display().to_string();
        let out = txn_run(
            dir.path(),
            "list-append",
            &nemesis,
            seed,
            &["--bug", bug, "--junit", &junit],
        );
        assert_no_nodes_left(dir.path());
        if out.status.code() != Some(1) {
            assert_eq!(out.status.code(), Some(0), "a harness error is no verdict");
            continue;
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("INVALID"), "{stdout}");
        assert!(
            classes.iter().any(|c| stdout.contains(c)),
            "{bug}: none of {classes:?} named: {stdout}"
        );
        let r = results_json(dir.path());
        assert_eq!(r["check"]["valid"], Value::Bool(false));
        assert!(
            !r["check"]["not"].as_array().unwrap().is_empty(),
            "{}",
            r["check"]
        );
        let types: Vec<&str> = r["check"]["anomaly_types"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            types.iter().any(|t| classes.iter().any(|c| t.contains(c))),
            "{bug}: anomaly_types {types:?}"
        );
        let html = std::fs::read_to_string(latest(dir.path()).join("report.html")).unwrap();
        assert!(
            html.contains("id=\"anomalies\""),
            "report.html lacks the anomalies"
        );
        // The cycles are drawn (the first few of each class).
        let cycles = r["check"]["anomalies"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|ws| ws.as_array().unwrap())
            .filter(|w| w["kind"] == "cycle")
            .count();
        let drawn = html.matches("class=\"plot txn-cycle\"").count();
        assert!(
            (cycles == 0) == (drawn == 0) && drawn <= cycles,
            "{bug}: {drawn} cycle diagrams for {cycles} cycles"
        );
        let junit = std::fs::read_to_string(&junit).expect("junit.xml");
        assert!(
            junit.contains("<failure type=\"invalid\"") && junit.contains(types[0]),
            "{junit}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "took {:?}",
            start.elapsed()
        );
        return;
    }
    panic!("{bug} was not found in 3 runs");
}

#[test]
fn txn_split_shows_non_atomic_transactions() {
    finds(
        "txn-split",
        "none",
        &["G1b", "G1c", "G-single", "G2-item", "G0", "internal"],
    );
}

#[test]
fn dirty_txn_read_shows_reads_of_lost_appends() {
    finds("dirty-txn-read", "leader-often", &["incompatible-order"]);
}

#[test]
fn stale_txn_read_shows_stale_reads() {
    finds("stale-txn-read", "none", &["-realtime"]);
}

#[test]
fn a_node_without_the_txn_endpoint_stops_the_run_naming_it() {
    // etcd serves /health but not /txn: a real HTTP server that lacks the endpoint.
    if std::process::Command::new("etcd")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "etcd must be on PATH under CI=true (apt-get install etcd-server)"
        );
        eprintln!("skipping: `etcd` is not on PATH (apt-get install etcd-server)");
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "no-txn.toml",
        r#"name = "no-txn"
nodes = 1
command = "etcd"
args = ["--name", "{id}", "--data-dir", "{data_dir}",
        "--listen-client-urls", "http://{client_addr}", "--advertise-client-urls", "http://{client_addr}",
        "--listen-peer-urls", "http://{peer_addr}", "--initial-advertise-peer-urls", "http://{peer_addr}",
        "--initial-cluster", "{id}=http://{peer_addr}", "--log-level", "error"]
client = "http-kv"
ready = { http_get = "/health", timeout = "10s" }
"#,
    );
    let start = Instant::now();
    let out = run_test(
        dir.path(),
        &[
            "--cluster",
            &spec,
            "--workload",
            "list-append",
            "--nemesis",
            "none",
            "--time-limit",
            "5s",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().next().unwrap_or("");
    assert!(line.contains("POST /txn") && line.contains("n1"), "{line}");
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "the run went on: {:?}",
        start.elapsed()
    );
    let history =
        std::fs::read_to_string(latest(dir.path()).join("history.jsonl")).unwrap_or_default();
    assert!(
        !history.contains("\"f\":\"txn\""),
        "transactions were sent: {history}"
    );
}
