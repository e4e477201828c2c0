//! The report's header sections: the verdict banner, the run summary (config, seed, rerun command,
//! counts, throughput, latency) and the per-key verdict table. Uses `results.json` when present,
//! otherwise derives counts and latencies from the history alone (`faultline check`).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::calls::{Derived, Outcome};
use super::svg::{esc, esc_short};
use crate::checker::{CheckReport, Verdict};
use crate::history::History;
use crate::report::results::{Latency, Outcomes, RunResults};

/// Per-key rows listed before the table is cut (invalid and unknown keys are listed first).
const MAX_KEY_ROWS: usize = 500;

/// The verdict's name and CSS class.
pub(crate) fn verdict_name(v: &Verdict) -> &'static str {
    match v {
        Verdict::Valid => "valid",
        Verdict::Invalid { .. } => "invalid",
        Verdict::Unknown { .. } => "unknown",
    }
}

/// Banner with the overall verdict.
pub(crate) fn banner(check: &CheckReport) -> String {
    let name = verdict_name(&check.verdict);
    let detail = match &check.verdict {
        Verdict::Valid => "The history is linearizable.".to_string(),
        Verdict::Invalid { counterexample } => {
            let key = counterexample
                .key
                .as_ref()
                .map(|k| format!(" on key {k}"))
                .unwrap_or_default();
            format!(
                "Not linearizable{key}: op #{} could not be linearized.",
                counterexample.op.index
            )
        }
        Verdict::Unknown { reason } => format!("The checker gave up: {reason}"),
    };
    format!(
        r#"<div id="verdict" class="verdict {name}" data-verdict="{name}"><span class="verdict-word">{}</span> <span>{}</span><span class="verdict-meta">model {} · {} key(s) · checked in {} ms</span></div>"#,
        name.to_uppercase(),
        esc_short(&detail, 500),
        esc(check.model.name()),
        check.keys.len(),
        check.elapsed_ms
    )
}

/// Counts by op function (and `all`) computed from the history.
pub(crate) fn outcomes_from_history(h: &History, d: &Derived) -> BTreeMap<String, Outcomes> {
    let mut m: BTreeMap<String, Outcomes> = BTreeMap::new();
    for c in &d.calls {
        for f in [h.ops[c.invoke].f.as_str(), "all"] {
            let e = m.entry(f.to_string()).or_default();
            match c.outcome {
                Outcome::Ok => e.ok += 1,
                Outcome::Fail => e.fail += 1,
                Outcome::Info => e.info += 1,
            }
        }
    }
    m
}

/// Latency percentiles of ok ops by function (and `all`); empty without timestamps.
pub(crate) fn latency_from_history(h: &History, d: &Derived) -> BTreeMap<String, Latency> {
    let mut lat: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    if !d.axis.wall {
        return BTreeMap::new();
    }
    for c in d.calls.iter().filter(|c| c.outcome == Outcome::Ok) {
        let Some(end) = c.end else { continue };
        let us = ((end - c.start) * 1e6).max(0.0) as u64;
        for f in [h.ops[c.invoke].f.as_str(), "all"] {
            lat.entry(f.to_string()).or_default().push(us);
        }
    }
    lat.into_iter()
        .map(|(f, mut v)| {
            v.sort_unstable();
            let q = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
            let l = Latency {
                count: v.len() as u64,
                p50_us: q(0.5),
                p95_us: q(0.95),
                p99_us: q(0.99),
                max_us: q(1.0),
            };
            (f, l)
        })
        .collect()
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

/// The summary section: run metadata (when known), outcome counts, latency, throughput.
pub(crate) fn summary(h: &History, d: &Derived, run: Option<&RunResults>) -> String {
    let mut out = String::from(r#"<section id="summary"><h2>Summary</h2><div class="cols"><div>"#);
    out.push_str(r#"<table class="kv"><tbody>"#);
    let row = |out: &mut String, k: &str, v: String| {
        let _ = write!(out, "<tr><th>{}</th><td>{v}</td></tr>", esc(k));
    };
    let (outcomes, latency, throughput, duration);
    if let Some(r) = run {
        row(&mut out, "test", esc_short(&r.name, 200));
        row(&mut out, "started", esc_short(&r.started_at, 100));
        row(&mut out, "seed", format!("<code>{}</code>", r.seed));
        row(
            &mut out,
            "rerun",
            format!(
                r#"<code class="rerun">{}</code>"#,
                esc_short(&r.rerun, 2000)
            ),
        );
        for (k, v) in &r.config {
            row(&mut out, k, esc_short(v, 300));
        }
        if let Some(a) = &r.aborted {
            row(
                &mut out,
                "aborted",
                format!(r#"<span class="warn">{}</span>"#, esc_short(a, 500)),
            );
        }
        outcomes = r.outcomes.clone();
        latency = r.latency.clone();
        throughput = Some(r.throughput);
        duration = Some(r.duration_s);
    } else {
        row(&mut out, "source", "history only (no results.json)".into());
        outcomes = outcomes_from_history(h, d);
        latency = latency_from_history(h, d);
        duration = d.axis.wall.then_some(d.axis.max - d.axis.min);
        let ok = outcomes.get("all").map(|o| o.ok).unwrap_or(0);
        throughput = duration.filter(|s| *s > 0.0).map(|s| ok as f64 / s);
    }
    row(
        &mut out,
        "history",
        format!(
            "{} events, {} client ops, {} nemesis intervals",
            h.ops.len(),
            d.calls.len(),
            d.bands.len()
        ),
    );
    if let Some(s) = duration {
        row(&mut out, "duration", format!("{s:.2} s"));
    }
    if let Some(t) = throughput {
        row(&mut out, "throughput", format!("{t:.1} ok ops/s"));
    }
    out.push_str("</tbody></table></div><div>");
    out.push_str(r#"<table class="counts"><thead><tr><th>op</th><th>ok</th><th>fail</th><th>info</th></tr></thead><tbody>"#);
    for (f, o) in &outcomes {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc_short(f, 60),
            o.ok,
            o.fail,
            o.info
        );
    }
    out.push_str("</tbody></table>");
    if !latency.is_empty() {
        out.push_str(r#"<table class="latency"><thead><tr><th>op</th><th>n</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr></thead><tbody>"#);
        for (f, l) in &latency {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc_short(f, 60),
                l.count,
                ms(l.p50_us),
                ms(l.p95_us),
                ms(l.p99_us),
                ms(l.max_us)
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</div></div></section>");
    out
}

/// Per-key verdict table (only for keyed histories).
pub(crate) fn keys(check: &CheckReport) -> Option<String> {
    if check.keys.iter().all(|k| k.key.is_none()) {
        return None;
    }
    let rank = |v: &Verdict| match v {
        Verdict::Invalid { .. } => 0,
        Verdict::Unknown { .. } => 1,
        Verdict::Valid => 2,
    };
    let mut keys: Vec<_> = check.keys.iter().collect();
    keys.sort_by_key(|k| rank(&k.verdict));
    let mut out = format!(
        r#"<section id="keys"><h2>Per-key verdicts ({} keys)</h2><table class="keys"><thead><tr><th>key</th><th>ops</th><th>verdict</th><th>detail</th></tr></thead><tbody>"#,
        keys.len()
    );
    for k in keys.iter().take(MAX_KEY_ROWS) {
        let name = verdict_name(&k.verdict);
        let detail = match &k.verdict {
            Verdict::Valid => String::new(),
            Verdict::Invalid { counterexample } => {
                format!("op #{} could not be linearized", counterexample.op.index)
            }
            Verdict::Unknown { reason } => reason.clone(),
        };
        let _ = write!(
            out,
            r#"<tr class="{name}"><td><code>{}</code></td><td>{}</td><td class="v">{name}</td><td>{}</td></tr>"#,
            esc_short(
                &k.key.as_ref().map_or("(none)".into(), |k| k.to_string()),
                200
            ),
            k.ops,
            esc_short(&detail, 300)
        );
    }
    out.push_str("</tbody></table>");
    if keys.len() > MAX_KEY_ROWS {
        let _ = write!(
            out,
            r#"<p class="note">Showing {MAX_KEY_ROWS} of {} keys (all invalid and unknown keys first).</p>"#,
            keys.len()
        );
    }
    out.push_str("</section>");
    Some(out)
}
