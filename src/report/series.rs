//! A series of runs (`faultline test --test-count N`) as a table and as JUnit XML: one row and
//! one `<testcase>` per run, named after its seed so each can be rerun on its own.
//!
//! JUnit: a valid run passes; an invalid run is a `<failure type="invalid">` whose text is the
//! counterexample; an unknown run is an `<error type="unknown">` (not `<skipped>`: it proved
//! nothing, see [`super::junit`]); an aborted run is an `<error type="aborted">`.

use std::fmt::Write;
use std::path::Path;

use tabled::builder::Builder;
use tabled::settings::Style;

use super::error::{write_atomically, ReportError};
use super::escape::esc;
use super::results::RunResults;
use super::run_check::RunCheck;
use super::text::counterexample_text;
use crate::checker::txn::{TxnReport, TxnVerdict};
use crate::checker::Verdict;

/// One run of a series, as the table and JUnit show it.
#[derive(Debug, Clone, Copy)]
pub struct SeriesEntry<'a> {
    /// 1-based position in the series.
    pub number: u32,
    /// What the run stored.
    pub results: &'a RunResults,
    /// Where it is stored.
    pub run_dir: &'a Path,
    /// Wall time of the whole run, seconds.
    pub wall_s: f64,
}

impl SeriesEntry<'_> {
    /// `VALID`, `INVALID`, `UNKNOWN`, or `ABORTED` for a run that ended early.
    pub fn word(&self) -> &'static str {
        if self.results.aborted.is_some() {
            "ABORTED"
        } else {
            self.results.check.verdict_word()
        }
    }

    /// Seconds into the run of the first op that could not be linearized, if invalid.
    pub fn violation_at(&self) -> Option<f64> {
        first_violation_s(&self.results.check)
    }

    fn name(&self) -> String {
        format!("run {} seed {}", self.number, self.results.seed)
    }
}

/// Seconds into the run of the first violation; `None` unless invalid. For linearizability, the
/// earliest op that could not be linearized over every invalid key (the overall counterexample
/// is one key's, not necessarily the earliest); for transactions, when the earliest anomaly's
/// evidence was complete.
pub fn first_violation_s(check: &RunCheck) -> Option<f64> {
    let RunCheck::Linear(check) = check else {
        return check.violation_at_ns().map(|t| t as f64 / 1e9);
    };
    let at = |v: &Verdict| match v {
        Verdict::Invalid { counterexample } => Some(counterexample.op.time.unwrap_or(0)),
        _ => None,
    };
    let overall = at(&check.verdict)?;
    let earliest = check
        .keys
        .iter()
        .filter_map(|k| at(&k.verdict))
        .min()
        .map_or(overall, |t| t.min(overall));
    Some(earliest as f64 / 1e9)
}

/// The table printed at the end of a series, with a closing line: how many runs of those planned
/// were made and found invalid, and why the series stopped early if it did.
pub fn render_series_table(entries: &[SeriesEntry<'_>], planned: u32, stop_note: &str) -> String {
    let mut b = Builder::default();
    b.push_record([
        "run",
        "seed",
        "verdict",
        "violation at (s)",
        "ok ops",
        "faults",
        "wall (s)",
        "results",
    ]);
    for e in entries {
        let ok = e.results.outcomes.get("all").map_or(0, |o| o.ok);
        b.push_record([
            e.number.to_string(),
            e.results.seed.to_string(),
            e.word().to_string(),
            e.violation_at()
                .map_or_else(|| "-".to_string(), |t| format!("{t:.1}")),
            ok.to_string(),
            e.results.faults.len().to_string(),
            format!("{:.1}", e.wall_s),
            e.run_dir.display().to_string(),
        ]);
    }
    let mut table = b.build();
    table.with(Style::rounded());
    let invalid = entries.iter().filter(|e| e.word() == "INVALID").count();
    let mut out = format!(
        "{table}\nseries      {} of {planned} runs made, {invalid} invalid",
        entries.len()
    );
    if !stop_note.is_empty() {
        let _ = write!(out, " ({stop_note})");
    }
    out.push('\n');
    out
}

fn case(out: &mut String, suite: &str, e: &SeriesEntry<'_>) {
    let _ = write!(
        out,
        r#"    <testcase classname="{}" name="{}" time="{:.3}""#,
        esc(suite),
        esc(&e.name()),
        e.wall_s
    );
    let rerun = format!(
        "results: {}\nrerun: {}\n",
        e.run_dir.display(),
        e.results.rerun
    );
    let body = match (&e.results.aborted, &e.results.check) {
        (Some(why), _) => format!(
            "      <error type=\"aborted\" message=\"{}\"/>\n",
            esc(&format!("run ended early: {why}"))
        ),
        (None, RunCheck::Linear(r)) => linear_case_body(&r.verdict),
        (None, RunCheck::Txn(r)) => txn_case_body(r),
    };
    let _ = write!(
        out,
        ">\n{body}      <system-out>{}</system-out>\n    </testcase>\n",
        esc(&rerun)
    );
}

/// The series as JUnit XML: one `<testsuite>` named `suite`, one `<testcase>` per run.
pub fn render_series_junit(entries: &[SeriesEntry<'_>], suite: &str) -> String {
    let failures = entries.iter().filter(|e| e.word() == "INVALID").count();
    let errors = entries
        .iter()
        .filter(|e| matches!(e.word(), "UNKNOWN" | "ABORTED"))
        .count();
    let time: f64 = entries.iter().map(|e| e.wall_s).sum();
    let n = entries.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        r#"<testsuites name="faultline" tests="{n}" failures="{failures}" errors="{errors}" time="{time:.3}">"#
    );
    let _ = writeln!(
        out,
        r#"  <testsuite name="{}" tests="{n}" failures="{failures}" errors="{errors}" skipped="0" time="{time:.3}">"#,
        esc(suite)
    );
    for e in entries {
        case(&mut out, suite, e);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Write [`render_series_junit`] to `path` atomically.
pub fn write_series_junit(
    path: &Path,
    entries: &[SeriesEntry<'_>],
    suite: &str,
) -> Result<(), ReportError> {
    write_atomically(path, render_series_junit(entries, suite).as_bytes())
}

#[cfg(test)]
mod tests;

/// A linearizability run's JUnit case body: empty when valid.
fn linear_case_body(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Valid => String::new(),
        Verdict::Invalid { counterexample } => format!(
            "      <failure type=\"invalid\" message=\"{}\">{}</failure>\n",
            esc(&format!(
                "not linearizable: op #{} could not be linearized",
                counterexample.op.index
            )),
            esc(&counterexample_text(counterexample.as_ref()))
        ),
        Verdict::Unknown { reason } => format!(
            "      <error type=\"unknown\" message=\"{}\"/>\n",
            esc(&format!("checker gave up: {reason}"))
        ),
    }
}

/// A transaction run's JUnit case body: empty when valid, else the anomaly classes.
fn txn_case_body(report: &TxnReport) -> String {
    let classes: Vec<String> = report.anomaly_types.iter().map(|a| a.to_string()).collect();
    match report.valid {
        TxnVerdict::Valid => String::new(),
        TxnVerdict::Invalid => format!(
            "      <failure type=\"invalid\" message=\"{}\"/>\n",
            esc(&format!("anomalies: {}", classes.join(", ")))
        ),
        TxnVerdict::Unknown => format!(
            "      <error type=\"unknown\" message=\"{}\"/>\n",
            esc(&format!(
                "checker could not decide ({})",
                classes.join(", ")
            ))
        ),
    }
}
