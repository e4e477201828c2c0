//! `faultline report RESULTS_DIR` re-renders `report.html` from `results.json` and
//! `history.jsonl` without re-running the checker; bad directories are a one-line error, exit 3.

mod report_common;

use std::path::Path;
use std::process::{Command, Output};

use faultline::history::write_jsonl;
use report_common::{invalid_case, run_results, synthetic, valid_check};

fn faultline_report(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("report")
        .arg(dir)
        .output()
        .expect("run faultline")
}

fn store(dir: &Path, h: &faultline::history::History, check: faultline::checker::CheckReport) {
    let run = run_results(h, check);
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(&run).expect("json"),
    )
    .expect("write results");
    let f = std::fs::File::create(dir.join("history.jsonl")).expect("create history");
    write_jsonl(h, std::io::BufWriter::new(f)).expect("write history");
}

fn one_line_error(out: &Output, mentions: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "want one line, got: {err}"
    );
    assert!(
        err.contains(mentions),
        "error should mention {mentions}: {err}"
    );
}

#[test]
fn report_rerenders_html_from_a_stored_run_and_prints_its_path() {
    let tmp = tempfile::tempdir().expect("tmp");
    let h = synthetic(300, 3, 0);
    store(tmp.path(), &h, valid_check(&h));
    let out = faultline_report(tmp.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(Path::new(&printed), tmp.path().join("report.html"));
    let html = std::fs::read_to_string(&printed).expect("report.html written");
    assert!(html.contains(r#"data-verdict="valid""#) && html.contains("cas-register-mixed"));
}

#[test]
fn report_uses_the_stored_verdict_without_rechecking() {
    // The stored check says invalid; the history alone would be judged differently. `report`
    // must show (and exit with) what results.json says.
    let tmp = tempfile::tempdir().expect("tmp");
    let (_, invalid) = invalid_case();
    let h = synthetic(50, 2, 0);
    store(tmp.path(), &h, invalid);
    let out = faultline_report(tmp.path());
    assert_eq!(out.status.code(), Some(1));
    let html = std::fs::read_to_string(tmp.path().join("report.html")).expect("report.html");
    assert!(
        html.contains(r#"data-verdict="invalid""#)
            && html.contains(r#"class="plot counterexample""#)
    );
}

#[test]
fn missing_or_garbled_files_are_one_line_errors_with_exit_3() {
    let tmp = tempfile::tempdir().expect("tmp");
    one_line_error(
        &faultline_report(&tmp.path().join("nope")),
        "not a directory",
    );
    one_line_error(&faultline_report(tmp.path()), "results.json not found");
    let h = synthetic(20, 2, 0);
    store(tmp.path(), &h, valid_check(&h));
    std::fs::remove_file(tmp.path().join("history.jsonl")).expect("rm");
    one_line_error(&faultline_report(tmp.path()), "history.jsonl not found");
    std::fs::write(
        tmp.path().join("history.jsonl"),
        "{\"index\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n{garbage\n",
    )
    .expect("write");
    one_line_error(&faultline_report(tmp.path()), "history.jsonl");
    std::fs::write(tmp.path().join("results.json"), "{\"name\": 3}").expect("write");
    one_line_error(&faultline_report(tmp.path()), "results.json");
    assert!(
        !tmp.path().join("report.html").exists(),
        "no report written on error"
    );
}

/// A history whose faults carry notes (targets and roles), as `faultline test` records them.
fn with_faults(roles: &[(&str, &str)]) -> faultline::history::History {
    use faultline::history::{OpType, Process};
    let mut h = synthetic(300, 3, 0);
    let end = h.ops.last().and_then(|o| o.time).unwrap_or(0);
    for (i, (fault, role)) in roles.iter().enumerate() {
        let t = end / (roles.len() as i64 + 1) * (i as i64 + 1);
        let note = serde_json::json!({
            "fault": fault, "desc": format!("[n2] {fault}"), "targets": {"n2": role}
        });
        for (f, v) in [
            ("kill", note.clone()),
            ("kill", note),
            ("restart", serde_json::json!("[n2]")),
        ] {
            let at = h.ops.partition_point(|o| o.time.unwrap_or(0) <= t);
            let mut op = h.ops[0].clone();
            op.process = Process::Nemesis;
            op.kind = OpType::Info;
            op.f = f.into();
            op.value = v;
            op.time = Some(t + if f == "restart" { 1_000_000 } else { 0 });
            h.ops.insert(at, op);
        }
    }
    for (i, o) in h.ops.iter_mut().enumerate() {
        o.index = i as u64;
    }
    h
}

#[test]
fn report_shows_fault_coverage_and_says_when_no_fault_hit_the_leader() {
    for (roles, never) in [
        (vec![("kill", "follower"), ("pause", "follower")], true),
        (vec![("kill", "follower"), ("kill-leader", "leader")], false),
    ] {
        let tmp = tempfile::tempdir().expect("tmp");
        let h = with_faults(&roles);
        store(tmp.path(), &h, valid_check(&h));
        let out = faultline_report(tmp.path());
        assert_eq!(out.status.code(), Some(0));
        let html = std::fs::read_to_string(tmp.path().join("report.html")).expect("report");
        assert!(
            html.contains(r#"<section id="coverage">"#),
            "coverage section"
        );
        assert!(html.contains(r#"data-role="follower""#));
        assert_eq!(
            html.contains(r#"id="never-hit-leader""#),
            never,
            "{roles:?}"
        );
        assert_eq!(html.contains(r#"data-role="leader""#), !never);
    }
}
