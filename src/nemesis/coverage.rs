//! Fault coverage, as data, computed from a history alone (so `faultline report` gets it for a
//! stored run too): which fault kinds hit which roles, how often and for how long, and for each
//! fault window how many client ops completed ok / fail / info while it lasted (availability).
//!
//! A fault window opens at a nemesis op carrying a [`FaultNote`] (the first op of a scheduled
//! fault; its identical "done" record right after it is the same fault) and closes at the last
//! nemesis op before the next window opens (the undo's "done" record), or at the last nemesis op
//! of the history. When faults overlap, every note carries an `id` and the window closes at the
//! [`FAULT_END`] op with that id instead. The runner also records, before the first fault, which
//! optional faults were [`LEFT_OUT`] and any [`WARNING`]s, and a families schedule records the
//! [`FAMILIES`] it will visit; all are collected here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::note::{describe, FaultNote, TargetRole};
use crate::history::{History, OpType, Process};
use crate::net::NodeId;

/// The nemesis op naming the optional faults a run left out: value `{"fault": "why", ...}`.
pub const LEFT_OUT: &str = "left-out";
/// A nemesis op carrying a warning about the run's faults (value: the text).
pub const WARNING: &str = "warning";
/// The nemesis op of an `order = "families"` schedule naming its families and their faults:
/// value `{"family": ["fault", ...], ...}`.
pub const FAMILIES: &str = "families";
/// The nemesis op that closes an overlapping fault's window: value `{"ends": id, "fault": ...}`.
pub const FAULT_END: &str = "fault-end";

/// Client ops that completed in some span of time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    /// Completed `ok`.
    pub ok: u64,
    /// Completed `fail`.
    pub fail: u64,
    /// Completed `info` (unknown outcome).
    pub info: u64,
    /// Length of the span, seconds.
    pub seconds: f64,
    /// `ok / seconds` (0 for an empty span).
    pub ok_per_s: f64,
}

impl Availability {
    fn add(&mut self, kind: OpType) {
        match kind {
            OpType::Ok => self.ok += 1,
            OpType::Fail => self.fail += 1,
            _ => self.info += 1,
        }
    }

    fn merge(&mut self, other: &Availability) {
        self.ok += other.ok;
        self.fail += other.fail;
        self.info += other.info;
        self.seconds += other.seconds;
    }

    fn finish(&mut self) {
        self.ok_per_s = if self.seconds > 0.0 {
            self.ok as f64 / self.seconds
        } else {
            0.0
        };
    }
}

/// One fault, from its first op to the end of its undo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultWindow {
    /// The schedule's fault kind.
    pub fault: String,
    /// What the first op did, for humans.
    pub desc: String,
    /// The nodes it hit, with their roles when it started.
    pub targets: BTreeMap<NodeId, TargetRole>,
    /// Start, nanoseconds since the test started.
    pub start_ns: i64,
    /// End, nanoseconds since the test started.
    pub end_ns: i64,
    /// Client ops that completed inside the window.
    pub ops: Availability,
}

/// One fault kind against one role: every window of that kind that hit a node in that role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleRow {
    /// The fault kind.
    pub fault: String,
    /// The role of (at least one of) the nodes it hit.
    pub role: TargetRole,
    /// How many windows.
    pub count: u64,
    /// Their total length, seconds.
    pub total_s: f64,
    /// Client ops that completed inside them.
    pub ops: Availability,
}

/// The fault coverage of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Per fault kind and role, sorted by kind then role.
    pub by_role: Vec<RoleRow>,
    /// Every fault window, in order.
    pub windows: Vec<FaultWindow>,
    /// Whether any fault hit the node that led when it started.
    pub hit_leader: bool,
    /// Client ops that completed outside every fault window (the baseline).
    pub quiet: Availability,
    /// Optional faults the run could not do, with what was missing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub left_out: BTreeMap<String, String>,
    /// Warnings about the run's faults (e.g. a node binary libfaketime cannot reach).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// `order = "families"` schedules: the families the run set out to hit, each with its faults.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub families: BTreeMap<String, Vec<String>>,
}

impl Coverage {
    /// Compute the coverage of `history` (ops without a time count at time 0).
    pub fn from_history(history: &History) -> Coverage {
        let mut cov = Coverage::default();
        let mut open: Option<FaultWindow> = None;
        // Windows of overlapping faults, by id, until their `fault-end`.
        let mut open_ids: BTreeMap<u64, FaultWindow> = BTreeMap::new();
        let mut last_nemesis: Option<(&str, &Value, i64)> = None;
        let (mut first_t, mut last_t) = (i64::MAX, i64::MIN);
        for op in &history.ops {
            let t = op.time.unwrap_or(0);
            first_t = first_t.min(t);
            last_t = last_t.max(t);
            if op.process != Process::Nemesis {
                continue;
            }
            match op.f.as_str() {
                LEFT_OUT => {
                    if let Some(m) = op.value.as_object() {
                        for (k, v) in m {
                            cov.left_out.insert(k.clone(), describe(v));
                        }
                    }
                    continue;
                }
                WARNING => {
                    cov.warnings.push(describe(&op.value));
                    continue;
                }
                FAMILIES => {
                    if let Some(m) = op.value.as_object() {
                        for (family, kinds) in m {
                            let kinds = kinds.as_array().map_or_else(Vec::new, |a| {
                                a.iter().map(describe).collect::<Vec<String>>()
                            });
                            cov.families.insert(family.clone(), kinds);
                        }
                    }
                    continue;
                }
                FAULT_END => {
                    let id = op.value.get("ends").and_then(Value::as_u64);
                    if let Some(mut w) = id.and_then(|id| open_ids.remove(&id)) {
                        w.end_ns = t.max(w.start_ns);
                        cov.windows.push(w);
                    }
                    continue;
                }
                _ => {}
            }
            let repeat = last_nemesis.is_some_and(|(f, v, _)| f == op.f && *v == op.value);
            if let (false, Some(note)) = (repeat, FaultNote::from_value(&op.value)) {
                if let Some(mut w) = open.take() {
                    w.end_ns = last_nemesis.map_or(w.start_ns, |(.., t)| t).max(w.start_ns);
                    cov.windows.push(w);
                }
                let w = FaultWindow {
                    fault: note.fault,
                    desc: note.desc,
                    targets: note.targets,
                    start_ns: t,
                    end_ns: t,
                    ops: Availability::default(),
                };
                match note.id {
                    Some(id) => {
                        open_ids.insert(id, w);
                    }
                    None => open = Some(w),
                }
            }
            last_nemesis = Some((op.f.as_str(), &op.value, t));
        }
        let last = last_nemesis.map(|(.., t)| t);
        for mut w in open.into_iter().chain(open_ids.into_values()) {
            w.end_ns = last.map_or(w.start_ns, |t| t).max(w.start_ns);
            cov.windows.push(w);
        }
        cov.windows.sort_by_key(|w| w.start_ns);
        cov.count_ops(history, first_t, last_t);
        cov.summarise();
        cov
    }

    /// Attribute every client completion to the window it falls in, or to `quiet`.
    fn count_ops(&mut self, history: &History, first_t: i64, last_t: i64) {
        for op in &history.ops {
            if !matches!(op.process, Process::Client(_)) || op.kind == OpType::Invoke {
                continue;
            }
            let t = op.time.unwrap_or(0);
            // Windows are sorted by start and may overlap: every one that holds `t` counts it.
            let i = self.windows.partition_point(|w| w.start_ns <= t);
            let mut inside = false;
            for w in self.windows[..i].iter_mut().filter(|w| t <= w.end_ns) {
                w.ops.add(op.kind);
                inside = true;
            }
            if !inside {
                self.quiet.add(op.kind);
            }
        }
        // Time inside some window: the union of the windows, which are sorted by start.
        let mut faulty = 0.0;
        let mut covered_to = i64::MIN;
        for w in &mut self.windows {
            w.ops.seconds = (w.end_ns - w.start_ns) as f64 / 1e9;
            let from = w.start_ns.max(covered_to);
            if w.end_ns > from {
                faulty += (w.end_ns - from) as f64 / 1e9;
            }
            covered_to = covered_to.max(w.end_ns);
            w.ops.finish();
        }
        let span = if last_t > first_t {
            (last_t - first_t) as f64 / 1e9
        } else {
            0.0
        };
        self.quiet.seconds = (span - faulty).max(0.0);
        self.quiet.finish();
    }

    fn summarise(&mut self) {
        let mut rows: BTreeMap<(String, TargetRole), RoleRow> = BTreeMap::new();
        for w in &self.windows {
            let mut roles: Vec<TargetRole> = w.targets.values().copied().collect();
            roles.sort();
            roles.dedup();
            for role in roles {
                let row = rows
                    .entry((w.fault.clone(), role))
                    .or_insert_with(|| RoleRow {
                        fault: w.fault.clone(),
                        role,
                        count: 0,
                        total_s: 0.0,
                        ops: Availability::default(),
                    });
                row.count += 1;
                row.total_s += w.ops.seconds;
                row.ops.merge(&w.ops);
            }
        }
        self.by_role = rows
            .into_values()
            .map(|mut r| {
                r.ops.finish();
                r
            })
            .collect();
        self.hit_leader = self
            .windows
            .iter()
            .any(|w| w.targets.values().any(|r| *r == TargetRole::Leader));
    }

    /// Families schedules: the families some fault hit, and those no fault hit (in the order
    /// of [`super::Family::ALL`]); a family whose every fault was left out is in neither.
    pub fn families_hit(&self) -> (Vec<String>, Vec<String>) {
        let hit_kinds: std::collections::BTreeSet<&str> =
            self.windows.iter().map(|w| w.fault.as_str()).collect();
        let mut hit = Vec::new();
        let mut missed = Vec::new();
        let order = super::Family::ALL.map(|f| f.name());
        let mut names: Vec<&String> = self.families.keys().collect();
        names.sort_by_key(|n| order.iter().position(|o| o == n).unwrap_or(usize::MAX));
        for family in names {
            let kinds = &self.families[family];
            if kinds.iter().all(|k| self.left_out.contains_key(k)) {
                // Dropped while running (e.g. vote-twice under pre-vote): listed as left out.
                continue;
            }
            if kinds.iter().any(|k| hit_kinds.contains(k.as_str())) {
                hit.push(family.clone());
            } else {
                missed.push(family.clone());
            }
        }
        (hit, missed)
    }

    /// One line for the terminal summary: which roles the faults hit, or that none hit the
    /// leader; `None` when there were no faults.
    pub fn headline(&self) -> Option<String> {
        if self.windows.is_empty() {
            return None;
        }
        let mut by_role: BTreeMap<TargetRole, Vec<String>> = BTreeMap::new();
        for r in &self.by_role {
            by_role
                .entry(r.role)
                .or_default()
                .push(format!("{} x{}", r.fault, r.count));
        }
        let mut parts: Vec<String> = by_role
            .iter()
            .map(|(role, fs)| format!("{}: {}", role.name(), fs.join(", ")))
            .collect();
        if !self.hit_leader {
            parts.insert(0, "no fault hit the leader".to_string());
        }
        Some(parts.join("; "))
    }
}

#[cfg(test)]
mod tests;
