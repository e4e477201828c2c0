//! The text form of a [`TxnReport`]: verdict, what was checked, the anomaly types with counts,
//! the models ruled out, then every witness explained line by line.

use std::fmt::Write;

use super::report::{TxnReport, TxnVerdict};

/// Render a report as readable text.
pub fn render_text(r: &TxnReport) -> String {
    let mut out = String::new();
    let verdict = match r.valid {
        TxnVerdict::Valid => "VALID",
        TxnVerdict::Invalid => "INVALID",
        TxnVerdict::Unknown => "UNKNOWN",
    };
    let models: Vec<&str> = r.consistency_models.iter().map(|m| m.name()).collect();
    let models = if models.is_empty() {
        "the requested anomalies".to_string()
    } else {
        models.join(", ")
    };
    let _ = writeln!(
        out,
        "verdict: {verdict} ({}, checked against {models}, {} ms)",
        r.model.name(),
        r.stats.elapsed_ms
    );
    let s = &r.stats;
    let _ = writeln!(
        out,
        "{} transactions ({} ok, {} info, {} fail), {} dependency edges, {} cyclic component{} \
         (largest: {} transactions)",
        s.txns,
        s.ok,
        s.info,
        s.fail,
        s.edges,
        s.sccs,
        if s.sccs == 1 { "" } else { "s" },
        s.largest_scc
    );
    if let Some(why) = &r.unknown_reason {
        let _ = writeln!(out, "unknown because: {why}");
    }
    if !r.anomaly_types.is_empty() {
        let types: Vec<String> = r
            .anomaly_types
            .iter()
            .map(|a| format!("{a} ({})", r.counts.get(a).copied().unwrap_or(0)))
            .collect();
        let _ = writeln!(out, "anomalies: {}", types.join(", "));
    }
    if !r.not.is_empty() {
        let _ = writeln!(out, "not: {}", r.not.join(", "));
    }
    if !r.also_not.is_empty() {
        let _ = writeln!(out, "also not: {}", r.also_not.join(", "));
    }
    for (a, ws) in &r.anomalies {
        let total = r.counts.get(a).copied().unwrap_or(ws.len());
        for (i, w) in ws.iter().enumerate() {
            let _ = writeln!(out, "\n{a} #{}", i + 1);
            for line in w.explanation() {
                let _ = writeln!(out, "{line}");
            }
        }
        if total > ws.len() {
            let _ = writeln!(out, "\n({} more {a} not shown)", total - ws.len());
        }
    }
    out
}
