//! The operations timeline: one row per client process, one bar per op from invoke to completion
//! (crashed ops run to the right edge), coloured by outcome, over nemesis bands. Past
//! [`DETAIL_MAX`] ops it aggregates ops into time buckets per process group instead.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::calls::{Call, Derived, Outcome};
use super::svg::{self, esc_short, n, Scale};
use crate::history::History;

/// Above this many client ops the timeline draws buckets instead of one bar per op.
pub const DETAIL_MAX: usize = 2000;
/// Time buckets per row in the aggregated timeline.
const BUCKETS: usize = 160;
/// Rows in the aggregated timeline when processes are grouped by id range.
const MAX_GROUPS: usize = 32;

const WIDTH: f64 = 1300.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 20.0;
/// The nemesis lane sits between the legend and the first row.
const LANE_TOP: f64 = 30.0;
const LANE_BOTTOM: f64 = 40.0;
const TOP: f64 = 46.0;

/// Human text describing one call (tooltip and tables).
pub(crate) fn describe(h: &History, c: &Call, wall: bool) -> String {
    let inv = &h.ops[c.invoke];
    let op = c.op(h);
    let mut s = format!("#{} p{} {} {}", op.index, c.process, op.f, op.value);
    if let Some(k) = &inv.key {
        let _ = write!(s, " key={k}");
    }
    let _ = write!(
        s,
        " → {}",
        if c.complete.is_some() {
            c.outcome.name()
        } else {
            "crashed (no completion)"
        }
    );
    if let (true, Some(e)) = (wall, c.end) {
        let _ = write!(s, " in {:.3} ms", (e - c.start) * 1e3);
    }
    if let Some(node) = &op.node {
        let _ = write!(s, " node={node}");
    }
    if let Some(err) = &op.error {
        let _ = write!(s, " error={err}");
    }
    s
}

/// Render the timeline section's SVG.
/// `failing` holds history indices of ops that could not be linearized (outlined in pink).
pub(crate) fn render(h: &History, d: &Derived, group_mod: Option<u64>, failing: &[u64]) -> String {
    if d.calls.len() <= DETAIL_MAX {
        detailed(h, d, failing)
    } else {
        aggregated(d, group_mod)
    }
}

fn frame(out: &mut String, d: &Derived, height: f64, rows_bottom: f64) -> Scale {
    let sx = Scale {
        d0: d.axis.min,
        d1: d.axis.max,
        p0: LEFT,
        p1: WIDTH - RIGHT,
    };
    let _ = write!(
        out,
        r#"<svg class="plot timeline" viewBox="0 0 {} {}" width="{}" height="{}" xmlns="http://www.w3.org/2000/svg">"#,
        n(WIDTH),
        n(height),
        n(WIDTH),
        n(height)
    );
    svg::bands(out, &d.bands, &sx, TOP, rows_bottom);
    svg::band_lane(out, &d.bands, &sx, LANE_TOP, LANE_BOTTOM);
    svg::x_axis(out, &d.axis, &sx, TOP, rows_bottom);
    sx
}

fn legend(out: &mut String, d: &Derived, y: f64, note: &str) {
    let mut x = LEFT;
    for o in [Outcome::Ok, Outcome::Info, Outcome::Fail] {
        svg::legend_item(out, x, y, o.color(), o.name(), 1.0);
        x += 60.0;
    }
    x = svg::band_legend(out, &d.bands, x + 10.0, y);
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" class="note">{}</text>"#,
        n(x + 10.0),
        n(y + 10.0),
        svg::esc(note)
    );
}

fn detailed(h: &History, d: &Derived, failing: &[u64]) -> String {
    let mut procs: Vec<u64> = d.calls.iter().map(|c| c.process).collect();
    procs.sort_unstable();
    procs.dedup();
    let row_of: BTreeMap<u64, usize> = procs.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    let rh = (700.0 / procs.len().max(1) as f64).clamp(4.0, 20.0);
    let rows_bottom = TOP + rh * procs.len().max(1) as f64;
    let height = rows_bottom + 60.0;
    let mut out = String::new();
    let sx = frame(&mut out, d, height, rows_bottom);
    legend(
        &mut out,
        d,
        8.0,
        &format!("{} ops, one bar per op", d.calls.len()),
    );
    if rh >= 8.0 {
        for (i, p) in procs.iter().enumerate() {
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" text-anchor="end" class="row-label">p{p}</text>"#,
                n(LEFT - 6.0),
                n(TOP + rh * i as f64 + rh * 0.7)
            );
        }
    }
    for c in &d.calls {
        let row = row_of.get(&c.process).copied().unwrap_or(0);
        let x0 = sx.at(c.start);
        let x1 = sx.at(c.end.unwrap_or(d.axis.max));
        let w = (x1 - x0).max(1.5);
        let y = TOP + rh * row as f64 + 1.0;
        let fail = match c.complete {
            // `failing` holds op indices, which may have gaps; `i` is a position.
            Some(i) if h.ops.get(i).is_some_and(|o| failing.contains(&o.index)) => " failing",
            _ => "",
        };
        let _ = write!(
            out,
            r#"<rect x="{}" y="{}" width="{}" height="{}" rx="2" class="op {}{fail}"><title>{}</title></rect>"#,
            n(x0),
            n(y),
            n(w),
            n(rh - 2.0),
            c.outcome.name(),
            esc_short(&describe(h, c, d.axis.wall), 300)
        );
        if w > 70.0 && rh >= 12.0 {
            let op = c.op(h);
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" class="bar-label">{}</text>"#,
                n(x0 + 3.0),
                n(y + rh * 0.65),
                esc_short(
                    &format!("{} {}", op.f, op.value),
                    ((w - 6.0) / 6.5) as usize
                )
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Process group of `p`: `p mod clients` when the client count is known (Jepsen re-numbers a
/// crashed thread as p + clients), else ranges of ids.
fn groups(calls: &[Call], group_mod: Option<u64>) -> (Vec<String>, BTreeMap<u64, usize>) {
    let mut procs: Vec<u64> = calls.iter().map(|c| c.process).collect();
    procs.sort_unstable();
    procs.dedup();
    let mut row_of = BTreeMap::new();
    if let Some(m) = group_mod.filter(|m| *m > 0 && *m as usize <= 4 * MAX_GROUPS) {
        let mut threads: Vec<u64> = procs.iter().map(|p| p % m).collect();
        threads.sort_unstable();
        threads.dedup();
        for p in &procs {
            let t = p % m;
            row_of.insert(*p, threads.binary_search(&t).unwrap_or(0));
        }
        let names = threads.iter().map(|t| format!("p≡{t} mod {m}")).collect();
        return (names, row_of);
    }
    let per = procs.len().div_ceil(MAX_GROUPS).max(1);
    let mut names = Vec::new();
    for (gi, chunk) in procs.chunks(per).enumerate() {
        for p in chunk {
            row_of.insert(*p, gi);
        }
        let (a, b) = (chunk[0], chunk[chunk.len() - 1]);
        names.push(if a == b {
            format!("p{a}")
        } else {
            format!("p{a}–p{b}")
        });
    }
    (names, row_of)
}

fn aggregated(d: &Derived, group_mod: Option<u64>) -> String {
    let (names, row_of) = groups(&d.calls, group_mod);
    let rows = names.len().max(1);
    let mut counts = vec![[0u32; 3]; rows * BUCKETS];
    let span = d.axis.max - d.axis.min;
    for c in &d.calls {
        let b = (((c.start - d.axis.min) / span) * BUCKETS as f64)
            .floor()
            .clamp(0.0, (BUCKETS - 1) as f64) as usize;
        let r = row_of.get(&c.process).copied().unwrap_or(0);
        let o = match c.outcome {
            Outcome::Ok => 0,
            Outcome::Info => 1,
            Outcome::Fail => 2,
        };
        counts[r * BUCKETS + b][o] += 1;
    }
    let max = counts
        .iter()
        .map(|c| c.iter().sum::<u32>())
        .max()
        .unwrap_or(1)
        .max(1);
    let rh = (640.0 / rows as f64).clamp(10.0, 22.0);
    let rows_bottom = TOP + rh * rows as f64;
    let mut out = String::new();
    let sx = frame(&mut out, d, rows_bottom + 60.0, rows_bottom);
    legend(
        &mut out,
        d,
        8.0,
        &format!(
            "{} ops in {} time buckets per row; bar height = share by outcome, opacity = count (max {max})",
            d.calls.len(),
            BUCKETS
        ),
    );
    for (i, name) in names.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end" class="row-label">{}</text>"#,
            n(LEFT - 6.0),
            n(TOP + rh * i as f64 + rh * 0.7),
            svg::esc(name)
        );
    }
    let bw = (sx.p1 - sx.p0) / BUCKETS as f64;
    let bspan = span / BUCKETS as f64;
    for r in 0..rows {
        for b in 0..BUCKETS {
            let cnt = counts[r * BUCKETS + b];
            let total: u32 = cnt.iter().sum();
            if total == 0 {
                continue;
            }
            let x = sx.p0 + bw * b as f64;
            let opacity = 0.35 + 0.65 * (total as f64 / max as f64);
            let t0 = d.axis.min + bspan * b as f64;
            let _ = write!(
                out,
                r#"<g opacity="{:.2}"><title>{}, {}–{}: {} ok, {} info, {} fail</title>"#,
                opacity,
                svg::esc(&names[r]),
                svg::tick_label((t0 * 1000.0).round() / 1000.0),
                svg::tick_label(((t0 + bspan) * 1000.0).round() / 1000.0),
                cnt[0],
                cnt[1],
                cnt[2]
            );
            let mut y = TOP + rh * r as f64 + 1.0;
            for (k, o) in [Outcome::Ok, Outcome::Info, Outcome::Fail]
                .iter()
                .enumerate()
            {
                if cnt[k] == 0 {
                    continue;
                }
                let hgt = (rh - 2.0) * cnt[k] as f64 / total as f64;
                let _ = write!(
                    out,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" class="{}"/>"#,
                    n(x),
                    n(y),
                    n(bw.max(1.0)),
                    n(hgt.max(0.5)),
                    o.name()
                );
                y += hgt;
            }
            out.push_str("</g>");
        }
    }
    out.push_str("</svg>");
    out
}
