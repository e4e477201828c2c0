//! The series table and JUnit over four runs: valid, invalid (a real counterexample from the
//! checker), unknown and aborted.

use std::collections::BTreeMap;

use super::*;
use crate::checker::{check, CheckOptions, CheckReport, ModelKind};
use crate::history::read_jsonl;

/// A cas-register history that reads a value nobody wrote: invalid.
const BAD: &str = r#"{"index":0,"time":1000,"process":0,"type":"invoke","f":"write","value":1}
{"index":1,"time":2000,"process":0,"type":"ok","f":"write","value":1}
{"index":2,"time":2500000000,"process":1,"type":"invoke","f":"read","value":null}
{"index":3,"time":2600000000,"process":1,"type":"ok","f":"read","value":2}
"#;

fn checked(text: &str) -> CheckReport {
    let h = read_jsonl(text.as_bytes()).unwrap();
    check(
        &h,
        &CheckOptions {
            model: ModelKind::CasRegister,
            ..Default::default()
        },
    )
    .unwrap()
}

fn results(seed: u64, check: CheckReport, aborted: Option<&str>) -> RunResults {
    RunResults {
        name: "t".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        seed,
        rerun: format!("faultline test --seed {seed}"),
        config: BTreeMap::new(),
        duration_s: 30.0,
        outcomes: BTreeMap::new(),
        latency: BTreeMap::new(),
        throughput: 0.0,
        faults: Vec::new(),
        check: check.into(),
        aborted: aborted.map(str::to_string),
        coverage: Default::default(),
    }
}

fn runs() -> Vec<RunResults> {
    let valid = checked(
        &BAD.lines()
            .take(2)
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    );
    let mut unknown = valid.clone();
    unknown.verdict = Verdict::Unknown {
        reason: "time budget of 1s ran out".into(),
    };
    vec![
        results(7, valid.clone(), None),
        results(8, checked(BAD), None),
        results(9, unknown, None),
        results(10, valid, Some("interrupted (Ctrl-C)")),
    ]
}

fn entries(rs: &[RunResults]) -> Vec<SeriesEntry<'_>> {
    rs.iter()
        .enumerate()
        .map(|(i, r)| SeriesEntry {
            number: i as u32 + 1,
            results: r,
            run_dir: Path::new("results/t/run"),
            wall_s: 31.5,
        })
        .collect()
}

#[test]
fn table_has_a_row_per_run_with_verdict_and_violation_time() {
    let rs = runs();
    let table = render_series_table(&entries(&rs), 5, "stopped at the first invalid run");
    let row = |seed: &str| {
        table
            .lines()
            .find(|l| l.contains(&format!(" {seed} ")))
            .unwrap_or_else(|| panic!("no row for seed {seed}:\n{table}"))
            .to_string()
    };
    assert!(row("7").contains("VALID"), "{table}");
    assert!(
        row("8").contains("INVALID") && row("8").contains("2.6"),
        "{table}"
    );
    assert!(row("9").contains("UNKNOWN"), "{table}");
    assert!(row("10").contains("ABORTED"), "{table}");
    assert!(
        table.contains("4 of 5 runs made, 1 invalid (stopped at the first invalid run)"),
        "{table}"
    );
}

#[test]
fn junit_has_one_case_per_run_named_after_its_seed() {
    let rs = runs();
    let xml = render_series_junit(&entries(&rs), "raft-contention-default");
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}:\n{xml}"));
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(
        (
            suite.attribute("tests"),
            suite.attribute("failures"),
            suite.attribute("errors")
        ),
        (Some("4"), Some("1"), Some("2"))
    );
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<_> = cases.iter().filter_map(|c| c.attribute("name")).collect();
    assert_eq!(
        names,
        [
            "run 1 seed 7",
            "run 2 seed 8",
            "run 3 seed 9",
            "run 4 seed 10"
        ]
    );
    let child = |i: usize, tag: &str| {
        cases[i].children().find(|c| c.has_tag_name(tag)).map(|c| {
            (
                c.attribute("type").map(str::to_string),
                c.text().map(str::to_string),
            )
        })
    };
    assert_eq!(child(0, "failure"), None);
    assert_eq!(child(0, "error"), None);
    let (kind, text) = child(1, "failure").unwrap();
    assert_eq!(kind.as_deref(), Some("invalid"));
    assert!(text
        .unwrap()
        .contains("op that could not be linearized: #3"));
    assert_eq!(child(2, "error").unwrap().0.as_deref(), Some("unknown"));
    assert_eq!(child(3, "error").unwrap().0.as_deref(), Some("aborted"));
    let out = child(1, "system-out").unwrap().1.unwrap();
    assert!(out.contains("rerun: faultline test --seed 8"), "{out}");
}
