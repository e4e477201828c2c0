//! Plain-text rendering of a [`CheckReport`]: a verdict line, a per-key summary for keyed
//! histories, and for invalid histories the failing op, the previous ok, the possible states and
//! the failing candidate orders (`write 2 -> 2; cas [1 1] -> can't CAS 2 from 1 to 1`).

use std::fmt::Write;

use super::model::render_value;
use super::{CheckReport, Counterexample, Verdict};
use crate::history::Op;

fn op_text(op: &Op) -> String {
    format!(
        "index {} process {} {:?} {} {}",
        op.index,
        op.process,
        op.kind,
        op.f,
        render_value(&op.value)
    )
    .to_lowercase()
}

fn verdict_word(v: &Verdict) -> &'static str {
    match v {
        Verdict::Valid => "valid",
        Verdict::Invalid { .. } => "INVALID",
        Verdict::Unknown { .. } => "unknown",
    }
}

/// See [`super::render_text`].
pub fn render_text(report: &CheckReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "verdict: {} (model {}, {} ms",
        verdict_word(&report.verdict),
        report.model.name(),
        report.elapsed_ms
    );
    let keyed = report.keys.iter().any(|k| k.key.is_some());
    if keyed {
        let count = |w: &str| {
            report
                .keys
                .iter()
                .filter(|k| verdict_word(&k.verdict) == w)
                .count()
        };
        let _ = write!(
            out,
            ", {} keys: {} valid, {} invalid, {} unknown",
            report.keys.len(),
            count("valid"),
            count("INVALID"),
            count("unknown")
        );
    }
    out.push_str(")\n");
    if let Verdict::Unknown { reason } = &report.verdict {
        let _ = writeln!(out, "reason: {reason}");
    }
    if keyed {
        for k in report
            .keys
            .iter()
            .filter(|k| !matches!(k.verdict, Verdict::Valid))
            .take(20)
        {
            let _ = write!(
                out,
                "  key {}: {} ({} ops)",
                k.key.as_ref().map_or("-".to_string(), |k| k.to_string()),
                verdict_word(&k.verdict),
                k.ops
            );
            if let Verdict::Unknown { reason } = &k.verdict {
                let _ = write!(out, ": {reason}");
            }
            out.push('\n');
        }
    }
    if let Verdict::Invalid { counterexample } = &report.verdict {
        render_counterexample(&mut out, counterexample);
    }
    out
}

fn render_counterexample(out: &mut String, ce: &Counterexample) {
    if let Some(k) = &ce.key {
        let _ = writeln!(out, "key: {k}");
    }
    let _ = writeln!(out, "cannot linearize: {}", op_text(&ce.op));
    match &ce.previous_ok {
        Some(p) => {
            let _ = writeln!(out, "previous ok:      {}", op_text(p));
        }
        None => out.push_str("previous ok:      none\n"),
    }
    if !ce.longest_prefix.is_empty() {
        let _ = writeln!(
            out,
            "longest linearizable prefix: {} ops",
            ce.longest_prefix.len()
        );
    }
    if !ce.states.is_empty() {
        let _ = writeln!(out, "model states just before: {}", ce.states.join(", "));
    }
    if !ce.final_paths.is_empty() {
        out.push_str("every candidate order fails:\n");
        let mut shown = std::collections::HashSet::new();
        for path in &ce.final_paths {
            let steps: Vec<String> = path
                .iter()
                .map(|s| format!("{} {} -> {}", s.op.f, render_value(&s.op.value), s.state))
                .collect();
            let line = steps.join("; ");
            if shown.insert(line.clone()) {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
}
