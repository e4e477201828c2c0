//! `render_junit` writes well-formed JUnit XML: one test case per checked key, a `<failure>` with
//! the counterexample for invalid keys and an `<error>` for unknown ones.

mod report_common;

use faultline::checker::{CheckReport, KeyResult, ModelKind, Verdict};
use faultline::report::{render_junit, write_junit};
use report_common::{invalid_case, synthetic, valid_check, EVIL};

fn parse(xml: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not well-formed XML ({e}):\n{xml}"))
}

#[test]
fn valid_unkeyed_history_is_one_passing_case_named_history() {
    let h = synthetic(100, 4, 0);
    let xml = render_junit(&valid_check(&h), "cas-register");
    let doc = parse(&xml);
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].attribute("name"), Some("history"));
    assert_eq!(
        cases[0].children().filter(|c| c.is_element()).count(),
        0,
        "a passing case has no children"
    );
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("testsuite");
    assert_eq!(
        (
            suite.attribute("tests"),
            suite.attribute("failures"),
            suite.attribute("errors")
        ),
        (Some("1"), Some("0"), Some("0"))
    );
}

#[test]
fn invalid_key_fails_with_the_counterexample_and_unknown_key_errors() {
    let (_, invalid) = invalid_case();
    let Verdict::Invalid { .. } = &invalid.verdict else {
        panic!("fixture must be invalid")
    };
    let mut bad = invalid.keys[0].clone();
    bad.key = Some(format!("k<{EVIL}>").into());
    let check = CheckReport {
        model: ModelKind::Kv,
        verdict: invalid.verdict.clone(),
        keys: vec![
            KeyResult {
                key: Some("k0".into()),
                ops: 10,
                verdict: Verdict::Valid,
            },
            bad,
            KeyResult {
                key: Some("k2".into()),
                ops: 7,
                verdict: Verdict::Unknown {
                    reason: format!("time limit reached {EVIL}"),
                },
            },
        ],
        elapsed_ms: 1234,
    };
    let suite_name = format!("suite & {EVIL}");
    let xml = render_junit(&check, &suite_name);
    let doc = parse(&xml);
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("testsuite");
    assert_eq!(
        suite.attribute("name"),
        Some(suite_name.as_str()),
        "suite name round-trips through escaping"
    );
    assert_eq!(
        (
            suite.attribute("tests"),
            suite.attribute("failures"),
            suite.attribute("errors")
        ),
        (Some("3"), Some("1"), Some("1"))
    );
    assert_eq!(suite.attribute("time"), Some("1.234"));
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 3);
    // The key as displayed (quoted, since it has spaces), escaped and read back intact.
    let shown = faultline::history::Key::from(format!("k<{EVIL}>")).to_string();
    assert_eq!(cases[1].attribute("name"), Some(shown.as_str()));
    let failure = cases[1]
        .children()
        .find(|c| c.has_tag_name("failure"))
        .expect("failure element");
    assert_eq!(failure.attribute("type"), Some("invalid"));
    let text = failure.text().unwrap_or("");
    assert!(
        text.contains("op that could not be linearized: #6 p2 ok read 0"),
        "{text}"
    );
    assert!(
        text.contains("!! #6 p2 ok read 0 -> can't read 0 from register 2"),
        "{text}"
    );
    let error = cases[2]
        .children()
        .find(|c| c.has_tag_name("error"))
        .expect("error element");
    assert_eq!(error.attribute("type"), Some("unknown"));
    assert!(error.attribute("message").unwrap_or("").contains(EVIL));
}

#[test]
fn write_junit_creates_the_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("junit.xml");
    let h = synthetic(40, 2, 3);
    write_junit(&path, &valid_check(&h), "kv").expect("write junit");
    let xml = std::fs::read_to_string(&path).expect("read back");
    let doc = parse(&xml);
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        3,
        "one case per key"
    );
}

#[test]
fn junit_for_an_invalid_history_matches_the_snapshot() {
    let (_, check) = invalid_case();
    insta::assert_snapshot!(render_junit(&check, "cas-register"));
}
