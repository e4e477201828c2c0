//! Latency-over-time scatter (by op type and outcome, log scale, downsampled on a pixel grid) and
//! throughput-over-time lines (ok ops per second per time bucket), both over nemesis bands.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

use super::calls::{Derived, Outcome};
use super::svg::{self, esc, n, Scale};
use crate::history::History;

const WIDTH: f64 = 1300.0;
const HEIGHT: f64 = 340.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = HEIGHT - 45.0;
/// Upper bound on drawn latency points after grid de-duplication.
const MAX_POINTS: usize = 6000;
/// Pixel size of the de-duplication grid: one point per series per cell.
const CELL: f64 = 2.0;
/// Buckets in the throughput plot.
const TP_BUCKETS: usize = 120;

/// Stable colours for op functions, by first appearance order.
const PALETTE: [&str; 8] = [
    "#1f77b4", "#2ca02c", "#9467bd", "#e377c2", "#17becf", "#bcbd22", "#8c564b", "#7f7f7f",
];

fn f_colors(h: &History, d: &Derived) -> BTreeMap<String, &'static str> {
    let mut fs: Vec<&str> = d.calls.iter().map(|c| h.ops[c.invoke].f.as_str()).collect();
    fs.sort_unstable();
    fs.dedup();
    fs.iter()
        .enumerate()
        .map(|(i, f)| (f.to_string(), PALETTE[i % PALETTE.len()]))
        .collect()
}

fn open(out: &mut String, class: &str) {
    let _ = write!(
        out,
        r#"<svg class="plot {class}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">"#,
        w = n(WIDTH),
        h = n(HEIGHT)
    );
}

fn marker(out: &mut String, o: Outcome, x: f64, y: f64, color: &str) {
    match o {
        Outcome::Ok => {
            let _ = write!(
                out,
                r#"<circle cx="{}" cy="{}" r="2" fill="{color}"/>"#,
                n(x),
                n(y)
            );
        }
        Outcome::Info => {
            let _ = write!(
                out,
                r#"<path d="M{} {}l3 5h-6z" fill="none" stroke="{color}"/>"#,
                n(x),
                n(y - 3.0)
            );
        }
        Outcome::Fail => {
            let _ = write!(
                out,
                r#"<path d="M{} {}l5 5m0 -5l-5 5" stroke="{color}"/>"#,
                n(x - 2.5),
                n(y - 2.5)
            );
        }
    }
}

/// Render the latency scatter; `None` when the history has no timestamps.
pub(crate) fn latency(h: &History, d: &Derived) -> Option<String> {
    if !d.axis.wall {
        return None;
    }
    let pts: Vec<(f64, f64, &str, Outcome)> = d
        .calls
        .iter()
        .filter_map(|c| {
            Some((
                c.start,
                ((c.end? - c.start) * 1e3).max(1e-3),
                h.ops[c.invoke].f.as_str(),
                c.outcome,
            ))
        })
        .collect();
    let colors = f_colors(h, d);
    let (mut lo, mut hi) = (f64::INFINITY, 0f64);
    for p in &pts {
        lo = lo.min(p.1);
        hi = hi.max(p.1);
    }
    if pts.is_empty() {
        (lo, hi) = (0.1, 10.0);
    }
    let (l0, l1) = (
        lo.log10().floor(),
        hi.log10().ceil().max(lo.log10().floor() + 1.0),
    );
    let sx = Scale {
        d0: d.axis.min,
        d1: d.axis.max,
        p0: LEFT,
        p1: WIDTH - RIGHT,
    };
    let sy = Scale {
        d0: l0,
        d1: l1,
        p0: BOTTOM,
        p1: TOP,
    };
    let mut out = String::new();
    open(&mut out, "latency");
    svg::bands(&mut out, &d.bands, &sx, TOP, BOTTOM);
    svg::x_axis(&mut out, &d.axis, &sx, TOP, BOTTOM);
    let mut e = l0;
    while e <= l1 + 1e-9 {
        let y = n(sy.at(e));
        let _ = write!(
            out,
            r#"<line x1="{}" x2="{}" y1="{y}" y2="{y}" class="grid"/><text x="{}" y="{y}" text-anchor="end" dy="4">{}</text>"#,
            n(LEFT),
            n(WIDTH - RIGHT),
            n(LEFT - 6.0),
            svg::tick_label(10f64.powf(e))
        );
        e += 1.0;
    }
    let _ = write!(
        out,
        r#"<text transform="translate(20 {}) rotate(-90)" text-anchor="middle" class="axis-label">latency (ms, log)</text>"#,
        n((TOP + BOTTOM) / 2.0)
    );
    // One point per (series, pixel cell): keeps outliers and shape, bounds the size.
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    for p in &pts {
        let (x, y) = (sx.at(p.0), sy.at(p.1.log10()));
        if seen.insert((p.2, p.3, (x / CELL) as i64, (y / CELL) as i64)) {
            kept.push((x, y, p.2, p.3));
        }
    }
    let stride = kept.len().div_ceil(MAX_POINTS).max(1);
    // Draw ok first so rarer fail/info markers stay visible on top.
    kept.sort_by_key(|p| p.3);
    out.push_str(r#"<g class="points">"#);
    let mut drawn = 0;
    for (i, p) in kept.iter().enumerate() {
        if p.3 == Outcome::Ok && i % stride != 0 {
            continue;
        }
        drawn += 1;
        marker(
            &mut out,
            p.3,
            p.0,
            p.1,
            colors.get(p.2).copied().unwrap_or("#333"),
        );
    }
    out.push_str("</g>");
    let mut x = LEFT;
    for (f, c) in &colors {
        svg::legend_item(&mut out, x, 8.0, c, f, 1.0);
        x += 30.0 + 7.0 * f.chars().count().min(20) as f64;
    }
    for (o, sym) in [
        (Outcome::Ok, "● ok"),
        (Outcome::Info, "△ info"),
        (Outcome::Fail, "× fail"),
    ] {
        let _ = write!(
            out,
            r#"<text x="{}" y="18" class="{}-sym">{sym}</text>"#,
            n(x),
            o.name()
        );
        x += 55.0;
    }
    let note = if drawn < pts.len() {
        format!(
            "{drawn} of {} points drawn (one per {CELL}px cell and series; ok points thinned)",
            pts.len()
        )
    } else {
        format!("{} points", pts.len())
    };
    let _ = write!(
        out,
        r#"<text x="{}" y="18" class="note">{}</text>"#,
        n(x + 10.0),
        esc(&note)
    );
    svg::band_legend(&mut out, &d.bands, WIDTH - 330.0, HEIGHT - 16.0);
    out.push_str("</svg>");
    Some(out)
}

/// Render the throughput plot; `None` when the history has no timestamps.
pub(crate) fn throughput(h: &History, d: &Derived) -> Option<String> {
    if !d.axis.wall {
        return None;
    }
    let colors = f_colors(h, d);
    let span = d.axis.max - d.axis.min;
    let bspan = span / TP_BUCKETS as f64;
    let mut series: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut total = vec![0f64; TP_BUCKETS];
    for c in d.calls.iter().filter(|c| c.outcome == Outcome::Ok) {
        let Some(end) = c.end else { continue };
        let b = (((end - d.axis.min) / span) * TP_BUCKETS as f64)
            .floor()
            .clamp(0.0, (TP_BUCKETS - 1) as f64) as usize;
        series
            .entry(h.ops[c.invoke].f.as_str())
            .or_insert_with(|| vec![0.0; TP_BUCKETS])[b] += 1.0 / bspan;
        total[b] += 1.0 / bspan;
    }
    let ymax = total.iter().cloned().fold(1.0, f64::max) * 1.1;
    let sx = Scale {
        d0: d.axis.min,
        d1: d.axis.max,
        p0: LEFT,
        p1: WIDTH - RIGHT,
    };
    let sy = Scale {
        d0: 0.0,
        d1: ymax,
        p0: BOTTOM,
        p1: TOP,
    };
    let mut out = String::new();
    open(&mut out, "throughput");
    svg::bands(&mut out, &d.bands, &sx, TOP, BOTTOM);
    svg::x_axis(&mut out, &d.axis, &sx, TOP, BOTTOM);
    for t in svg::ticks(0.0, ymax, 5) {
        let y = n(sy.at(t));
        let _ = write!(
            out,
            r#"<line x1="{}" x2="{}" y1="{y}" y2="{y}" class="grid"/><text x="{}" y="{y}" text-anchor="end" dy="4">{}</text>"#,
            n(LEFT),
            n(WIDTH - RIGHT),
            n(LEFT - 6.0),
            svg::tick_label(t)
        );
    }
    let _ = write!(
        out,
        r#"<text transform="translate(20 {}) rotate(-90)" text-anchor="middle" class="axis-label">ok ops / s</text>"#,
        n((TOP + BOTTOM) / 2.0)
    );
    let line = |out: &mut String, vals: &[f64], color: &str, width: f64, name: &str| {
        let mut d_attr = String::new();
        for (i, v) in vals.iter().enumerate() {
            let x = sx.at(d.axis.min + bspan * (i as f64 + 0.5));
            let _ = write!(
                d_attr,
                "{}{} {}",
                if i == 0 { "M" } else { "L" },
                n(x),
                n(sy.at(*v))
            );
        }
        let _ = write!(
            out,
            r#"<path d="{d_attr}" fill="none" stroke="{color}" stroke-width="{width}"><title>{}</title></path>"#,
            esc(name)
        );
    };
    line(&mut out, &total, "#222", 2.0, "all ok ops");
    for (f, vals) in &series {
        line(
            &mut out,
            vals,
            colors.get(*f).copied().unwrap_or("#333"),
            1.2,
            &format!("ok {f}"),
        );
    }
    let mut x = LEFT;
    svg::legend_item(&mut out, x, 8.0, "#222", "all", 1.0);
    x += 50.0;
    for (f, c) in &colors {
        svg::legend_item(&mut out, x, 8.0, c, f, 1.0);
        x += 30.0 + 7.0 * f.chars().count().min(20) as f64;
    }
    let _ = write!(
        out,
        r#"<text x="{}" y="18" class="note">{}</text>"#,
        n(x + 10.0),
        esc(&format!("{TP_BUCKETS} buckets of {:.3} s", bspan))
    );
    svg::band_legend(&mut out, &d.bands, WIDTH - 330.0, HEIGHT - 16.0);
    out.push_str("</svg>");
    Some(out)
}
