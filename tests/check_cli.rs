//! `faultline check` as a user runs it: malformed input of every kind exits 3 with exactly one
//! line on stderr that names the file (and never a panic); valid and invalid histories exit 0
//! and 1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("check")
        .args(args)
        .output()
        .expect("run faultline")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write input");
    path
}

/// Assert exit 3 and one stderr line that names `file` and contains `needle`.
fn assert_harness_error(path: &Path, extra: &[&str], needle: &str) {
    let p = path.to_str().expect("utf-8 path");
    let mut args = vec![p];
    args.extend_from_slice(extra);
    let out = faultline(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{p}: stderr {stderr}");
    assert!(!stderr.contains("panicked"), "{p}: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{p}: expected one stderr line, got {stderr:?}"
    );
    let name = path.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(
        lines[0].contains(name),
        "{p}: {:?} does not name the file",
        lines[0]
    );
    assert!(
        lines[0].contains(needle),
        "{p}: {:?} lacks {needle:?}",
        lines[0]
    );
    assert!(out.stdout.is_empty(), "{p}: stdout should be empty");
}

const INVOKE: &str = r#"{"index":0,"process":1,"type":"invoke","f":"write","value":1}"#;

#[test]
fn malformed_histories_exit_3_with_one_line_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            write(d, "truncated.jsonl", format!("{INVOKE}\n{{\"index\":1,\"proc").as_bytes()),
            ":2: bad JSON",
        ),
        (
            write(d, "wrong-type.jsonl", br#"{"index":0,"process":[1],"type":"invoke","f":"read"}"#),
            "field \"process\" must be",
        ),
        (
            write(d, "wrong-index.jsonl", br#"{"index":"zero","process":1,"type":"invoke","f":"read"}"#),
            "field \"index\" must be a non-negative integer",
        ),
        (
            write(d, "unknown-type.jsonl", br#"{"index":0,"process":1,"type":"maybe","f":"read"}"#),
            "unknown type \"maybe\"",
        ),
        (write(d, "empty.jsonl", b""), "history is empty"),
        (write(d, "blank.edn", b"\n  ; nothing here\n"), "history is empty"),
        (
            write(d, "garbage.bin", &[0xff, 0xfe, 0x00, 0x9c, 0x13, 0x80, 0xc3, 0x28, b'\n', 0x01]),
            "not valid UTF-8",
        ),
        (
            write(d, "garbage.edn", &[0x00, 0x01, 0xff, 0xfe, 0xc3, 0x28]),
            "not valid UTF-8",
        ),
        (
            write(d, "unbalanced.edn", b"[{:process 0, :type :invoke, :f :read, :value nil}\n"),
            "never closed",
        ),
        (
            write(d, "no-invoke.jsonl", br#"{"index":0,"process":3,"type":"ok","f":"read","value":1}"#),
            "completion (ok) for process 3 has no pending invoke",
        ),
        (
            write(d, "double-invoke.edn", b"[{:process 2 :type :invoke :f :read}\n {:process 2 :type :invoke :f :write :value 1}]"),
            "double-invoke.edn:2: process 2 invokes",
        ),
        (
            write(d, "after-info.jsonl", format!("{INVOKE}\n{}\n{}\n",
                r#"{"index":1,"process":1,"type":"info","f":"write","value":1}"#,
                r#"{"index":2,"process":1,"type":"invoke","f":"read"}"#).as_bytes()),
            "after-info.jsonl:3: process 1 invokes again after its op at index 1 (line 2) ended with info",
        ),
    ];
    for (path, needle) in &cases {
        assert_harness_error(path, &[], needle);
    }
    assert_harness_error(&d.join("missing.jsonl"), &[], "cannot read history");
    assert_harness_error(d, &[], "is a directory");
}

#[test]
fn bad_flags_exit_3_with_one_line_naming_the_file_and_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(dir.path(), "ok.jsonl", INVOKE.as_bytes());
    assert_harness_error(
        &p,
        &["--model", "queue"],
        "--model: unknown model \"queue\"; known models: register, cas-register",
    );
    assert_harness_error(&p, &["--init", "{x:0}"], "--init");
    assert_harness_error(&p, &["--time-limit", "soonish"], "--time-limit");
    assert_harness_error(&p, &["--memory-limit", "lots"], "--memory-limit");
    assert_harness_error(&p, &["--format", "xml"], "--format");
}

#[test]
fn a_100_mb_line_is_refused_at_the_cap_without_reading_it_all() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("huge-line.jsonl");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        f.write_all(br#"{"index":0,"process":1,"type":"invoke","f":"write","value":""#)
            .expect("write");
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            f.write_all(&chunk).expect("write");
        }
        f.write_all(b"\"}\n").expect("write");
    }
    let start = std::time::Instant::now();
    assert_harness_error(&path, &[], "longer than the 1048576-byte cap");
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
}

#[test]
fn a_linearizable_history_exits_0_and_a_violation_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let valid = write(
        dir.path(),
        "valid.jsonl",
        br#"{"index":0,"process":0,"type":"invoke","f":"write","value":1}
{"index":1,"process":0,"type":"ok","f":"write","value":1}
{"index":2,"process":1,"type":"invoke","f":"read","value":null}
{"index":3,"process":1,"type":"ok","f":"read","value":1}
"#,
    );
    let invalid = write(
        dir.path(),
        "invalid.jsonl",
        br#"{"index":0,"process":0,"type":"invoke","f":"write","value":1}
{"index":1,"process":0,"type":"ok","f":"write","value":1}
{"index":2,"process":1,"type":"invoke","f":"read","value":null}
{"index":3,"process":1,"type":"ok","f":"read","value":2}
"#,
    );
    let out = faultline(&[valid.to_str().expect("path")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = faultline(&[invalid.to_str().expect("path"), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["verdict"], "invalid");
}

#[test]
fn stdin_input_is_named_stdin_in_errors() {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["check", "-", "--format", "edn"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(b"({:process 1 :type :ok :f :read :value 1}")
            .expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("<stdin>:1: unbalanced EDN"), "{stderr}");
}

#[test]
fn independent_flag_rejects_values_that_are_not_key_value_pairs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(
        dir.path(),
        "not-tuples.edn",
        b"[{:process 0 :type :invoke :f :write :value 3}]",
    );
    assert_harness_error(
        &p,
        &["--independent"],
        "not-tuples.edn:1: --independent expects values [key value], got 3",
    );
}

/// Knossos fixtures through the CLI, with the verdicts from MANIFEST.tsv.
#[test]
fn knossos_edn_fixtures_get_their_expected_exit_codes() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/knossos/data");
    let cases: [(&str, &[&str], i32); 5] = [
        ("cas-register/bad/cas-failure.edn", &[], 1),
        ("cas-register/bad/rethink-fail-minimal.edn", &[], 1),
        ("cas-register/good/cas-register-bug.edn", &[], 0),
        (
            "multi-register/good/multi-register.edn",
            &["--model", "multi-register", "--init", r#"{"x":0,"y":0}"#],
            0,
        ),
        ("mutex/bad/etcd.edn", &["--model", "mutex"], 1),
    ];
    for (file, flags, code) in cases {
        let path = data.join(file);
        let mut args = vec![path.to_str().expect("path")];
        args.extend_from_slice(flags);
        let out = faultline(&args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{file}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "{file}: no report printed");
    }
}

#[test]
fn an_exhausted_time_budget_exits_2_and_ops_the_model_cannot_read_exit_3() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/knossos/data");
    let path = data.join("cas-register/bad/cas-failure.edn");
    let out = faultline(&[
        path.to_str().expect("path"),
        "--time-limit",
        "1ns",
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["verdict"], "unknown");
    let multi = data.join("multi-register/good/multi-register.edn");
    assert_harness_error(&multi, &["--model", "cas-register"], "multi-register.edn:");
}

#[test]
fn check_writes_html_report_and_junit_when_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = "../shared/fixtures/knossos/data/cas-register/bad/cas-failure.edn";
    let html = dir.path().join("report.html");
    let junit = dir.path().join("junit.xml");
    let out = faultline(&[
        fixture,
        "--report",
        html.to_str().expect("utf-8"),
        "--junit",
        junit.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let page = std::fs::read_to_string(&html).expect("report written");
    assert!(
        page.contains("INVALID") && page.contains("#491"),
        "report lacks verdict/op"
    );
    for fetch in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(
            !page.contains(fetch),
            "report must open offline, found {fetch}"
        );
    }
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(xml.contains("<failure") && xml.contains("#491"), "{xml}");
}

#[test]
fn check_report_to_an_unwritable_path_exits_3() {
    let fixture = "../shared/fixtures/knossos/data/cas-register/bad/immediate-failure.edn";
    let out = faultline(&[fixture, "--report", "/nonexistent-dir/x/report.html"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--report"), "{stderr}");
}
