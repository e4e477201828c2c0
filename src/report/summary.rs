//! The numbers of a run (outcomes by op kind, latency percentiles, faults) computed from its
//! history, and the terminal summary table (tabled) printed at the end of `faultline test`.
//! Transaction runs show a `txn` row and their anomaly classes (`txn.rs`).

mod txn;

use std::collections::{BTreeMap, HashMap};

use tabled::builder::Builder;
use tabled::settings::Style;

use super::results::{FaultRecord, Latency, Outcomes, RunResults};
use super::text::op_text;
use crate::checker::{CheckReport, Verdict};
use crate::history::{History, OpType, Process};
use crate::nemesis::coverage::{FAMILIES, FAULT_END, LEFT_OUT, WARNING};
use crate::nemesis::note::describe;
use crate::report::RunCheck;

/// What a history says about a run, before checking.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStats {
    /// Completed client ops by outcome, per op kind and `all`.
    pub outcomes: BTreeMap<String, Outcomes>,
    /// Latency of ok completions per op kind and `all`.
    pub latency: BTreeMap<String, Latency>,
    /// Faults, paired start to end.
    pub faults: Vec<FaultRecord>,
}

/// Which fault verbs an undo verb ends (a restart ends a kill and the power losses, which kill
/// too).
fn ends(undo: &str) -> Option<&'static [&'static str]> {
    match undo {
        "restart" => Some(&["kill", "lose-unfsynced", "torn-write"]),
        "resume" => Some(&["pause"]),
        "heal" => Some(&["partition"]),
        "clock-reset" => Some(&["clock-skew", "clock-strobe"]),
        "restore-links" => Some(&["delay", "slow", "flaky", "loss"]),
        "disk-heal" => Some(&["disk-error", "disk-full"]),
        _ => None,
    }
}

fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn latency(mut v: Vec<u64>) -> Latency {
    v.sort_unstable();
    Latency {
        count: v.len() as u64,
        p50_us: percentile(&v, 0.50),
        p95_us: percentile(&v, 0.95),
        p99_us: percentile(&v, 0.99),
        max_us: v.last().copied().unwrap_or(0),
    }
}

impl RunStats {
    /// Compute the stats of `history`. Invokes without a completion count as `info`.
    pub fn from_history(history: &History) -> RunStats {
        let mut open: HashMap<u64, (String, Option<i64>)> = HashMap::new();
        let mut outcomes: BTreeMap<String, Outcomes> = BTreeMap::new();
        let mut lat: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        let mut faults: Vec<FaultRecord> = Vec::new();
        // Each nemesis verb is recorded twice: when it starts and when it is done.
        let mut started: HashMap<String, bool> = HashMap::new();
        let bump = |o: &mut BTreeMap<String, Outcomes>, f: &str, kind: OpType| {
            for k in [f, "all"] {
                let e = o.entry(k.to_string()).or_default();
                match kind {
                    OpType::Ok => e.ok += 1,
                    OpType::Fail => e.fail += 1,
                    _ => e.info += 1,
                }
            }
        };
        for op in &history.ops {
            match op.process {
                Process::Client(p) => {
                    if op.kind == OpType::Invoke {
                        open.insert(p, (op.f.clone(), op.time));
                        continue;
                    }
                    let Some((f, t0)) = open.remove(&p) else {
                        continue;
                    };
                    bump(&mut outcomes, &f, op.kind);
                    if let (OpType::Ok, Some(t0), Some(t1)) = (op.kind, t0, op.time) {
                        let us = ((t1 - t0).max(0) / 1000) as u64;
                        lat.entry(f.clone()).or_default().push(us);
                        lat.entry("all".into()).or_default().push(us);
                    }
                }
                Process::Nemesis
                    if [LEFT_OUT, WARNING, FAMILIES, FAULT_END].contains(&op.f.as_str()) => {}
                Process::Nemesis => {
                    let s = started.entry(op.f.clone()).or_insert(false);
                    *s = !*s;
                    let is_start = *s;
                    let t = op.time.unwrap_or(0);
                    if let Some(ended) = ends(&op.f) {
                        if !is_start {
                            for r in faults
                                .iter_mut()
                                .filter(|r| ended.contains(&r.f.as_str()) && r.end_ns.is_none())
                            {
                                r.end_ns = Some(t);
                            }
                        }
                    } else if is_start {
                        faults.push(FaultRecord {
                            f: op.f.clone(),
                            value: describe(&op.value),
                            start_ns: t,
                            end_ns: None,
                        });
                    }
                }
            }
        }
        for (f, _) in open.into_values() {
            bump(&mut outcomes, &f, OpType::Info);
        }
        outcomes.entry("all".into()).or_default();
        RunStats {
            outcomes,
            latency: lat.into_iter().map(|(k, v)| (k, latency(v))).collect(),
            faults,
        }
    }
}

fn ms(us: u64) -> String {
    format!("{:.1}", us as f64 / 1000.0)
}

/// The verdict in one word.
pub fn verdict_word(v: &Verdict) -> &'static str {
    match v {
        Verdict::Valid => "VALID",
        Verdict::Invalid { .. } => "INVALID",
        Verdict::Unknown { .. } => "UNKNOWN",
    }
}

/// The terminal summary: ops by kind and outcome with latency, then throughput, faults, verdict,
/// seed and where the run is stored.
pub fn render_summary(r: &RunResults, run_dir: &str) -> String {
    let mut b = Builder::default();
    b.push_record(["op", "ok", "fail", "info", "p50 ms", "p99 ms"]);
    let kinds: Vec<&String> = r
        .outcomes
        .keys()
        .filter(|k| k.as_str() != "all")
        .chain(r.outcomes.keys().filter(|k| k.as_str() == "all"))
        .collect();
    for k in kinds {
        let o = &r.outcomes[k];
        let l = r.latency.get(k).cloned().unwrap_or_default();
        b.push_record([
            k.clone(),
            o.ok.to_string(),
            o.fail.to_string(),
            o.info.to_string(),
            ms(l.p50_us),
            ms(l.p99_us),
        ]);
    }
    let mut table = b.build();
    table.with(Style::rounded());
    let mut faults: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &r.faults {
        *faults.entry(f.f.as_str()).or_default() += 1;
    }
    let faults = if faults.is_empty() {
        "none".to_string()
    } else {
        faults
            .iter()
            .map(|(f, n)| format!("{f} x{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!("{table}\n");
    out.push_str(&format!(
        "throughput  {:.1} ok ops/s over {:.1} s\n",
        r.throughput, r.duration_s
    ));
    out.push_str(&format!("faults      {faults}\n"));
    if let Some(line) = r.coverage.headline() {
        out.push_str(&format!("coverage    {line}\n"));
    }
    if !r.coverage.families.is_empty() {
        let (hit, missed) = r.coverage.families_hit();
        let mut line = format!(
            "{} of {} hit ({})",
            hit.len(),
            hit.len() + missed.len(),
            hit.join(", ")
        );
        if !missed.is_empty() {
            line.push_str(&format!("; not reached: {}", missed.join(", ")));
        }
        out.push_str(&format!("families    {line}\n"));
    }
    if !r.coverage.left_out.is_empty() {
        let left: Vec<String> = r
            .coverage
            .left_out
            .iter()
            .map(|(f, why)| format!("{f} ({why})"))
            .collect();
        out.push_str(&format!("left out    {}\n", left.join("; ")));
    }
    for w in &r.coverage.warnings {
        out.push_str(&format!("warning     {w}\n"));
    }
    match &r.check {
        RunCheck::Linear(check) => out.push_str(&linear_verdict_lines(check)),
        RunCheck::Txn(check) => out.push_str(&txn::verdict_lines(check)),
    }
    if let Some(a) = &r.aborted {
        out.push_str(&format!("aborted     {a}\n"));
    }
    out.push_str(&format!("seed        {}\n", r.seed));
    out.push_str(&format!("results     {run_dir}\n"));
    out
}

/// The verdict lines of a single-key run: the verdict, and for an invalid one the failing op,
/// the last ok before it and the states the model could be in.
fn linear_verdict_lines(check: &CheckReport) -> String {
    let mut out = String::new();
    let detail = match &check.verdict {
        Verdict::Unknown { reason } => format!(" ({reason})"),
        Verdict::Invalid { counterexample } => match &counterexample.key {
            Some(k) => format!(" (key {k}, op {})", counterexample.op.index),
            None => format!(" (op {})", counterexample.op.index),
        },
        Verdict::Valid => String::new(),
    };
    out.push_str(&format!(
        "verdict     {}{detail} [{} model, checked in {} ms]\n",
        verdict_word(&check.verdict),
        check.model.name(),
        check.elapsed_ms
    ));
    if let Verdict::Invalid { counterexample: ce } = &check.verdict {
        // The evidence in two lines: the op that broke the model (who answered, what it said)
        // and the last ok before it; report.html has the full counterexample.
        out.push_str(&format!("failing op  {}\n", op_text(&ce.op)));
        if let Some(prev) = &ce.previous_ok {
            out.push_str(&format!("previous ok {}\n", op_text(prev)));
        }
        let mut states: Vec<&str> = ce.states.iter().take(5).map(String::as_str).collect();
        if ce.states.len() > 5 {
            states.push("...");
        }
        out.push_str(&format!("states then {}\n", states.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests;
