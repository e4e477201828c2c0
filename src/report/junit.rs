//! JUnit XML for CI: one `<testsuite>` with one `<testcase>` per checked key (named after the key,
//! or `history` for un-keyed histories); a transactional check is one test case named after the
//! consistency models checked.
//!
//! - valid key: a passing test case;
//! - invalid key: `<failure type="invalid">` whose text is the counterexample;
//! - unknown key: `<error type="unknown">` with the checker's reason. Not `<skipped>`: most CI
//!   systems show skipped tests as green, but an unknown verdict means the run proved nothing and
//!   `faultline` exits 2, so CI must not look like a pass.

use std::fmt::Write;
use std::path::Path;

use crate::checker::txn::{TxnReport, TxnVerdict};
use crate::checker::{CheckReport, KeyResult, Verdict};
use crate::report::error::{write_atomically, ReportError};
use crate::report::escape::esc;
use crate::report::text::counterexample_text;

fn case(out: &mut String, suite: &str, k: &KeyResult) {
    let name = k.key.as_ref().map_or("history".into(), |k| k.to_string());
    let _ = write!(
        out,
        r#"    <testcase classname="{}" name="{}""#,
        esc(suite),
        esc(&name)
    );
    match &k.verdict {
        Verdict::Valid => out.push_str("/>\n"),
        Verdict::Invalid { counterexample } => {
            let _ = write!(
                out,
                ">\n      <failure type=\"invalid\" message=\"not linearizable: op #{} could not be linearized ({} ops checked)\">{}</failure>\n    </testcase>\n",
                counterexample.op.index,
                k.ops,
                esc(&counterexample_text(counterexample))
            );
        }
        Verdict::Unknown { reason } => {
            let _ = write!(
                out,
                ">\n      <error type=\"unknown\" message=\"checker gave up: {}\"/>\n    </testcase>\n",
                esc(reason)
            );
        }
    }
}

/// Render the check as JUnit XML.
pub fn render_junit(check: &CheckReport, suite_name: &str) -> String {
    let count = |f: fn(&Verdict) -> bool| check.keys.iter().filter(|k| f(&k.verdict)).count();
    let failures = count(|v| matches!(v, Verdict::Invalid { .. }));
    let errors = count(|v| matches!(v, Verdict::Unknown { .. }));
    let time = check.elapsed_ms as f64 / 1000.0;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        r#"<testsuites name="faultline" tests="{n}" failures="{failures}" errors="{errors}" time="{time:.3}">"#,
        n = check.keys.len()
    );
    let _ = writeln!(
        out,
        r#"  <testsuite name="{}" tests="{}" failures="{failures}" errors="{errors}" skipped="0" time="{time:.3}">"#,
        esc(suite_name),
        check.keys.len()
    );
    let _ = writeln!(
        out,
        r#"    <properties><property name="model" value="{}"/></properties>"#,
        esc(check.model.name())
    );
    for k in &check.keys {
        case(&mut out, suite_name, k);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Render the check as JUnit XML and write it to `path` (via a temporary file and a rename).
pub fn write_junit(path: &Path, check: &CheckReport, suite_name: &str) -> Result<(), ReportError> {
    write_atomically(path, render_junit(check, suite_name).as_bytes())
}

/// Render a transactional check as JUnit XML: one test case, named after the models checked;
/// invalid is a `<failure>` listing the anomalies and their explanations, unknown an `<error>`.
pub fn render_txn_junit(check: &TxnReport, suite_name: &str) -> String {
    let time = check.stats.elapsed_ms as f64 / 1000.0;
    let (failures, errors) = match check.valid {
        TxnVerdict::Valid => (0, 0),
        TxnVerdict::Invalid => (1, 0),
        TxnVerdict::Unknown => (0, 1),
    };
    let models: Vec<&str> = check.consistency_models.iter().map(|m| m.name()).collect();
    let name = if models.is_empty() {
        "requested anomalies".to_string()
    } else {
        models.join(", ")
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        r#"<testsuites name="faultline" tests="1" failures="{failures}" errors="{errors}" time="{time:.3}">"#
    );
    let _ = writeln!(
        out,
        r#"  <testsuite name="{}" tests="1" failures="{failures}" errors="{errors}" skipped="0" time="{time:.3}">"#,
        esc(suite_name)
    );
    let _ = writeln!(
        out,
        r#"    <properties><property name="model" value="{}"/></properties>"#,
        esc(check.model.name())
    );
    let _ = write!(
        out,
        r#"    <testcase classname="{}" name="{}""#,
        esc(suite_name),
        esc(&name)
    );
    let types: Vec<&str> = check.anomaly_types.iter().map(|a| a.name()).collect();
    match check.valid {
        TxnVerdict::Valid => out.push_str("/>\n"),
        TxnVerdict::Invalid => {
            let _ = write!(
                out,
                ">\n      <failure type=\"invalid\" message=\"anomalies: {}; not {}\">{}</failure>\n    </testcase>\n",
                esc(&types.join(", ")),
                esc(&check.not.join(", ")),
                esc(&crate::checker::txn::render_text(check))
            );
        }
        TxnVerdict::Unknown => {
            let why = check
                .unknown_reason
                .clone()
                .unwrap_or_else(|| format!("inconclusive: {}", types.join(", ")));
            let _ = write!(
                out,
                ">\n      <error type=\"unknown\" message=\"{}\"/>\n    </testcase>\n",
                esc(&why)
            );
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Render a transactional check as JUnit XML and write it to `path`.
pub fn write_txn_junit(
    path: &Path,
    check: &TxnReport,
    suite_name: &str,
) -> Result<(), ReportError> {
    write_atomically(path, render_txn_junit(check, suite_name).as_bytes())
}
