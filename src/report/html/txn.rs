//! The transactional parts of the report: a verdict banner for a [`TxnReport`], the anomaly
//! table (types, counts, models ruled out) and, per witness cycle, a diagram: transactions as
//! boxes listing their micro-ops, left to right, each edge an arrow labelled with its
//! relationship and key (`wr x`, `rw y`, `realtime`), the closing edge curving back beneath.

use std::fmt::Write;

use serde_json::Value;

use super::svg::{esc, esc_short, n};
use crate::checker::txn::{CycleWitness, TxnReport, TxnVerdict, Witness};
use crate::history::OpType;

/// Witnesses drawn per anomaly type.
const MAX_DRAWN: usize = 3;
/// Micro-ops listed per box before the rest is elided.
const MAX_MOPS: usize = 8;
const BOX_W: f64 = 230.0;
const GAP: f64 = 110.0;
const LINE: f64 = 15.0;

/// The verdict banner.
pub(crate) fn banner(r: &TxnReport) -> String {
    let (name, detail) = match r.valid {
        TxnVerdict::Valid => ("valid", "No forbidden anomaly was found.".to_string()),
        TxnVerdict::Invalid => (
            "invalid",
            format!(
                "Found {}; not {}.",
                join(r.anomaly_types.iter().map(|a| a.name().to_string())),
                join(r.not.iter().cloned())
            ),
        ),
        TxnVerdict::Unknown => (
            "unknown",
            r.unknown_reason.clone().unwrap_or_else(|| {
                format!(
                    "Nothing forbidden was found, but: {}.",
                    join(r.anomaly_types.iter().map(|a| a.name().to_string()))
                )
            }),
        ),
    };
    let models: Vec<&str> = r.consistency_models.iter().map(|m| m.name()).collect();
    format!(
        r#"<div id="verdict" class="verdict {name}" data-verdict="{name}"><span class="verdict-word">{}</span> <span>{}</span><span class="verdict-meta">{} · {} · {} transactions · checked in {} ms</span></div>"#,
        name.to_uppercase(),
        esc_short(&detail, 500),
        esc(r.model.name()),
        esc(&if models.is_empty() {
            "requested anomalies".into()
        } else {
            models.join(", ")
        }),
        r.stats.txns,
        r.stats.elapsed_ms
    )
}

fn join(it: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = it.collect();
    if v.is_empty() {
        "nothing".into()
    } else {
        v.join(", ")
    }
}

/// The anomalies section; empty when nothing was reported.
pub(crate) fn anomalies(r: &TxnReport) -> String {
    if r.anomalies.is_empty() {
        return String::new();
    }
    let mut out =
        String::from(r#"<section id="anomalies"><h2>Anomalies</h2><table class="kv"><tbody>"#);
    for (a, ws) in &r.anomalies {
        let count = r.counts.get(a).copied().unwrap_or(ws.len());
        let _ = write!(out, "<tr><th>{}</th><td>{count}</td></tr>", esc(a.name()));
    }
    let _ = write!(
        out,
        "</tbody></table><p>Not: <b>{}</b>{}</p>",
        esc(&join(r.not.iter().cloned())),
        if r.also_not.is_empty() {
            String::new()
        } else {
            format!(" (nor {})", esc(&r.also_not.join(", ")))
        }
    );
    out.push_str(r#"<p class="note">Each cycle is drawn left to right: an arrow from one transaction to the next means the next must come after it; the arrow curving back beneath closes the cycle. ww: wrote the next version; wr: read its write; rw: overwrote the version it read; process / realtime: ran later in the same session / started after it completed.</p>"#);
    for (a, ws) in &r.anomalies {
        for (i, w) in ws.iter().take(MAX_DRAWN).enumerate() {
            let _ = write!(
                out,
                r#"<h3 id="{}-{}">{} #{}</h3>"#,
                esc(a.name()),
                i + 1,
                esc(a.name()),
                i + 1
            );
            if let Witness::Cycle(c) = w {
                out.push_str(&cycle_svg(c));
            }
            let _ = write!(
                out,
                r#"<pre class="explanation">{}</pre>"#,
                esc(&w.explanation().join("\n"))
            );
        }
    }
    out.push_str("</section>");
    out
}

/// A micro-op as short text: `append x 1`, `r y [1 2]`.
fn mop_text(m: &Value) -> String {
    match m.as_array().map(Vec::as_slice) {
        Some([f, k, v]) => {
            let f = f.as_str().unwrap_or("?");
            format!("{f} {} {}", scalar(k), scalar(v))
        }
        _ => m.to_string(),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let shown: Vec<String> = items.iter().map(scalar).collect();
            if shown.len() > 6 {
                format!("[… {}]", shown[shown.len() - 5..].join(" "))
            } else {
                format!("[{}]", shown.join(" "))
            }
        }
        other => other.to_string(),
    }
}

fn kind(k: OpType) -> &'static str {
    match k {
        OpType::Invoke => "pending",
        OpType::Ok => "ok",
        OpType::Fail => "fail",
        OpType::Info => "info",
    }
}

fn rel_color(rel: &str) -> &'static str {
    match rel {
        "ww" => "#7b3fc4",
        "wr" => "#1f77b4",
        "rw" => "#d62728",
        "process" => "#2ca02c",
        _ => "#e07b00",
    }
}

/// The SVG drawing of one cycle.
pub(crate) fn cycle_svg(c: &CycleWitness) -> String {
    let k = c.cycle.len();
    let lines = |i: usize| -> Vec<String> {
        let mops = c.cycle[i].value.as_array().cloned().unwrap_or_default();
        let mut ls: Vec<String> = mops.iter().take(MAX_MOPS).map(mop_text).collect();
        if mops.len() > MAX_MOPS {
            ls.push(format!("… {} more", mops.len() - MAX_MOPS));
        }
        ls
    };
    let tallest = (0..k).map(|i| lines(i).len()).max().unwrap_or(1) as f64;
    let (top, box_h) = (40.0, 28.0 + tallest * LINE);
    let width = 20.0 + k as f64 * (BOX_W + GAP) - GAP + 20.0;
    let height = top + box_h + 70.0;
    let mut out = format!(
        r#"<svg class="plot txn-cycle" viewBox="0 0 {} {}" width="{}" height="{}" xmlns="http://www.w3.org/2000/svg"><defs>"#,
        n(width),
        n(height),
        n(width),
        n(height)
    );
    for rel in ["ww", "wr", "rw", "process", "realtime"] {
        let _ = write!(
            out,
            r#"<marker id="arrow-{rel}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="{}"/></marker>"#,
            rel_color(rel)
        );
    }
    out.push_str("</defs>");
    let x_of = |i: usize| 20.0 + i as f64 * (BOX_W + GAP);
    for (i, op) in c.cycle.iter().enumerate() {
        let x = x_of(i);
        let _ = write!(
            out,
            r##"<g class="txn-box"><title>{}</title><rect x="{}" y="{top}" width="{BOX_W}" height="{}" rx="6" fill="#f7f9fc" stroke="#555"/><text x="{}" y="{}" font-weight="700">T{} · index {} · p{} · {}</text>"##,
            esc(&format!("{}", op.value)),
            n(x),
            n(box_h),
            n(x + 8.0),
            n(top + 17.0),
            i + 1,
            op.index,
            op.process,
            kind(op.kind)
        );
        for (j, l) in lines(i).iter().enumerate() {
            let _ = write!(
                out,
                r#"<text class="bar-label" x="{}" y="{}">{}</text>"#,
                n(x + 10.0),
                n(top + 36.0 + j as f64 * LINE),
                esc_short(l, 40)
            );
        }
        out.push_str("</g>");
    }
    for (i, s) in c.steps.iter().enumerate() {
        let color = rel_color(&s.rel);
        let label = match &s.key {
            Some(key) => format!("{} {}", s.rel, scalar(key)),
            None => s.rel.clone(),
        };
        let tip = esc(&s.explanation);
        if i + 1 < k {
            let (x1, x2, y) = (x_of(i) + BOX_W, x_of(i + 1), top + box_h / 2.0);
            let _ = write!(
                out,
                r#"<g class="edge {}"><title>{tip}</title><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{color}" stroke-width="2" marker-end="url(#arrow-{})"/><text x="{}" y="{}" text-anchor="middle" fill="{color}" font-weight="600">{}</text></g>"#,
                esc(&s.rel),
                n(x1 + 2.0),
                n(y),
                n(x2 - 2.0),
                n(y),
                esc(&s.rel),
                n((x1 + x2) / 2.0),
                n(y - 8.0),
                esc_short(&label, 24)
            );
        } else {
            let (x1, x2, y0) = (x_of(i) + BOX_W / 2.0, x_of(0) + BOX_W / 2.0, top + box_h);
            let _ = write!(
                out,
                r#"<g class="edge {}"><title>{tip}</title><path d="M{},{} C{},{} {},{} {},{}" fill="none" stroke="{color}" stroke-width="2" marker-end="url(#arrow-{})"/><text x="{}" y="{}" text-anchor="middle" fill="{color}" font-weight="600">{}</text></g>"#,
                esc(&s.rel),
                n(x1),
                n(y0 + 2.0),
                n(x1),
                n(y0 + 60.0),
                n(x2),
                n(y0 + 60.0),
                n(x2),
                n(y0 + 4.0),
                esc(&s.rel),
                n((x1 + x2) / 2.0),
                n(y0 + 58.0),
                esc_short(&label, 24)
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use crate::checker::txn::{check, TxnModel, TxnOptions};
    use crate::history::read_jsonl;

    #[test]
    fn keys_and_values_from_the_history_are_escaped() {
        let k = r#"</svg><script>alert(1)</script>"#;
        let jsonl = format!(
            r#"{{"process":0,"type":"invoke","f":"txn","value":[["append","{k}",1],["r","y",null]]}}
{{"process":1,"type":"invoke","f":"txn","value":[["append","{k}",2],["append","y",1]]}}
{{"process":0,"type":"ok","f":"txn","value":[["append","{k}",1],["r","y",[1]]]}}
{{"process":1,"type":"ok","f":"txn","value":[["append","{k}",2],["append","y",1]]}}
{{"process":2,"type":"invoke","f":"txn","value":[["r","{k}",null]]}}
{{"process":2,"type":"ok","f":"txn","value":[["r","{k}",[1,2]]]}}"#
        );
        let h = read_jsonl(jsonl.as_bytes()).expect("parse");
        let r = check(
            &h,
            &TxnOptions {
                model: TxnModel::ListAppend,
                ..TxnOptions::default()
            },
        )
        .expect("check");
        let page = super::super::render_txn_html(&h, &r, None);
        assert!(
            !page.contains("<script>alert"),
            "unescaped key in the report"
        );
        assert!(page.contains("&lt;/svg&gt;"));
        assert_eq!(page.matches("<svg class=\"plot txn-cycle\"").count(), 1);
    }
}
