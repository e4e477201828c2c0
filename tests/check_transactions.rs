//! `faultline check --model list-append|rw-register` as a user runs it: the verdict is the exit
//! code (0 valid, 1 invalid, 2 unknown), text explains each cycle edge by edge, `--json` prints
//! Elle's shape, `--report` draws the cycle, and bad input is one line naming file and line with
//! exit 3.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use faultline::checker::txn::generate::{generate, GenConfig, Inject};
use faultline::checker::txn::TxnModel;
use faultline::history::write_jsonl;
use serde_json::Value;

fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("check")
        .args(args)
        .output()
        .expect("run faultline")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Elle's README example: T1 appends x 1 and reads y = [1]; T2 appends x 2 and y 1; T3 reads
/// x = [1 2]. T1 and T2 each depend on the other: G1c.
const G1C: &str = r#"{"process":0,"type":"invoke","f":"txn","value":[["append","x",1],["r","y",null]]}
{"process":1,"type":"invoke","f":"txn","value":[["append","x",2],["append","y",1]]}
{"process":0,"type":"ok","f":"txn","value":[["append","x",1],["r","y",[1]]]}
{"process":1,"type":"ok","f":"txn","value":[["append","x",2],["append","y",1]]}
{"process":2,"type":"invoke","f":"txn","value":[["r","x",null]]}
{"process":2,"type":"ok","f":"txn","value":[["r","x",[1,2]]]}
"#;

const VALID: &str = r#"{"process":0,"type":"invoke","f":"txn","value":[["append","x",1]]}
{"process":0,"type":"ok","f":"txn","value":[["append","x",1]]}
{"process":1,"type":"invoke","f":"txn","value":[["r","x",null],["append","y",1]]}
{"process":1,"type":"ok","f":"txn","value":[["r","x",[1]],["append","y",1]]}
{"process":2,"type":"invoke","f":"txn","value":[["r","y",null]]}
{"process":2,"type":"ok","f":"txn","value":[["r","y",[1]]]}
"#;

#[test]
fn g1c_exits_1_and_explains_each_edge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(dir.path(), "g1c.jsonl", G1C);
    let out = faultline(&[s(&p), "--model", "list-append"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.starts_with("verdict: INVALID"), "{text}");
    assert!(
        text.contains("anomalies: G1c (1)") && text.contains("not: read-committed"),
        "{text}"
    );
    assert!(text.contains("which ends with T1's append of 1"), "{text}");
    assert!(text.contains("a contradiction!"), "{text}");
    let out = faultline(&[
        s(&p),
        "--model",
        "list-append",
        "--consistency-model",
        "read-uncommitted",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn json_has_elles_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(dir.path(), "g1c.jsonl", G1C);
    let out = faultline(&[
        s(&p),
        "--model",
        "list-append",
        "--json",
        "--anomalies",
        "G1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["valid"], Value::Bool(false));
    assert_eq!(v["anomaly_types"], serde_json::json!(["G1c"]));
    assert_eq!(v["not"], serde_json::json!(["read-committed"]));
    let w = &v["anomalies"]["G1c"][0];
    assert_eq!(w["type"], "G1c");
    assert_eq!(w["cycle"].as_array().map(Vec::len), Some(2));
    let rels: Vec<&str> = w["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["type"].as_str())
        .collect();
    assert!(rels.contains(&"wr") && rels.contains(&"ww"), "{rels:?}");
    assert!(v["consistency_models"]
        .as_array()
        .is_some_and(Vec::is_empty));
    let p = write(dir.path(), "valid.jsonl", VALID);
    let out = faultline(&[s(&p), "--model", "list-append", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        (v["valid"].clone(), v["anomaly_types"].clone()),
        (Value::Bool(true), serde_json::json!([]))
    );
}

#[test]
fn every_injected_anomaly_is_reported_with_its_class() {
    let dir = tempfile::tempdir().expect("tempdir");
    for model in [TxnModel::ListAppend, TxnModel::RwRegister] {
        for (inj, name) in Inject::ALL {
            if !inj.supports(model) {
                continue;
            }
            let h = generate(&GenConfig {
                seed: 5,
                model,
                txns: 300,
                inject: Some(inj),
                ..GenConfig::default()
            });
            let p = dir.path().join(format!("{}-{name}.jsonl", model.name()));
            write_jsonl(&h, std::fs::File::create(&p).expect("create")).expect("write");
            let out = faultline(&[s(&p), "--model", model.name(), "--json"]);
            let v: Value = serde_json::from_slice(&out.stdout).expect("json");
            assert_eq!(out.status.code(), Some(1), "{} {name}: {v}", model.name());
            let types: Vec<&str> = v["anomaly_types"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            assert!(types.contains(&name), "{} {name}: {types:?}", model.name());
        }
    }
}

#[test]
fn edn_histories_and_stdin_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let edn = "[{:process 0 :type :invoke :f :txn :value [[:append :x 1] [:r :y nil]]}\n\
               {:process 1 :type :invoke :f :txn :value [[:append :x 2] [:append :y 1]]}\n\
               {:process 0 :type :ok :f :txn :value [[:append :x 1] [:r :y [1]]]}\n\
               {:process 1 :type :ok :f :txn :value [[:append :x 2] [:append :y 1]]}\n\
               {:process 2 :type :invoke :f :txn :value [[:r :x nil]]}\n\
               {:process 2 :type :ok :f :txn :value [[:r :x [1 2]]]}]\n";
    let p = write(dir.path(), "g1c.edn", edn);
    let out = faultline(&[s(&p), "--model", "list-append", "--anomalies", "G1c"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["check", "-", "--model", "list-append"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(G1C.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn rw_register_with_key_assumptions() {
    let dir = tempfile::tempdir().expect("tempdir");
    // x = 1 completes before x = 2 begins; a concurrent reader sees x = 1 and y = 2.
    let text = r#"{"process":0,"type":"invoke","f":"txn","value":[["w","x",1]]}
{"process":0,"type":"ok","f":"txn","value":[["w","x",1]]}
{"process":1,"type":"invoke","f":"txn","value":[["w","x",2],["w","y",2]]}
{"process":2,"type":"invoke","f":"txn","value":[["r","x",null],["r","y",null]]}
{"process":1,"type":"ok","f":"txn","value":[["w","x",2],["w","y",2]]}
{"process":2,"type":"ok","f":"txn","value":[["r","x",1],["r","y",2]]}
"#;
    let p = write(dir.path(), "skew.jsonl", text);
    let base = [
        s(&p),
        "--model",
        "rw-register",
        "--consistency-model",
        "serializable",
    ];
    assert_eq!(faultline(&base).status.code(), Some(0));
    let mut args = base.to_vec();
    args.push("--linearizable-keys");
    let out = faultline(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("G-single-item") && stdout.contains("assumed linearizable"),
        "{stdout}"
    );
}

#[test]
fn unknown_when_nothing_can_be_inferred_or_budgets_run_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let one = r#"{"process":0,"type":"invoke","f":"txn","value":[["append","x",1]]}
{"process":0,"type":"ok","f":"txn","value":[["append","x",1]]}
"#;
    let p = write(dir.path(), "one.jsonl", one);
    let out = faultline(&[s(&p), "--model", "list-append"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("empty-transaction-graph"), "{stdout}");
    let p = write(dir.path(), "valid.jsonl", VALID);
    let out = faultline(&[s(&p), "--model", "list-append", "--memory-limit", "1KiB"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("memory limit"), "{stdout}");
}

#[test]
fn report_draws_the_cycle_and_junit_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(dir.path(), "g1c.jsonl", G1C);
    let (html, junit) = (dir.path().join("r.html"), dir.path().join("j.xml"));
    let out = faultline(&[
        s(&p),
        "--model",
        "list-append",
        "--report",
        s(&html),
        "--junit",
        s(&junit),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).expect("html");
    assert!(
        page.contains(r#"class="plot txn-cycle""#) && page.contains(r#"data-verdict="invalid""#)
    );
    assert!(page.contains("G1c #1") && page.contains("append x 2") && page.ends_with("</html>"));
    let xml = std::fs::read_to_string(&junit).expect("junit");
    let doc = roxmltree::Document::parse(&xml).expect("xml");
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("failure");
    assert!(failure
        .attribute("message")
        .is_some_and(|m| m.contains("G1c")));
}

/// Assert exit 3 and one stderr line containing every needle.
fn harness_error(args: &[&str], needles: &[&str]) {
    let out = faultline(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{args:?}: {stderr:?} lacks {n:?}");
    }
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_input_is_one_line_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let w = write(
        d,
        "w.jsonl",
        &G1C.replace("\"append\",\"x\",2", "\"w\",\"x\",2"),
    );
    harness_error(
        &[s(&w), "--model", "list-append"],
        &["w.jsonl:2:", "micro-op 1", "--model rw-register"],
    );
    let dup = write(
        d,
        "dup.jsonl",
        &G1C.replace("\"append\",\"x\",2", "\"append\",\"x\",1"),
    );
    harness_error(
        &[s(&dup), "--model", "list-append"],
        &["dup.jsonl:2:", "unique per key"],
    );
    let edn = write(d, "dup.edn", "{:process 0 :type :invoke :f :txn :value [[:append :x 1]]}\n{:process 1 :type :invoke :f :txn :value [[:append :x 1]]}\n");
    harness_error(
        &[s(&edn), "--model", "list-append"],
        &["dup.edn:2:", "unique per key"],
    );
    let p = write(d, "g1c.jsonl", G1C);
    harness_error(
        &[
            s(&p),
            "--model",
            "list-append",
            "--consistency-model",
            "serialisable",
        ],
        &["--consistency-model", "unknown consistency model"],
    );
    harness_error(
        &[s(&p), "--model", "list-append", "--anomalies", "G3"],
        &["--anomalies", "unknown anomaly \"G3\""],
    );
    harness_error(
        &[s(&p), "--model", "cas-register", "--anomalies", "G1"],
        &["--anomalies applies to transactional models"],
    );
    harness_error(
        &[s(&p), "--model", "list-append", "--init", "0"],
        &["--init does not apply"],
    );
    harness_error(
        &[s(&p), "--model", "list-append", "--linearizable-keys"],
        &["rw-register only"],
    );
    let mismatch = write(
        d,
        "mismatch.jsonl",
        &G1C.replacen(
            "[[\"append\",\"x\",1],[\"r\",\"y\",[1]]]",
            "[[\"append\",\"x\",9],[\"r\",\"y\",[1]]]",
            1,
        ),
    );
    harness_error(
        &[s(&mismatch), "--model", "list-append"],
        &["mismatch.jsonl:3:", "differs from its invoke"],
    );
    let trunc = write(d, "trunc.jsonl", "{\"process\":0,\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"r\",\"x\",null]]}\n{\"process\":0,\"ty");
    harness_error(
        &[s(&trunc), "--model", "rw-register"],
        &["trunc.jsonl:2:", "bad JSON"],
    );
}
