//! `faultline check` on keyed histories: a completion without a key belongs to its invoke's key
//! (regression: a stale read whose `ok` line omitted `"key"` was dropped and the run was valid),
//! a completion with another key and an unkeyed client op among keyed ones are errors (exit 3,
//! `file:line`), keys keep their JSON type (`3` and `"3"` are different keys) through the split
//! to the JSON report, and EDN histories whose indices have gaps load and are quoted by their own
//! indices.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

fn check(path: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("check")
        .arg(path)
        .args(extra)
        .output()
        .expect("run faultline")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write input");
    path
}

/// Run with `--json`, assert the exit code, return the report.
fn report(path: &Path, extra: &[&str], code: i32) -> Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let out = check(path, &args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}: stdout {} stderr {}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// Assert exit 3 with one stderr line that contains `needle`.
fn refused(path: &Path, extra: &[&str], needle: &str) {
    let out = check(path, extra);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{}: {stderr}", path.display());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(needle), "{stderr:?} lacks {needle:?}");
}

/// Writes 1 then 2 to key a; then a read returns the overwritten 1 on a line without "key".
const STALE_READ_WITHOUT_KEY: &str = r#"{"process":0,"type":"invoke","f":"write","key":"a","value":1}
{"process":0,"type":"ok","f":"write","key":"a","value":1}
{"process":0,"type":"invoke","f":"write","key":"a","value":2}
{"process":0,"type":"ok","f":"write","key":"a","value":2}
{"process":1,"type":"invoke","f":"read","key":"a","value":null}
{"process":1,"type":"ok","f":"read","value":1}
{"process":2,"type":"invoke","f":"write","key":"b","value":5}
{"process":2,"type":"ok","f":"write","value":5}
"#;

#[test]
fn stale_read_whose_ok_omits_the_key_is_invalid_not_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(dir.path(), "stale.jsonl", STALE_READ_WITHOUT_KEY);
    let r = report(&p, &["--model", "kv"], 1);
    assert_eq!(r["verdict"], "invalid");
    assert_eq!(r["counterexample"]["key"], "a");
    assert_eq!(r["counterexample"]["op"]["index"], 5);
    assert_eq!(r["counterexample"]["op"]["value"], 1);
    // The completion took its invoke's key, so key a has all three calls.
    let a = r["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["key"] == "a");
    assert_eq!(a.map(|k| k["ops"].clone()), Some(json!(3)));
}

#[test]
fn edn_stale_read_whose_ok_omits_the_key_is_invalid_not_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(
        dir.path(),
        "stale.edn",
        "[{:process 0 :type :invoke :f :write :key :a :value 1}
 {:process 0 :type :ok :f :write :key :a :value 1}
 {:process 0 :type :invoke :f :write :key :a :value 2}
 {:process 0 :type :ok :f :write :value 2}
 {:process 1 :type :invoke :f :read :key :a :value nil}
 {:process 1 :type :ok :f :read :value 1}]",
    );
    let r = report(&p, &["--model", "kv"], 1);
    assert_eq!(r["verdict"], "invalid");
    assert_eq!(r["counterexample"]["key"], "a");
}

#[test]
fn completion_with_another_key_is_refused_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(
        dir.path(),
        "moved.jsonl",
        r#"{"process":0,"type":"invoke","f":"read","key":"a"}
{"process":0,"type":"ok","f":"read","key":"b","value":1}
"#,
    );
    refused(
        &p,
        &["--model", "kv"],
        "moved.jsonl:2: completion for process 0 has key b but its invoke (op at index 0 \
         (line 1)) has key a; a completion must repeat its invoke's key or omit it (op index 1)",
    );
    let p = write(
        dir.path(),
        "moved.edn",
        "{:process 0 :type :invoke :f :read :key 1}\n{:process 0 :type :ok :f :read :key 2}",
    );
    refused(&p, &[], "moved.edn:2: completion for process 0 has key 2");
}

#[test]
fn unkeyed_client_op_among_keyed_ones_is_refused_never_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(
        dir.path(),
        "mixed.jsonl",
        r#"{"process":0,"type":"invoke","f":"write","key":"a","value":1}
{"process":0,"type":"ok","f":"write","key":"a","value":1}
{"process":"nemesis","type":"info","f":"kill","value":"n1"}
{"process":1,"type":"invoke","f":"read","value":null}
{"process":1,"type":"ok","f":"read","value":7}
"#,
    );
    refused(
        &p,
        &["--model", "kv"],
        "mixed.jsonl:4: process 1 invokes \"read\" without a key, but this history is keyed",
    );
}

#[test]
fn number_and_string_keys_are_different_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Key 3 is written; key "3" is read and sees that write only if the two were conflated.
    let p = write(
        dir.path(),
        "typed.jsonl",
        r#"{"process":0,"type":"invoke","f":"write","key":3,"value":1}
{"process":0,"type":"ok","f":"write","key":3,"value":1}
{"process":1,"type":"invoke","f":"read","key":"3","value":null}
{"process":1,"type":"ok","f":"read","key":"3","value":1}
"#,
    );
    let r = report(&p, &["--model", "kv"], 1);
    let keys: Vec<Value> = r["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["key"].clone())
        .collect();
    assert_eq!(keys, vec![json!(3), json!("3")]);
    assert_eq!(r["counterexample"]["key"], json!("3"));
    // The text report shows the string key quoted, so it cannot be read as the number.
    let out = check(&p, &["--model", "kv"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("key \"3\": INVALID"), "{text}");
}

#[test]
fn independent_tuple_keys_keep_their_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(
        dir.path(),
        "independent.edn",
        r#"[{:process 0 :type :invoke :f :write :value [3 1]}
 {:process 0 :type :ok :f :write :value [3 1]}
 {:process 1 :type :invoke :f :read :value ["3" nil]}
 {:process 1 :type :ok :f :read :value ["3" 1]}]"#,
    );
    let r = report(&p, &["--independent"], 1);
    assert_eq!(r["counterexample"]["key"], json!("3"));
    assert_eq!(r["keys"][0]["key"], json!(3));
    assert_eq!(r["keys"][0]["verdict"], "valid");
}

#[test]
fn edn_indices_with_gaps_load_and_counterexamples_quote_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(
        dir.path(),
        "filtered.edn",
        "[{:index 10 :process 0 :type :invoke :f :write :value 1}
 {:index 12 :process 0 :type :ok :f :write :value 1}
 {:index 40 :process 1 :type :invoke :f :read :value nil}
 {:index 41 :process 1 :type :ok :f :read :value 2}]",
    );
    let r = report(&p, &[], 1);
    assert_eq!(r["counterexample"]["op"]["index"], 41);
    assert_eq!(r["counterexample"]["previous_ok"]["index"], 12);
    let p = write(
        dir.path(),
        "duplicate.edn",
        "[{:index 10 :process 0 :type :invoke :f :write :value 1}
 {:index 10 :process 0 :type :ok :f :write :value 1}]",
    );
    refused(
        &p,
        &[],
        "duplicate.edn:2: index 10 is also the index of the op at index 10 (line 1)",
    );
}
