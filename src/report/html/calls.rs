//! Derived views of a history for plotting: client calls (an invoke paired with its completion),
//! nemesis fault intervals, and the time axis the plots share.

use std::collections::HashMap;

use serde_json::Value;

use crate::history::{History, Op, OpType, Process};

/// How a client call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Outcome {
    /// Completed `ok`.
    Ok,
    /// Completed `info` or never completed (crashed: may or may not have happened).
    Info,
    /// Completed `fail`.
    Fail,
}

impl Outcome {
    /// CSS class / legend name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Info => "info",
            Outcome::Fail => "fail",
        }
    }

    /// Fill colour, as in Knossos's timeline and linear.svg.
    pub(crate) fn color(self) -> &'static str {
        match self {
            Outcome::Ok => "#6DB6FE",
            Outcome::Info => "#FFAA26",
            Outcome::Fail => "#FEB5DA",
        }
    }
}

/// One client operation: its invoke and (if any) its completion.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// Client process id.
    pub process: u64,
    /// Index of the invoke in the history.
    pub invoke: usize,
    /// Index of the completion, `None` when the op never completed.
    pub complete: Option<usize>,
    /// How it ended.
    pub outcome: Outcome,
    /// Start on the shared time axis.
    pub start: f64,
    /// End on the shared time axis; `None` when it never completed.
    pub end: Option<f64>,
}

impl Call {
    /// The op that best describes the call: the completion when there is one, else the invoke.
    pub(crate) fn op<'h>(&self, h: &'h History) -> &'h Op {
        &h.ops[self.complete.unwrap_or(self.invoke)]
    }
}

/// One nemesis fault interval (a shaded band).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Band {
    /// Fault category: `kill`, `pause`, `partition`, or the raw verb for unknown ones.
    pub kind: String,
    /// The value recorded with the start op (e.g. the partition), for the tooltip.
    pub label: String,
    /// Start on the shared time axis.
    pub start: f64,
    /// End on the shared time axis (the end of the history if never healed).
    pub end: f64,
}

/// The shared time axis: wall time in seconds when every op has a `time`, else history index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Axis {
    /// True when positions are seconds since the test started; false when they are op indices.
    pub wall: bool,
    /// Smallest position.
    pub min: f64,
    /// Largest position (> min).
    pub max: f64,
}

impl Axis {
    /// Axis label.
    pub(crate) fn label(&self) -> &'static str {
        if self.wall {
            "time (s)"
        } else {
            "history index (no timestamps recorded)"
        }
    }
}

/// Everything the plots derive from a history, computed once.
pub(crate) struct Derived {
    /// Client calls in invoke order.
    pub calls: Vec<Call>,
    /// Nemesis fault intervals.
    pub bands: Vec<Band>,
    /// The time axis.
    pub axis: Axis,
}

/// Position of `op` on the axis.
fn pos(op: &Op, wall: bool) -> f64 {
    match (wall, op.time) {
        (true, Some(t)) => t as f64 / 1e9,
        _ => op.index as f64,
    }
}

/// Pair invokes with completions, derive fault bands and the axis.
pub(crate) fn derive(h: &History) -> Derived {
    let wall = !h.ops.is_empty() && h.ops.iter().all(|o| o.time.is_some());
    let mut calls: Vec<Call> = Vec::new();
    let mut open: HashMap<u64, usize> = HashMap::new();
    for (i, op) in h.ops.iter().enumerate() {
        let Process::Client(p) = op.process else {
            continue;
        };
        match op.kind {
            OpType::Invoke => {
                open.insert(p, calls.len());
                calls.push(Call {
                    process: p,
                    invoke: i,
                    complete: None,
                    outcome: Outcome::Info,
                    start: pos(op, wall),
                    end: None,
                });
            }
            kind => {
                // A completion without an invoke is ill-formed; skip it rather than guess.
                let Some(ci) = open.remove(&p) else { continue };
                let c = &mut calls[ci];
                c.complete = Some(i);
                c.end = Some(pos(op, wall));
                c.outcome = match kind {
                    OpType::Ok => Outcome::Ok,
                    OpType::Fail => Outcome::Fail,
                    _ => Outcome::Info,
                };
            }
        }
    }
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for op in &h.ops {
        let x = pos(op, wall);
        min = min.min(x);
        max = max.max(x);
    }
    if !min.is_finite() {
        (min, max) = (0.0, 1.0);
    }
    if max <= min {
        max = min + 1.0;
    }
    let axis = Axis { wall, min, max };
    let bands = bands(h, wall, max);
    Derived { calls, bands, axis }
}

/// Which fault a nemesis verb starts (`Some(true, kind)`) or ends (`Some(false, kind)`).
fn classify(f: &str) -> Option<(bool, &'static str)> {
    Some(match f {
        // A power loss kills the node too; the restart ends both.
        "kill" | "crash" | "lose-unfsynced" | "torn-write" => (true, "kill"),
        "restart" | "recover" | "revive" => (false, "kill"),
        "pause" | "stop-process" => (true, "pause"),
        "resume" | "cont" | "continue" => (false, "pause"),
        "partition" | "isolate" | "start" | "partition-start" => (true, "partition"),
        "heal" | "stop" | "partition-stop" => (false, "partition"),
        "clock-skew" | "clock-strobe" | "skew" | "bump-clock" | "strobe-clock" => (true, "clock"),
        "reset-clock" | "clock-reset" => (false, "clock"),
        "delay" | "slow" | "flaky" | "loss" => (true, "link"),
        "restore-links" => (false, "link"),
        "disk-error" | "disk-full" => (true, "disk"),
        "disk-heal" => (false, "disk"),
        _ => return None,
    })
}

fn text(v: &Value) -> String {
    crate::nemesis::note::describe(v)
}

/// Fault bands from nemesis ops. A start verb opens a band of its kind (repeated starts, e.g. a
/// Jepsen invoke/info pair, keep the first); an end verb closes it. Unknown verbs become
/// zero-width markers. Bands never closed run to `end`.
fn bands(h: &History, wall: bool, end: f64) -> Vec<Band> {
    let mut out: Vec<Band> = Vec::new();
    let mut open: HashMap<&'static str, usize> = HashMap::new();
    let not_a_fault = [
        crate::nemesis::coverage::LEFT_OUT,
        crate::nemesis::coverage::WARNING,
        crate::nemesis::coverage::FAMILIES,
        crate::nemesis::coverage::FAULT_END,
    ];
    for op in h
        .ops
        .iter()
        .filter(|o| o.process == Process::Nemesis && !not_a_fault.contains(&o.f.as_str()))
    {
        let x = pos(op, wall);
        match classify(&op.f) {
            Some((true, kind)) => {
                if let Some(&bi) = open.get(kind) {
                    // Same fault recorded twice (invoke + completion): keep the richer label.
                    let label = text(&op.value);
                    if !label.is_empty() {
                        out[bi].label = label;
                    }
                } else {
                    open.insert(kind, out.len());
                    out.push(Band {
                        kind: kind.to_string(),
                        label: text(&op.value),
                        start: x,
                        end: f64::NAN,
                    });
                }
            }
            Some((false, kind)) => {
                if let Some(bi) = open.remove(kind) {
                    out[bi].end = x;
                } else if let Some(b) = out.iter_mut().rev().find(|b| b.kind == kind) {
                    // The completion of an end verb we already saw: extend to it.
                    if b.end.is_finite() && x >= b.end {
                        b.end = x;
                    }
                }
            }
            None => out.push(Band {
                kind: op.f.clone(),
                label: text(&op.value),
                start: x,
                end: x,
            }),
        }
    }
    for b in &mut out {
        if !b.end.is_finite() {
            b.end = end;
        }
    }
    out
}

/// Bands from `results.json` fault records, for histories without nemesis ops.
pub(crate) fn bands_from_faults(
    faults: &[crate::report::results::FaultRecord],
    wall: bool,
    end: f64,
) -> Vec<Band> {
    if !wall {
        return Vec::new();
    }
    faults
        .iter()
        .map(|f| Band {
            kind: classify(&f.f)
                .map(|(_, k)| k.to_string())
                .unwrap_or_else(|| f.f.clone()),
            label: f.value.clone(),
            start: f.start_ns as f64 / 1e9,
            end: f.end_ns.map(|e| e as f64 / 1e9).unwrap_or(end),
        })
        .collect()
}

/// Fill colour of a fault band.
pub(crate) fn band_color(kind: &str) -> &'static str {
    match kind {
        "kill" => "#d62728",
        "pause" => "#9467bd",
        "partition" => "#7f7f7f",
        "clock" => "#2ca02c",
        "link" => "#1f77b4",
        "disk" => "#ff7f0e",
        _ => "#8c564b",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(i: u64, p: Process, kind: OpType, f: &str, v: Value) -> Op {
        Op {
            index: i,
            time: None,
            process: p,
            kind,
            f: f.into(),
            key: None,
            value: v,
            node: None,
            error: None,
        }
    }

    #[test]
    fn pairs_calls_and_marks_crashed_ops_info() {
        let h = History {
            ops: vec![
                op(0, Process::Client(0), OpType::Invoke, "write", json!(1)),
                op(1, Process::Client(1), OpType::Invoke, "read", Value::Null),
                op(2, Process::Client(0), OpType::Ok, "write", json!(1)),
                op(3, Process::Client(2), OpType::Invoke, "cas", json!([1, 2])),
                op(4, Process::Client(2), OpType::Fail, "cas", json!([1, 2])),
            ],
        };
        let d = derive(&h);
        let got: Vec<_> = d
            .calls
            .iter()
            .map(|c| (c.process, c.outcome, c.complete))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, Outcome::Ok, Some(2)),
                (1, Outcome::Info, None),
                (2, Outcome::Fail, Some(4))
            ]
        );
        assert!(!d.axis.wall);
    }

    #[test]
    fn nemesis_start_stop_pairs_become_bands() {
        let n = Process::Nemesis;
        let h = History {
            ops: vec![
                op(0, n, OpType::Info, "start", Value::Null),
                op(1, n, OpType::Info, "start", json!("Cut off [n1] [n2 n3]")),
                op(2, n, OpType::Info, "stop", Value::Null),
                op(3, n, OpType::Info, "stop", json!("fully connected")),
                op(4, n, OpType::Info, "kill", json!("n1")),
                op(5, n, OpType::Info, "frobnicate", Value::Null),
            ],
        };
        let d = derive(&h);
        assert_eq!(d.bands.len(), 3);
        assert_eq!(d.bands[0].kind, "partition");
        assert_eq!(d.bands[0].label, "Cut off [n1] [n2 n3]");
        assert_eq!((d.bands[0].start, d.bands[0].end), (0.0, 3.0));
        assert_eq!((d.bands[1].kind.as_str(), d.bands[1].end), ("kill", 5.0));
        assert_eq!((d.bands[2].start, d.bands[2].end), (5.0, 5.0));
    }
}
