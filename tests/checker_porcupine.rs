//! Porcupine's key-value test logs (`tests/fixtures/porcupine/`, EDN with `:key`, `get`/`put`/
//! `append`) get Porcupine's verdicts from `faultline check --model kv --init '""'`: the `-ok`
//! logs are valid (exit 0), the `-bad` logs invalid (exit 1). Every search agrees in verify mode.

use std::path::{Path, PathBuf};
use std::process::Command;

use faultline::checker::{check, CheckOptions, ModelKind, Verdict};
use faultline::history::parse_edn;
use serde_json::json;

fn logs() -> Vec<(PathBuf, bool)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/porcupine");
    let mut out: Vec<(PathBuf, bool)> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/porcupine")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .map(|p| {
            let ok = p.to_string_lossy().ends_with("-ok.txt");
            (p, ok)
        })
        .collect();
    out.sort();
    assert!(
        out.iter().any(|l| l.1) && out.iter().any(|l| !l.1),
        "expected both -ok and -bad logs in {}",
        dir.display()
    );
    out
}

fn faultline_check(log: &Path, init: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("check")
        .arg(log)
        .args(["--model", "kv", "--init", init, "--time-limit", "60s"])
        .output()
        .expect("run faultline check");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn porcupine_kv_logs_get_porcupines_verdicts() {
    for (log, ok) in logs() {
        let (code, text) = faultline_check(&log, r#""""#);
        assert_eq!(code, if ok { 0 } else { 1 }, "{}:\n{text}", log.display());
    }
}

#[test]
fn every_search_agrees_on_the_porcupine_logs_in_verify_mode() {
    for (log, ok) in logs() {
        let history = parse_edn(&std::fs::read_to_string(&log).expect("read")).expect("edn");
        let opts = CheckOptions {
            model: ModelKind::Kv,
            init: json!(""),
            verify: true,
            ..CheckOptions::default()
        };
        let report = check(&history, &opts).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        assert_eq!(
            matches!(report.verdict, Verdict::Valid),
            ok,
            "{}: {:?}",
            log.display(),
            report.verdict
        );
    }
}

#[test]
fn the_bad_single_client_log_fails_at_the_get_that_misses_an_append() {
    let log = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/porcupine/c01-bad.txt");
    let (code, text) = faultline_check(&log, r#""""#);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("key: \"7\""), "{text}");
    assert!(
        text.contains("cannot linearize: index 59 process 0 ok get x 0 0 y"),
        "{text}"
    );
    assert!(
        text.contains("can't read x 0 0 y from register x 0 0 yx 0 3 y"),
        "{text}"
    );
}

/// With `--init nil` (Jepsen's spelling of null) a `get` of `""` on a key nobody wrote does not
/// match an absent key: Porcupine's logs need `--init '""'`.
#[test]
fn init_nil_is_null_so_unwritten_keys_do_not_read_as_empty() {
    let log = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/porcupine/c01-ok.txt");
    let (code, text) = faultline_check(&log, "nil");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("can't read  from register nil"), "{text}");
}
