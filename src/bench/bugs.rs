//! `faultline bench bugs`: every seeded bug of the reference node under its matching nemesis,
//! over `--runs` seeds, plus the correct node over the same runs. Prints, per bug: runs, how many
//! were found invalid, and the median time into the run of the first op that could not be
//! linearized; and the correct node's false positives (must be 0). Then the disk faults (root and
//! /dev/fuse; skipped with a note otherwise): `no-fsync` under power loss, and the correct node
//! alone under each other disk fault. `FAULTLINE_BENCH_BUGS=a,b` restricts the suite to those
//! bugs (`correct` selects the correct-node-only rows).

use std::path::Path;

use tabled::builder::Builder;
use tabled::settings::Style;

use super::harness_run::{median, run_plan, runtime, scratch};
use super::{BenchError, BenchOptions};
use crate::checker::Verdict;
use crate::plan::PlanInput;

/// Concurrent CAS on few values: where decisions taken at propose time collide.
const CAS_HEAVY: &str = "name = \"cas-heavy\"\nmodel = \"cas-register\"\nkeys = 1\nvalues = [0, 2]\n[mix]\nread = 1\nwrite = 1\ncas = 4\n";
/// Mostly reads: a lost or stale value is seen soon after it goes wrong.
const READ_HEAVY: &str = "name = \"read-heavy\"\nmodel = \"cas-register\"\nkeys = 1\nvalues = [0, 4]\n[mix]\nread = 6\nwrite = 2\ncas = 1\n";
/// Many keys, half reads: a write a node lost (or an entry it kept by mistake) stays visible
/// for seconds, until the key is written again.
const WIDE_KV: &str = "name = \"wide-kv\"\nmodel = \"kv\"\nkeys = 400\nvalues = [0, 1000000]\n[mix]\nread = 1\nwrite = 1\n";
/// Isolate the leader often, so a short run sees several leader changes.
const LEADER_OFTEN: &str = "name = \"leader-often\"\nfaults = [\"partition-leader\"]\ninterval = \"2s\"\nduration = \"3s\"\n";
/// Kill every node, restart them: what was only in memory is gone.
const KILL_ALL: &str = "name = \"kill-all\"\nfaults = [\"kill\"]\ninterval = \"1500ms\"\nduration = \"500ms\"\ntargets = \"all\"\n";
/// Kill a majority often: restarts during elections.
const KILL_MAJORITY: &str = "name = \"kill-majority\"\nfaults = [\"kill\"]\ninterval = \"1500ms\"\nduration = \"1s\"\ntargets = \"majority\"\n";

/// (bug, nemesis, workload, cluster): the fault that reveals each bug. forget-vote runs without
/// pre-vote, which otherwise keeps two candidates from ever sharing a term (see
/// `nemesis::vote_twice`); its correct-node runs use the same cluster.
pub const CASES: [(&str, &str, &str, &str); 7] = [
    ("stale-read", "partition-leader", "cas-register", "raft"),
    ("stale-leader", "leader-often", "read-heavy", "raft"),
    ("early-ack", "leader-often", "read-heavy", "raft"),
    ("split-cas", "none", "cas-heavy", "raft"),
    ("memory-log", "kill-all", "read-heavy", "raft"),
    ("forget-vote", "vote-twice", "read-heavy", "raft-no-prevote"),
    ("no-truncate", "reelect-deposed", "wide-kv", "raft"),
];

/// (bug or `None` for the correct node alone, nemesis, workload, cluster): the disk faults.
pub const DISK_CASES: [(Option<&str>, &str, &str, &str); 4] = [
    (Some("no-fsync"), "lose-unfsynced", "read-heavy", "raft"),
    (None, "torn-write", "read-heavy", "raft"),
    (None, "disk-error", "read-heavy", "raft"),
    (None, "disk-full", "read-heavy", "raft"),
];

fn resolve_file(dir: &Path, name: &str) -> Result<String, BenchError> {
    let text = match name {
        "cas-heavy" => CAS_HEAVY,
        "kill-all" => KILL_ALL,
        "read-heavy" => READ_HEAVY,
        "leader-often" => LEADER_OFTEN,
        "kill-majority" => KILL_MAJORITY,
        "wide-kv" => WIDE_KV,
        other => return Ok(other.to_string()),
    };
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text)
        .map_err(|e| BenchError(format!("cannot write {}: {e}", p.display())))?;
    Ok(p.display().to_string())
}

/// What the runs of one row found.
struct Row {
    /// Seconds into each bug run of its first violation (bug runs found invalid only).
    at: Vec<f64>,
    /// Wall time of each bug run (each correct run for a correct-only row).
    walls: Vec<f64>,
    /// Correct-node runs found invalid.
    false_positives: usize,
}

/// `runs` seeds of `bug` (if any) and of the correct node under the same nemesis and workload.
fn run_case(
    rt: &tokio::runtime::Runtime,
    bug: Option<&str>,
    nemesis: &str,
    workload: &str,
    cluster: &str,
    runs: u32,
    time_limit: &str,
) -> Result<Row, BenchError> {
    let mut row = Row {
        at: Vec::new(),
        walls: Vec::new(),
        false_positives: 0,
    };
    let label = bug.unwrap_or("correct");
    let variants: &[Option<&str>] = match bug {
        Some(_) => &[bug, None],
        None => &[None],
    };
    for &with_bug in variants {
        for seed in 1..=u64::from(runs) {
            let dir = scratch()?;
            let input = PlanInput {
                cluster: Some(cluster.into()),
                nemesis: Some(resolve_file(dir.path(), nemesis)?.into()),
                workload: Some(resolve_file(dir.path(), workload)?.into()),
                nodes: Some(3),
                clients: Some(8),
                rate: Some(300.0),
                time_limit: Some(time_limit.into()),
                seed: Some(seed),
                bug: with_bug.map(str::to_string),
                name: Some(format!("bench-{label}-{nemesis}")),
                ..Default::default()
            };
            let done = run_plan(rt, &dir.path().join("results"), input)?;
            let verdict = &done.report.results.check.verdict;
            if with_bug.is_some() || bug.is_none() {
                row.walls.push(done.wall.as_secs_f64());
            }
            match (with_bug, verdict) {
                (Some(_), Verdict::Invalid { counterexample }) => row
                    .at
                    .push(counterexample.op.time.unwrap_or(0) as f64 / 1e9),
                (None, Verdict::Invalid { .. }) => row.false_positives += 1,
                _ => {}
            }
            eprintln!(
                "bench bugs: {label} under {nemesis} ({}) seed {seed}: {}",
                if with_bug.is_some() { "bug" } else { "correct" },
                crate::report::summary::verdict_word(verdict)
            );
        }
    }
    Ok(row)
}

/// Run the suite.
pub fn run(opts: &BenchOptions) -> Result<String, BenchError> {
    let rt = runtime()?;
    let runs = if opts.quick {
        opts.runs.min(2)
    } else {
        opts.runs
    }
    .max(1);
    let time_limit = if opts.quick { "10s" } else { "15s" };
    let mut b = Builder::default();
    b.push_record([
        "bug",
        "nemesis",
        "cluster",
        "runs",
        "detected",
        "median violation at (s)",
        "median wall (s)",
        "false positives",
    ]);
    let mut totals = (0, 0);
    let only = std::env::var("FAULTLINE_BENCH_BUGS").unwrap_or_default();
    let only: Vec<&str> = only.split(',').filter(|s| !s.is_empty()).collect();
    let wanted = |bug: Option<&str>| only.is_empty() || only.contains(&bug.unwrap_or("correct"));
    let mut cases: Vec<(Option<&str>, &str, &str, &str)> = CASES
        .iter()
        .map(|&(b, n, w, c)| (Some(b), n, w, c))
        .collect();
    let lazyfs = crate::disk::requirements();
    if lazyfs.is_ok() {
        cases.extend(DISK_CASES);
    }
    for (bug, nemesis, workload, cluster) in cases {
        if !wanted(bug) {
            continue;
        }
        let row = run_case(&rt, bug, nemesis, workload, cluster, runs, time_limit)?;
        totals.0 += row.false_positives;
        totals.1 += runs;
        b.push_record([
            bug.unwrap_or("(correct node)").to_string(),
            nemesis.to_string(),
            cluster.to_string(),
            runs.to_string(),
            if bug.is_some() {
                row.at.len().to_string()
            } else {
                "-".into()
            },
            if row.at.is_empty() {
                "-".into()
            } else {
                format!("{:.1}", median(row.at))
            },
            format!("{:.1}", median(row.walls)),
            row.false_positives.to_string(),
        ]);
    }
    let (false_positives, correct_runs) = totals;
    let skipped = match lazyfs {
        Ok(()) => String::new(),
        Err(m) => format!("\ndisk-fault rows skipped: the lazy filesystem {m}"),
    };
    let mut table = b.build();
    table.with(Style::rounded());
    Ok(format!(
        "{table}{skipped}\ncorrect node: {false_positives} false positives in {correct_runs} runs (same nemeses, seeds and workloads)\n3 nodes, 8 clients, 300 ops/s, {time_limit} per run"
    ))
}
