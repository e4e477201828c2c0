//! `faultline bench bugs`: every seeded bug of the reference node under its matching nemesis,
//! over `--runs` seeds, plus the correct node over the same runs. Prints, per bug: runs, how many
//! were found invalid, and the median time into the run of the first op that could not be
//! linearized; and the correct node's false positives under the same runs (must be 0). Then the
//! correct node alone under each clock, link and disk fault ([`CORRECT_ONLY`]), which no bug is
//! matched with. A row whose fault the machine cannot do (no libfaketime, root or /dev/fuse) is
//! reported skipped, with what is missing. `FAULTLINE_BENCH_BUGS=a,b` restricts the suite to
//! those bugs and those correct-only nemeses (`correct` selects every correct-only row).

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
/// `nemesis::vote_twice`); its correct-node runs use the same cluster. no-fsync needs a power
/// loss (root and /dev/fuse): kill -9 alone leaves the page cache, so it cannot reveal it.
pub const CASES: [(&str, &str, &str, &str); 9] = [
    ("stale-read", "partition-leader", "cas-register", "raft"),
    ("stale-leader", "leader-often", "read-heavy", "raft"),
    ("early-ack", "leader-often", "read-heavy", "raft"),
    ("split-cas", "none", "cas-heavy", "raft"),
    ("memory-log", "kill-all", "read-heavy", "raft"),
    ("forget-vote", "vote-twice", "read-heavy", "raft-no-prevote"),
    ("no-truncate", "reelect-deposed", "wide-kv", "raft"),
    ("lease-read", "skew-isolate-leader", "read-heavy", "raft"),
    ("no-fsync", "lose-unfsynced", "read-heavy", "raft"),
];

/// (nemesis, network backend): faults the correct node runs under on its own, read-heavy, on the
/// bundled cluster. A fault the machine cannot do (no libfaketime, root or /dev/fuse) is reported
/// skipped. (The correct node under lose-unfsynced is no-fsync's correct-node runs.)
pub const CORRECT_ONLY: [(&str, &str); 9] = [
    ("clock-skew", "proxy"),
    ("clock-strobe", "proxy"),
    ("delay", "proxy"),
    ("slow", "proxy"),
    ("flaky", "proxy"),
    ("loss", "netns"),
    ("torn-write", "proxy"),
    ("disk-error", "proxy"),
    ("disk-full", "proxy"),
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

/// Whether a run failed because the machine lacks what its fault needs (the preflight's
/// `... needs X: fix` error): the row is skipped, not the suite.
fn unmet(e: &BenchError) -> bool {
    e.0.contains(" needs ")
}

/// What the runs of one bug row found.
struct Row {
    /// Seconds into each bug run of its first violation (bug runs found invalid only).
    at: Vec<f64>,
    /// Wall time of each bug run.
    walls: Vec<f64>,
    /// Correct-node runs found invalid.
    false_positives: usize,
}

/// `runs` seeds of `bug` and of the correct node under the same nemesis, workload and cluster;
/// `Ok(Err(why))` when the machine cannot do the nemesis.
fn run_case(
    rt: &tokio::runtime::Runtime,
    (bug, nemesis, workload, cluster): (&str, &str, &str, &str),
    runs: u32,
    time_limit: &str,
) -> Result<Result<Row, String>, BenchError> {
    let mut row = Row {
        at: Vec::new(),
        walls: Vec::new(),
        false_positives: 0,
    };
    for (label, with_bug) in [("bug", true), ("correct", false)] {
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
                bug: with_bug.then(|| bug.to_string()),
                name: Some(format!("bench-{bug}-{label}")),
                ..Default::default()
            };
            let done = match run_plan(rt, &dir.path().join("results"), input) {
                Ok(d) => d,
                Err(e) if unmet(&e) => return Ok(Err(e.0)),
                Err(e) => return Err(e),
            };
            let verdict = &done.report.results.check.verdict;
            match (with_bug, verdict) {
                (true, Verdict::Invalid { counterexample }) => row
                    .at
                    .push(counterexample.op.time.unwrap_or(0) as f64 / 1e9),
                (false, Verdict::Invalid { .. }) => row.false_positives += 1,
                _ => {}
            }
            if with_bug {
                row.walls.push(done.wall.as_secs_f64());
            }
            eprintln!(
                "bench bugs: {bug} ({label}) seed {seed}: {}",
                crate::report::summary::verdict_word(verdict)
            );
        }
    }
    Ok(Ok(row))
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
    let (mut false_positives, mut correct_runs) = (0, 0);
    let only = std::env::var("FAULTLINE_BENCH_BUGS").unwrap_or_default();
    let only: Vec<&str> = only.split(',').filter(|s| !s.is_empty()).collect();
    for case in CASES {
        let (bug, nemesis, _, cluster) = case;
        if !only.is_empty() && !only.contains(&bug) {
            continue;
        }
        let row = match run_case(&rt, case, runs, time_limit)? {
            Ok(row) => row,
            Err(why) => {
                let why = format!("skipped: {}", why.lines().next().unwrap_or_default());
                b.push_record([bug, nemesis, cluster, "0", &why, "", "", ""].map(String::from));
                continue;
            }
        };
        false_positives += row.false_positives;
        correct_runs += runs;
        b.push_record([
            bug.to_string(),
            nemesis.to_string(),
            cluster.to_string(),
            runs.to_string(),
            row.at.len().to_string(),
            if row.at.is_empty() {
                "-".into()
            } else {
                format!("{:.1}", median(row.at))
            },
            format!("{:.1}", median(row.walls)),
            row.false_positives.to_string(),
        ]);
    }
    let mut table = b.build();
    table.with(Style::rounded());
    let alone = correct_only(&rt, runs, time_limit, &only)?;
    Ok(format!(
        "{table}\ncorrect node: {false_positives} false positives in {correct_runs} runs (same nemeses, seeds and workloads)\n{alone}3 nodes, 8 clients, 300 ops/s, {time_limit} per run"
    ))
}

/// The correct node under each [`CORRECT_ONLY`] fault: a table of verdict counts.
fn correct_only(
    rt: &tokio::runtime::Runtime,
    runs: u32,
    time_limit: &str,
    only: &[&str],
) -> Result<String, BenchError> {
    let mut b = Builder::default();
    b.push_record([
        "nemesis",
        "net",
        "runs",
        "valid",
        "invalid",
        "unknown",
        "median wall (s)",
    ]);
    let mut rows = 0;
    for (nemesis, net) in CORRECT_ONLY {
        if !only.is_empty() && !only.contains(&nemesis) && !only.contains(&"correct") {
            continue;
        }
        rows += 1;
        let (mut valid, mut invalid, mut unknown, mut walls) = (0, 0, 0, Vec::new());
        let mut skipped = None;
        for seed in 1..=runs as u64 {
            let dir = scratch()?;
            let input = PlanInput {
                nemesis: Some(nemesis.into()),
                workload: Some(resolve_file(dir.path(), "read-heavy")?.into()),
                nodes: Some(3),
                clients: Some(8),
                rate: Some(300.0),
                time_limit: Some(time_limit.into()),
                seed: Some(seed),
                net: Some(net.into()),
                name: Some(format!("bench-correct-{nemesis}")),
                ..Default::default()
            };
            let done = match run_plan(rt, &dir.path().join("results"), input) {
                Ok(d) => d,
                Err(e) if unmet(&e) => {
                    skipped = Some(e.0);
                    break;
                }
                Err(e) => return Err(e),
            };
            walls.push(done.wall.as_secs_f64());
            let verdict = &done.report.results.check.verdict;
            match verdict {
                Verdict::Valid => valid += 1,
                Verdict::Invalid { .. } => invalid += 1,
                Verdict::Unknown { .. } => unknown += 1,
            }
            eprintln!(
                "bench bugs: correct node under {nemesis} seed {seed}: {}",
                crate::report::summary::verdict_word(verdict)
            );
        }
        match skipped {
            Some(why) => b.push_record([
                nemesis.to_string(),
                net.to_string(),
                "0".into(),
                format!("skipped: {}", why.lines().next().unwrap_or_default()),
                String::new(),
                String::new(),
                String::new(),
            ]),
            None => b.push_record([
                nemesis.to_string(),
                net.to_string(),
                runs.to_string(),
                valid.to_string(),
                invalid.to_string(),
                unknown.to_string(),
                format!("{:.1}", median(walls)),
            ]),
        }
    }
    if rows == 0 {
        return Ok(String::new());
    }
    let mut table = b.build();
    table.with(Style::rounded());
    Ok(format!(
        "correct node alone under clock, link and disk faults (read-heavy):\n{table}\n"
    ))
}
