//! Every fault says what it needs. A schedule that asks for a fault the run cannot do stops before
//! anything starts (exit 3, one line naming the fault and what is missing, no run directory); a
//! fault listed under `optional_faults` is left out instead, and the history, results.json and
//! the summary say which and why. The hosts the nodes run on count too: SSH hosts take no clock,
//! link or disk faults.

mod run_support;

use std::process::Output;

use run_support::*;

/// `faultline test` with libfaketime hidden from it (whether or not it is installed).
fn without_libfaketime(dir: &std::path::Path, args: &[&str]) -> Output {
    let out = test_cmd(dir, args)
        .env("FAULTLINE_LIBFAKETIME", dir.join("no-such-libfaketime.so"))
        .output()
        .expect("run faultline");
    eprintln!(
        "{args:?} -> {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn one_line_error(out: &Output, mentions: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for m in mentions {
        assert!(err.contains(m), "error should mention {m:?}: {err}");
    }
}

#[test]
fn a_fault_the_run_cannot_do_stops_it_before_anything_starts() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let out = without_libfaketime(
        dir.path(),
        &["--nemesis", "clock-skew", "--time-limit", "2s"],
    );
    one_line_error(
        &out,
        &[
            "clock-skew",
            "libfaketime (Debian package libfaketime)",
            "FAULTLINE_LIBFAKETIME",
        ],
    );
    assert!(
        !dir.path().join("results").exists(),
        "nothing is created before the check"
    );
    // Link faults need their backend: loss needs netns (and root), delay the proxy.
    let out = run_test(dir.path(), &["--nemesis", "loss", "--time-limit", "2s"]);
    one_line_error(&out, &["\"loss\" needs"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--net netns") || err.contains("root"), "{err}");
    let out = run_test(
        dir.path(),
        &["--nemesis", "delay", "--net", "netns", "--time-limit", "2s"],
    );
    one_line_error(
        &out,
        &["\"delay\" needs the proxy network backend", "--net proxy"],
    );
    assert!(!dir.path().join("results").exists());
}

#[test]
fn optional_faults_the_run_cannot_do_are_left_out_and_recorded() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let nemesis = write(
        dir.path(),
        "some.toml",
        "name = \"some\"\nfaults = [\"pause\"]\noptional_faults = [\"clock-strobe\", \"loss\", \"flaky\"]\ninterval = \"500ms\"\nduration = \"300ms\"\n",
    );
    let out = without_libfaketime(
        dir.path(),
        &[
            "--nemesis",
            &nemesis,
            "--nodes",
            "3",
            "--time-limit",
            "3s",
            "--seed",
            "5",
        ],
    );
    assert_no_nodes_left(dir.path());
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("left out"))
        .unwrap_or_else(|| panic!("no left-out line: {stdout}"));
    assert!(line.contains("clock-strobe (needs libfaketime"), "{line}");
    assert!(line.contains("loss (needs"), "{line}");
    assert!(!line.contains("flaky"), "flaky runs on the proxy: {line}");
    let run = latest(dir.path());
    let history = std::fs::read_to_string(run.join("history.jsonl")).unwrap();
    let first = history.lines().next().unwrap();
    assert!(
        first.contains(r#""f":"left-out""#) && first.contains("clock-strobe"),
        "{first}"
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    let left = results["coverage"]["left_out"].as_object().unwrap();
    assert_eq!(
        left.keys().collect::<Vec<_>>(),
        ["clock-strobe", "loss"],
        "{left:?}"
    );
    // The test.toml keeps the schedule as written, so a rerun elsewhere re-decides.
    let toml = std::fs::read_to_string(run.join("test.toml")).unwrap();
    assert!(toml.contains("optional_faults"), "{toml}");
}

#[test]
fn faults_ssh_hosts_cannot_take_stop_the_run_before_it_connects() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1: had the run connected, the error would name the host instead.
    let hosts = write(
        dir.path(),
        "hosts.toml",
        "[hosts]\nn1 = \"nobody@127.0.0.1:1\"\n",
    );
    for (nemesis, mentions) in [
        (
            "clock-skew",
            [
                "\"clock-skew\" needs nodes whose hosts take clock faults",
                "--hosts",
            ],
        ),
        (
            "disk-error",
            [
                "\"disk-error\" needs nodes whose hosts take disk faults",
                "--hosts",
            ],
        ),
        (
            "delay",
            ["\"delay\" needs the proxy network backend", "--hosts"],
        ),
        (
            "loss",
            ["\"loss\" needs the netns network backend", "--hosts"],
        ),
    ] {
        let out = run_test(
            dir.path(),
            &[
                "--hosts",
                &hosts,
                "--nodes",
                "1",
                "--nemesis",
                nemesis,
                "--time-limit",
                "2s",
            ],
        );
        one_line_error(&out, &mentions);
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("127.0.0.1:1"),
            "refused before connecting"
        );
    }
    assert!(!dir.path().join("results").exists());
}
