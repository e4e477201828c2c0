//! The counterexample, drawn like Knossos's `linear.svg`: one row per process in the final paths,
//! each op a bar from invoke to completion (crashed ops to the right edge) on an event-rank axis,
//! each candidate path as ticks joined by lines carrying the model state, the illegal step in
//! `#FF1E90` with its error text. Followed by the same information as an HTML table.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write;

use super::calls::{Call, Derived, Outcome};
use super::svg::{esc, esc_short, n};
use crate::checker::{Counterexample, PathStep};
use crate::history::{History, Op, OpType, Process};
use crate::report::text::op_text;

/// Paths drawn in the diagram (Jepsen also truncates `:final-paths` to 10).
const MAX_DRAWN_PATHS: usize = 10;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 40.0;
const TOP: f64 = 50.0;
const ROW: f64 = 90.0;
/// Offset of the bar inside its row (the space above holds illegal-step labels).
const BAR_TOP: f64 = 42.0;
const BAR: f64 = 22.0;

/// A bar in the diagram: a call from the history, or a synthetic one when the report's ops are
/// not found in the history (e.g. a report rendered against a different file).
#[derive(Clone)]
struct Bar {
    process: u64,
    start: u64,
    end: Option<u64>,
    outcome: Outcome,
    label: String,
}

struct Lookup<'a> {
    h: &'a History,
    calls: &'a [Call],
    /// Op index (the history's own, which may have gaps) -> (call, position of that op).
    by_index: HashMap<u64, (usize, usize)>,
}

impl Lookup<'_> {
    fn bar(&self, op: &Op) -> Bar {
        let found = self
            .by_index
            .get(&op.index)
            .filter(|(_, pos)| {
                let hop = &self.h.ops[*pos];
                hop.process == op.process && hop.f == op.f
            })
            .map(|(ci, _)| &self.calls[*ci]);
        let process = match op.process {
            Process::Client(p) => p,
            Process::Nemesis => u64::MAX,
        };
        match found {
            Some(c) => Bar {
                process,
                start: c.invoke as u64,
                end: c.complete.map(|x| x as u64),
                outcome: c.outcome,
                label: format!("{} {}", op.f, c.op(self.h).value),
            },
            None => Bar {
                process,
                start: op.index,
                end: (op.kind != OpType::Invoke).then_some(op.index),
                outcome: match op.kind {
                    OpType::Ok => Outcome::Ok,
                    OpType::Fail => Outcome::Fail,
                    _ => Outcome::Info,
                },
                label: format!("{} {}", op.f, op.value),
            },
        }
    }
}

/// A tick: one step of one or more paths at the same spot.
struct Tick {
    legal: bool,
    state: String,
    op: String,
    row: usize,
}

/// How many label characters fit in a bar from `x0` to `x1`.
fn label_chars(x0: f64, x1: f64) -> usize {
    (((x1 - x0 - 8.0) / 6.3).max(3.0) as usize).min(18)
}

/// Render the diagram and the table for one counterexample.
pub(crate) fn render(h: &History, d: &Derived, ce: &Counterexample) -> String {
    let mut by_index = HashMap::new();
    for (ci, c) in d.calls.iter().enumerate() {
        for pos in std::iter::once(c.invoke).chain(c.complete) {
            if let Some(op) = h.ops.get(pos) {
                by_index.insert(op.index, (ci, pos));
            }
        }
    }
    let lk = Lookup {
        h,
        calls: &d.calls,
        by_index,
    };
    let mut out = String::new();
    out.push_str(&diagram(&lk, ce));
    out.push_str(&super::ce_table::table(ce));
    out
}

fn diagram(lk: &Lookup, ce: &Counterexample) -> String {
    let paths: Vec<&Vec<PathStep>> = ce.final_paths.iter().take(MAX_DRAWN_PATHS).collect();
    // Bars keyed by start index: every op in the paths plus the failing op.
    let mut bars: BTreeMap<(u64, u64), Bar> = BTreeMap::new();
    let key_of = |op: &Op, bars: &mut BTreeMap<(u64, u64), Bar>| {
        let b = lk.bar(op);
        let k = (b.process, b.start);
        bars.entry(k).or_insert(b);
        k
    };
    let fail_key = key_of(&ce.op, &mut bars);
    let step_keys: Vec<Vec<(u64, u64)>> = paths
        .iter()
        .map(|p| p.iter().map(|s| key_of(&s.op, &mut bars)).collect())
        .collect();
    let procs: Vec<u64> = bars
        .keys()
        .map(|k| k.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let row_of: HashMap<u64, usize> = procs.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    // Event-rank axis: only the indices where something starts or ends get a column.
    let events: Vec<u64> = bars
        .values()
        .flat_map(|b| std::iter::once(b.start).chain(b.end))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let step = (1100.0 / (events.len() as f64 + 1.0)).clamp(40.0, 160.0);
    let width = LEFT + step * (events.len() as f64 + 1.0) + RIGHT;
    let right_edge = LEFT + step * (events.len() as f64 + 0.6);
    let ex = |i: u64| LEFT + step * events.binary_search(&i).unwrap_or(0) as f64 + step * 0.3;
    let span = |b: &Bar| (ex(b.start), b.end.map(ex).unwrap_or(right_edge));
    let row_y = |p: u64| TOP + ROW * row_of.get(&p).copied().unwrap_or(0) as f64;
    let height = TOP + ROW * procs.len() as f64 + 40.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="plot counterexample" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">"#,
        w = n(width),
        h = n(height)
    );
    legend(&mut out);
    for p in &procs {
        let label = if *p == u64::MAX {
            "nemesis".to_string()
        } else {
            format!("p{p}")
        };
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end" class="row-label">{}</text>"#,
            n(LEFT - 8.0),
            n(row_y(*p) + BAR_TOP + BAR / 2.0 + 4.0),
            esc(&label)
        );
    }
    for (k, b) in &bars {
        let (x0, x1) = span(b);
        let y = row_y(b.process) + BAR_TOP;
        let crashed = if b.end.is_none() { " (crashed)" } else { "" };
        let fail = if *k == fail_key { " failing" } else { "" };
        let _ = write!(
            out,
            r#"<rect x="{}" y="{}" width="{}" height="{BAR}" rx="4" class="op {}{fail}"><title>{}</title></rect><text x="{}" y="{}" class="bar-label">{}</text>"#,
            n(x0),
            n(y),
            n((x1 - x0).max(4.0)),
            b.outcome.name(),
            esc_short(
                &format!("#{} p{} {}{crashed}", b.start, b.process, b.label),
                300
            ),
            n(x0 + 4.0),
            n(y + BAR - 7.0),
            esc_short(&b.label, label_chars(x0, x1))
        );
    }
    // Ticks: each step sits inside its op's bar (after the bar's label), and after the previous
    // step of the same path, so a path reads left to right.
    let mut segs = HashSet::new();
    let mut ticks: BTreeMap<(i64, i64), Tick> = BTreeMap::new();
    let np = paths.len().max(1) as f64;
    for (pi, (path, keys)) in paths.iter().zip(&step_keys).enumerate() {
        let dy = (pi as f64 - (np - 1.0) / 2.0) * (BAR - 8.0) / np.max(2.0);
        let mut prev: Option<(f64, f64)> = None;
        for (s, k) in path.iter().zip(keys) {
            let Some(b) = bars.get(k) else { continue };
            let (x0, x1) = span(b);
            let first = x0
                + (label_chars(x0, x1).min(b.label.chars().count()) as f64 * 6.8 + 14.0)
                    .min((x1 - x0) * 0.5);
            let want = prev.map(|p| (p.0 + step * 0.3).max(first)).unwrap_or(first);
            let x = want.min((x1 - 5.0).max(x0 + 4.0));
            let y = row_y(b.process) + BAR_TOP + BAR / 2.0 + dy;
            if let Some((px, py)) = prev {
                segs.insert((n(px), n(py), n(x), n(y)));
            }
            let t = ticks
                .entry(((x * 10.0) as i64, (y * 10.0) as i64))
                .or_insert_with(|| Tick {
                    legal: s.legal,
                    state: s.state.clone(),
                    op: op_text(&s.op),
                    row: row_of.get(&b.process).copied().unwrap_or(0),
                });
            t.legal &= s.legal;
            prev = Some((x, y));
        }
    }
    for (x1, y1, x2, y2) in &segs {
        let _ = write!(
            out,
            r#"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" class="path-line"/>"#
        );
    }
    let mut illegal_labels: HashMap<usize, Vec<String>> = HashMap::new();
    let mut last_state_x: HashMap<usize, f64> = HashMap::new();
    for ((x10, y10), t) in &ticks {
        let (x, y) = (*x10 as f64 / 10.0, *y10 as f64 / 10.0);
        let class = if t.legal {
            "tick legal"
        } else {
            "tick illegal"
        };
        let what = if t.legal {
            "state after it"
        } else {
            "inconsistent"
        };
        let _ = write!(
            out,
            r#"<g class="{class}"><title>{}</title><line x1="{}" y1="{}" x2="{}" y2="{}"/><circle cx="{}" cy="{}" r="3"/></g>"#,
            esc_short(&format!("{}\n{what}: {}", t.op, t.state), 400),
            n(x),
            n(y - 7.0),
            n(x),
            n(y + 7.0),
            n(x),
            n(y)
        );
        let row_top = TOP + ROW * t.row as f64;
        if t.legal {
            // The model state under the tick, unless it would overlap the previous one.
            if last_state_x.get(&t.row).is_none_or(|px| x - px > 34.0) {
                let _ = write!(
                    out,
                    r#"<text x="{}" y="{}" text-anchor="middle" class="state-label">{}</text>"#,
                    n(x),
                    n(row_top + BAR_TOP + BAR + 13.0),
                    esc_short(&t.state, 12)
                );
                last_state_x.insert(t.row, x);
            }
        } else {
            let labels = illegal_labels.entry(t.row).or_default();
            if labels.len() < 3 && !labels.contains(&t.state) {
                let _ = write!(
                    out,
                    r#"<text x="{}" y="{}" class="illegal-label">{}</text>"#,
                    n(x - 3.0),
                    n(row_top + 12.0 * (labels.len() + 1) as f64 - 2.0),
                    esc_short(&format!("✗ {}", t.state), 90)
                );
                labels.push(t.state.clone());
            }
        }
    }
    out.push_str("</svg>");
    if ce.final_paths.len() > MAX_DRAWN_PATHS {
        let _ = write!(
            out,
            r#"<p class="note">Drawing {MAX_DRAWN_PATHS} of {} final paths.</p>"#,
            ce.final_paths.len()
        );
    }
    out
}

fn legend(out: &mut String) {
    let y = 10.0;
    let _ = write!(
        out,
        r#"<g class="legend"><text x="{}" y="{}">Process</text>"#,
        n(8.0),
        n(y + 10.0)
    );
    let _ = write!(
        out,
        r#"<text x="90" y="{}">Time ─▶ (event order)</text>"#,
        n(y + 10.0)
    );
    let _ = write!(
        out,
        r#"<g class="tick legal"><line x1="260" y1="{}" x2="260" y2="{}"/></g><text x="268" y="{}">Legal</text>"#,
        n(y),
        n(y + 14.0),
        n(y + 10.0)
    );
    let _ = write!(
        out,
        r#"<g class="tick illegal"><line x1="320" y1="{}" x2="320" y2="{}"/></g><text x="328" y="{}">Illegal</text>"#,
        n(y),
        n(y + 14.0),
        n(y + 10.0)
    );
    let _ = write!(
        out,
        r#"<rect x="390" y="{y}" width="14" height="14" rx="3" class="info"/><text x="408" y="{}">Crashed Op</text>"#,
        n(y + 10.0)
    );
    let _ = write!(
        out,
        r#"<rect x="490" y="{y}" width="14" height="14" rx="3" class="ok"/><text x="508" y="{}">OK Op</text>"#,
        n(y + 10.0)
    );
    let _ = write!(
        out,
        r#"<rect x="565" y="{y}" width="14" height="14" rx="3" class="op ok failing"/><text x="583" y="{}">op that could not be linearized</text></g>"#,
        n(y + 10.0)
    );
}
