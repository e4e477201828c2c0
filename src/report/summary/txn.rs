//! The verdict lines of a transaction run's summary: the verdict with its anomaly classes, how
//! many of each, the models they rule out, and the shortest witness in words (report.html draws
//! every witness).

use std::fmt::Write;

use crate::checker::txn::{TxnReport, TxnVerdict};

/// Witness lines shown in the terminal at most.
const MAX_WITNESS_LINES: usize = 12;

/// The lines after the throughput and fault lines.
pub(super) fn verdict_lines(r: &TxnReport) -> String {
    let mut out = String::new();
    let word = match r.valid {
        TxnVerdict::Valid => "VALID",
        TxnVerdict::Invalid => "INVALID",
        TxnVerdict::Unknown => "UNKNOWN",
    };
    let names: Vec<&str> = r.anomaly_types.iter().map(|a| a.name()).collect();
    let detail = match (&r.valid, &r.unknown_reason) {
        (TxnVerdict::Valid, _) => String::new(),
        (TxnVerdict::Unknown, Some(why)) => format!(" ({why})"),
        _ => format!(" ({})", names.join(", ")),
    };
    let models: Vec<&str> = r.consistency_models.iter().map(|m| m.name()).collect();
    let _ = writeln!(
        out,
        "verdict     {word}{detail} [{}, {}, checked in {} ms]",
        r.model.name(),
        models.join(", "),
        r.stats.elapsed_ms
    );
    if !r.anomaly_types.is_empty() {
        let counts: Vec<String> = r
            .anomaly_types
            .iter()
            .map(|a| format!("{a} x{}", r.counts.get(a).copied().unwrap_or(0)))
            .collect();
        let _ = writeln!(out, "anomalies   {}", counts.join(", "));
    }
    if !r.not.is_empty() {
        let _ = writeln!(out, "not         {}", r.not.join(", "));
    }
    let shortest = r
        .anomalies
        .iter()
        .flat_map(|(a, ws)| ws.iter().map(move |w| (a, w)))
        .min_by_key(|(_, w)| w.explanation().len());
    if let (TxnVerdict::Invalid, Some((a, w))) = (&r.valid, shortest) {
        let lines = w.explanation();
        let _ = writeln!(out, "witness     {a} (report.html draws every witness):");
        for line in lines.iter().take(MAX_WITNESS_LINES) {
            let _ = writeln!(out, "            {line}");
        }
        if lines.len() > MAX_WITNESS_LINES {
            let _ = writeln!(
                out,
                "            ... {} more lines",
                lines.len() - MAX_WITNESS_LINES
            );
        }
    }
    out
}
