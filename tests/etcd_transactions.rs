//! `faultline test --cluster clusters/etcd.toml --net netns --workload list-append`: etcd's
//! transactions (read, then commit under `mod_revision` compares) are strict-serializable under
//! partitions, kills and pauses with linearizable reads. Nothing is left behind. Needs root and
//! etcd: always runs when `CI=true`.

mod netns_support;

use netns_support::{assert_nothing_left, can_run, faultline_test, leftovers, SERIAL};

#[test]
fn etcd_transactions_are_strict_serializable_under_partitions_kills_and_pauses() {
    if !can_run(true) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = leftovers();
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("clusters/etcd.toml");
    let spec = spec.to_string_lossy().into_owned();
    for (workload, nemesis) in [
        ("list-append", "partition-halves"),
        ("rw-register", "mixed"),
    ] {
        let results = tempfile::tempdir().expect("results dir");
        let nemesis_file = format!("nemesis/{nemesis}.toml");
        let run = faultline_test(
            &[
                "--cluster",
                &spec,
                "--net",
                "netns",
                "--workload",
                workload,
                "--nemesis",
                &nemesis_file,
                "--time-limit",
                "12s",
                "--seed",
                "11",
                "--clients",
                "6",
                "--rate",
                "60",
                "--client-timeout",
                "2s",
            ],
            results.path(),
        );
        assert_eq!(
            run.code, 0,
            "etcd {workload} under {nemesis}: {}{}",
            run.stdout, run.stderr
        );
        let text = std::fs::read_to_string(results.path().join("latest/results.json"))
            .expect("results.json");
        let r: serde_json::Value = serde_json::from_str(&text).expect("parses");
        assert_eq!(r["check"]["valid"], serde_json::Value::Bool(true));
        let ok = r["outcomes"]["txn"]["ok"].as_u64().unwrap_or(0);
        assert!(ok > 200, "{workload}: only {ok} transactions committed");
        assert_nothing_left(&before, workload);
    }
}
