//! The self-contained HTML report: one file with inline CSS, inline SVG and a few lines of inline
//! JavaScript for hover tooltips; no network fetches, opens offline. Every string that comes from a
//! history or a report is escaped ([`svg::esc`]).
//!
//! Sections: verdict and summary, the counterexample (invalid histories), per-key verdicts (keyed
//! histories), the operations timeline, latency and throughput over time, all over nemesis bands,
//! and fault coverage (computed from the history's nemesis ops, so a stored run re-renders it).

mod assets;
mod calls;
mod ce_table;
mod counterexample;
mod coverage;
mod overview;
mod plots;
mod svg;
mod timeline;
mod txn;

use std::fmt::Write;
use std::path::Path;

use crate::checker::txn::{TxnReport, Witness};
use crate::checker::{CheckReport, Counterexample, Verdict};
use crate::history::History;
use crate::report::error::{write_atomically, ReportError};
use crate::report::results::RunResults;

pub use timeline::DETAIL_MAX as TIMELINE_DETAIL_MAX;

/// Counterexamples rendered in full (one per invalid key).
const MAX_COUNTEREXAMPLES: usize = 5;

/// Render the whole report as one HTML document.
///
/// `run` is the stored `results.json` when there is one (`faultline test`, `faultline report`);
/// `None` for `faultline check`, in which case counts and latencies come from the history.
pub fn render_html(history: &History, check: &CheckReport, run: Option<&RunResults>) -> String {
    let mut d = calls::derive(history);
    if d.bands.is_empty() {
        if let Some(r) = run {
            d.bands = calls::bands_from_faults(&r.faults, d.axis.wall, d.axis.max);
        }
    }
    let title = run
        .map(|r| format!("faultline: {}", r.name))
        .unwrap_or_else(|| "faultline check".into());
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{}</title><style>{}</style><script>{}</script></head><body>"#,
        svg::esc(&title),
        assets::CSS,
        assets::ERROR_HOOK
    );
    let _ = write!(out, "<h1>{}</h1>", svg::esc(&title));
    out.push_str(&overview::banner(check));
    out.push_str(&overview::summary(history, &d, run));
    let ces = counterexamples(check);
    if !ces.is_empty() {
        out.push_str(r#"<section id="counterexample"><h2>Counterexample</h2><p class="note">One row per process in the final paths; each bar runs from invoke to completion (crashed ops to the right edge) on an event-order axis. Ticks are candidate linearization orders; black = legal step with the model state, pink = the step where the model became inconsistent. Hover for details.</p>"#);
        for ce in ces.iter().take(MAX_COUNTEREXAMPLES) {
            if let Some(k) = &ce.key {
                let _ = write!(
                    out,
                    "<h3>Key <code>{}</code></h3>",
                    svg::esc_short(&k.to_string(), 200)
                );
            }
            out.push_str(&counterexample::render(history, &d, ce));
        }
        if ces.len() > MAX_COUNTEREXAMPLES {
            let _ = write!(
                out,
                r#"<p class="note">{} more invalid keys are listed in the per-key table.</p>"#,
                ces.len() - MAX_COUNTEREXAMPLES
            );
        }
        out.push_str("</section>");
    }
    if let Some(keys) = overview::keys(check) {
        out.push_str(&keys);
    }
    out.push_str(r#"<section id="timeline"><h2>Timeline</h2>"#);
    let failing: Vec<u64> = ces.iter().map(|c| c.op.index).collect();
    out.push_str(&timeline::render(history, &d, group_mod(run), &failing));
    out.push_str("</section>");
    match (plots::latency(history, &d), plots::throughput(history, &d)) {
        (Some(lat), Some(tp)) => {
            let _ = write!(out, r#"<section id="latency"><h2>Latency</h2>{lat}</section><section id="throughput"><h2>Throughput</h2>{tp}</section>"#);
        }
        _ => out.push_str(r#"<section id="latency"><h2>Latency and throughput</h2><p class="note">This history has no timestamps, so there are no latency or throughput plots.</p></section>"#),
    }
    if let Some(c) = coverage::render(&crate::nemesis::coverage::Coverage::from_history(history)) {
        out.push_str(&c);
    }
    let _ = write!(
        out,
        r#"<pre id="js-errors" hidden></pre><div id="tip" hidden></div><footer>faultline {} · self-contained report, no network access needed</footer><script>{}</script></body></html>"#,
        env!("CARGO_PKG_VERSION"),
        assets::SCRIPT
    );
    out
}

/// Render the report of a transactional check ([`TxnReport`]) as one HTML document: verdict,
/// summary, the anomalies with a diagram of each witness cycle, the timeline (transactions in
/// a witness outlined), latency and throughput.
pub fn render_txn_html(history: &History, check: &TxnReport, run: Option<&RunResults>) -> String {
    let mut d = calls::derive(history);
    if d.bands.is_empty() {
        if let Some(r) = run {
            d.bands = calls::bands_from_faults(&r.faults, d.axis.wall, d.axis.max);
        }
    }
    let title = run
        .map(|r| format!("faultline: {}", r.name))
        .unwrap_or_else(|| "faultline check".into());
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{}</title><style>{}</style><script>{}</script></head><body>"#,
        svg::esc(&title),
        assets::CSS,
        assets::ERROR_HOOK
    );
    let _ = write!(out, "<h1>{}</h1>", svg::esc(&title));
    out.push_str(&txn::banner(check));
    out.push_str(&overview::summary(history, &d, run));
    out.push_str(&txn::anomalies(check));
    out.push_str(r#"<section id="timeline"><h2>Timeline</h2>"#);
    let failing: Vec<u64> = check
        .anomalies
        .values()
        .flatten()
        .flat_map(|w| match w {
            Witness::Cycle(c) => c.cycle.iter().map(|o| o.index).collect(),
            Witness::Op(o) => vec![o.op.index],
            _ => Vec::new(),
        })
        .collect();
    out.push_str(&timeline::render(history, &d, group_mod(run), &failing));
    out.push_str("</section>");
    match (plots::latency(history, &d), plots::throughput(history, &d)) {
        (Some(lat), Some(tp)) => {
            let _ = write!(out, r#"<section id="latency"><h2>Latency</h2>{lat}</section><section id="throughput"><h2>Throughput</h2>{tp}</section>"#);
        }
        _ => out.push_str(r#"<section id="latency"><h2>Latency and throughput</h2><p class="note">This history has no timestamps, so there are no latency or throughput plots.</p></section>"#),
    }
    let _ = write!(
        out,
        r#"<pre id="js-errors" hidden></pre><div id="tip" hidden></div><footer>faultline {} · self-contained report, no network access needed</footer><script>{}</script></body></html>"#,
        env!("CARGO_PKG_VERSION"),
        assets::SCRIPT
    );
    out
}

/// Render a transactional report and write it to `path` (via a temporary file and a rename).
pub fn write_txn_report(
    path: &Path,
    history: &History,
    check: &TxnReport,
    run: Option<&RunResults>,
) -> Result<(), ReportError> {
    write_atomically(path, render_txn_html(history, check, run).as_bytes())
}

/// Render the report and write it to `path` (via a temporary file and a rename).
pub fn write_report(
    path: &Path,
    history: &History,
    check: &CheckReport,
    run: Option<&RunResults>,
) -> Result<(), ReportError> {
    write_atomically(path, render_html(history, check, run).as_bytes())
}

/// The client count from the run config, used to group Jepsen-style renumbered processes.
fn group_mod(run: Option<&RunResults>) -> Option<u64> {
    let c = &run?.config;
    ["clients", "concurrency"]
        .iter()
        .find_map(|k| c.get(*k)?.trim().parse().ok())
}

/// Counterexamples to draw: one per invalid key, or the overall one.
fn counterexamples(check: &CheckReport) -> Vec<&Counterexample> {
    let mut v: Vec<&Counterexample> = check
        .keys
        .iter()
        .filter_map(|k| match &k.verdict {
            Verdict::Invalid { counterexample } => Some(counterexample.as_ref()),
            _ => None,
        })
        .collect();
    if let Verdict::Invalid { counterexample } = &check.verdict {
        if !v.iter().any(|c| *c == counterexample.as_ref()) {
            v.insert(0, counterexample.as_ref());
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::{ModelKind, PathStep};
    use crate::history::{Op, OpType, Process};
    use serde_json::{json, Value};

    fn op(i: u64, time: Option<i64>, p: Process, kind: OpType, f: &str) -> Op {
        Op {
            index: i,
            time,
            process: p,
            kind,
            f: f.into(),
            key: None,
            value: Value::Null,
            node: None,
            error: None,
        }
    }

    fn valid() -> CheckReport {
        CheckReport {
            model: ModelKind::CasRegister,
            verdict: Verdict::Valid,
            keys: vec![],
            elapsed_ms: 0,
        }
    }

    #[test]
    fn odd_histories_render_without_panicking() {
        let c = Process::Client;
        let cases = vec![
            History::default(),
            History {
                ops: vec![op(0, Some(5), Process::Nemesis, OpType::Info, "kill")],
            },
            // Completion without invoke, times going backwards, equal times, a dangling invoke.
            History {
                ops: vec![
                    op(0, Some(10), c(1), OpType::Ok, "read"),
                    op(1, Some(3), c(2), OpType::Invoke, "write"),
                    op(2, Some(3), c(2), OpType::Fail, "write"),
                    op(3, Some(-7), c(3), OpType::Invoke, "cas"),
                ],
            },
            // Mixed: some ops without a time fall back to the index axis.
            History {
                ops: vec![
                    op(0, None, c(1), OpType::Invoke, "read"),
                    op(1, Some(9), c(1), OpType::Ok, "read"),
                ],
            },
        ];
        for h in &cases {
            let html = render_html(h, &valid(), None);
            assert!(html.ends_with("</html>"));
        }
    }

    #[test]
    fn counterexample_ops_missing_from_the_history_still_draw() {
        let h = History::default();
        let ghost = Op {
            value: json!(3),
            ..op(40, None, Process::Client(9), OpType::Ok, "read")
        };
        let ce = Counterexample {
            key: Some("k".into()),
            op: ghost.clone(),
            previous_ok: None,
            longest_prefix: vec![],
            states: vec![],
            final_paths: vec![vec![PathStep {
                op: ghost,
                state: "can't read 3 from register nil".into(),
                legal: false,
            }]],
        };
        let check = CheckReport {
            model: ModelKind::CasRegister,
            verdict: Verdict::Invalid {
                counterexample: Box::new(ce),
            },
            keys: vec![],
            elapsed_ms: 0,
        };
        let html = render_html(&h, &check, None);
        assert!(html.contains(r#"class="plot counterexample""#) && html.contains("tick illegal"));
    }
}
