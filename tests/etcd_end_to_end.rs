//! `faultline test --cluster clusters/etcd.toml --net netns` against a real 3-member etcd: valid
//! under kill, pause and partitions with etcd's linearizable reads; invalid under partitions once
//! reads are serializable (a cut-off member serves stale values). Every run leaves no namespace,
//! link or etcd process behind. Needs root and etcd: always runs when `CI=true`.

mod netns_support;

use std::path::Path;

use netns_support::{assert_nothing_left, can_run, faultline_test, leftovers, Run, SERIAL};

/// A cas-register workload over a wide value range: a stale read almost never matches the
/// current value by chance.
const WIDE_WORKLOAD: &str = "name = 'wide-cas-register'\nmodel = 'cas-register'\nkeys = 1\n\
                             values = [0, 1000]\n[mix]\nread = 3\nwrite = 2\ncas = 1\n";

fn etcd_run(spec: &Path, nemesis: &str, seconds: &str) -> Run {
    etcd_run_with(spec, nemesis, seconds, &[])
}

fn etcd_run_with(spec: &Path, nemesis: &str, seconds: &str, extra: &[&str]) -> Run {
    let results = tempfile::tempdir().expect("results dir");
    let nemesis = format!("nemesis/{nemesis}.toml");
    let spec = spec.to_string_lossy().into_owned();
    let args = [
        "--cluster",
        &spec,
        "--net",
        "netns",
        "--nemesis",
        &nemesis,
        "--time-limit",
        seconds,
        "--seed",
        "11",
        "--clients",
        "6",
        "--rate",
        "60",
        "--client-timeout",
        "2s",
    ];
    let args: Vec<&str> = args.iter().copied().chain(extra.iter().copied()).collect();
    faultline_test(&args, results.path())
}

fn linearizable_spec() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clusters/etcd.toml")
}

#[test]
fn etcd_is_valid_under_kill_pause_and_partitions() {
    if !can_run(true) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = leftovers();
    for nemesis in ["kill", "pause", "partition-halves"] {
        let run = etcd_run(&linearizable_spec(), nemesis, "12s");
        assert_eq!(
            run.code, 0,
            "etcd under {nemesis}: {}{}",
            run.stdout, run.stderr
        );
        assert_nothing_left(&before, nemesis);
    }
}

#[test]
fn serializable_reads_are_caught_under_partitions() {
    if !can_run(true) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = leftovers();
    let dir = tempfile::tempdir().expect("spec dir");
    let spec = dir.path().join("etcd-serializable.toml");
    let text = std::fs::read_to_string(linearizable_spec()).expect("clusters/etcd.toml");
    let text = text.replace("name = \"etcd\"", "name = \"etcd-serializable\"");
    std::fs::write(
        &spec,
        format!("{text}client_options = {{ read = \"serializable\" }}\n"),
    )
    .expect("write spec");
    // The read mode lives in the spec's `client_options` table (ClusterSpec.client_options,
    // applied with EtcdOptions::with_client_options when the runner builds the etcd client).
    if let Err(e) = faultline::cluster::ClusterSpec::load(&spec) {
        panic!(
            "the cluster spec must accept `client_options = {{ read = \"serializable\" }}`: {e}"
        );
    }
    let workload = dir.path().join("wide-cas-register.toml");
    std::fs::write(&workload, WIDE_WORKLOAD).expect("write workload");
    let workload = workload.to_string_lossy().into_owned();
    let run = etcd_run_with(&spec, "partition-halves", "20s", &["--workload", &workload]);
    assert_eq!(
        run.code, 1,
        "stale serializable reads must be invalid: {}{}",
        run.stdout, run.stderr
    );
    assert_nothing_left(&before, "serializable");
}
