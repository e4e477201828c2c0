//! `faultline bench bugs --defaults`: every seeded bug of the reference node found with nothing
//! tuned for it: the default workload, nemesis, time limit, node count, clients and rate, as a
//! user who does not know which bug their cluster has would run it. Only the cluster may differ,
//! since it is the system under test: forget-vote is a bug of a node without pre-vote, so it runs
//! on `raft-no-prevote`.
//!
//! Each of `--runs` tries is a series of up to `--test-count` default runs (fresh seeds, stop at
//! the first invalid one, as `faultline test --test-count` does). Per bug the table says how
//! many tries found the bug in their first run (a single default run) and how fast, and how many
//! found it within the series. The correct node runs each try's first seed on the same cluster:
//! its invalid verdicts are false positives, and their run directories are kept (the path is
//! printed) so the history, nodes' logs and report can be read.

use tabled::builder::Builder;
use tabled::settings::Style;

use super::harness_run::{median, runtime, scratch};
use super::{BenchError, BenchOptions};
use crate::exit::Outcome;
use crate::plan::{Plan, PlanInput, Series};
use crate::report::series::first_violation_s;
use crate::runner::{self, RunEnd};

/// The cluster each bug runs on: the bundled node, or the same node without pre-vote for the
/// bug that only a node without pre-vote has.
pub fn cluster_for(bug: &str) -> &'static str {
    match bug {
        "forget-vote" => "raft-no-prevote",
        _ => "raft",
    }
}

/// The fault the tuned bench (`faultline bench bugs`) uses for `bug`, for comparison.
fn tuned_nemesis(bug: &str) -> &'static str {
    super::bugs::CASES
        .iter()
        .find(|(b, ..)| *b == bug)
        .map_or("-", |(_, n, ..)| n)
}

/// Why the default run cannot reveal `bug` on a machine with `caps`, if it cannot: the fault the
/// tuned bench reveals it with is one the default nemesis leaves out there (no-fsync needs a
/// power loss: root and /dev/fuse; lease-read a clock jump: libfaketime).
fn cannot_reveal(
    bug: &str,
    caps: impl FnOnce(&Plan) -> crate::nemesis::Capabilities,
) -> Result<Option<String>, BenchError> {
    let Some(kind) = crate::nemesis::FaultKind::from_name(tuned_nemesis(bug)) else {
        return Ok(None);
    };
    let plan = Plan::resolve(&default_input(bug, 1, true, "preflight"))
        .map_err(|e| BenchError(e.to_string()))?;
    let pre =
        runner::preflight::check(&plan, &caps(&plan)).map_err(|e| BenchError(e.to_string()))?;
    Ok(pre
        .left_out
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(k, why)| format!("skipped: the default nemesis leaves out {k} here ({why})")))
}

/// What the tries of one bug found.
#[derive(Debug, Default)]
struct Tally {
    tries: usize,
    /// Violation times (s) of the tries whose first run was invalid.
    first_run_at: Vec<f64>,
    /// Runs each successful try needed (1-based).
    runs_needed: Vec<f64>,
    /// Default runs made with the bug.
    runs: usize,
    walls: Vec<f64>,
    /// Correct-node runs and their invalid / unknown verdicts.
    correct_runs: usize,
    false_positives: usize,
    correct_unknown: usize,
}

/// One load-average reading (`/proc/loadavg`'s first three fields).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Seed of try `t` (0-based) of bug number `b` (its place in `--list-bugs`, whatever
/// `FAULTLINE_BENCH_BUGS` selects, so that benches of different bugs run on different seeds):
/// far enough apart that no two series overlap.
fn first_seed(b: usize, t: u32, count: u32) -> u64 {
    10_000 * (b as u64 + 1) + u64::from(t) * u64::from(count)
}

fn default_input(bug: &str, seed: u64, with_bug: bool, label: &str) -> PlanInput {
    PlanInput {
        cluster: Some(cluster_for(bug).into()),
        seed: Some(seed),
        bug: with_bug.then(|| bug.to_string()),
        name: Some(format!("bench-defaults-{bug}-{label}")),
        ..Default::default()
    }
}

fn resolve(input: PlanInput, dir: &std::path::Path) -> Result<Plan, BenchError> {
    let mut input = input;
    input.results_dir = Some(dir.to_path_buf());
    Plan::resolve(&input).map_err(|e| BenchError(e.to_string()))
}

/// One try: a series of up to `count` default runs with the bug, then the correct node on the
/// try's first seed.
fn one_try(
    rt: &tokio::runtime::Runtime,
    bug: &str,
    seed: u64,
    count: u32,
    tally: &mut Tally,
) -> Result<(), BenchError> {
    let dir = scratch()?;
    let plan = resolve(default_input(bug, seed, true, "bug"), dir.path())?;
    let series = Series {
        count,
        keep_going: false,
    };
    let done = rt
        .block_on(runner::run_series(&plan, &series, |_, _| {}))
        .map_err(|f| BenchError(format!("{bug} seed {seed}: {}", f.failed.error)))?;
    tally.tries += 1;
    tally.runs += done.runs.len();
    tally
        .walls
        .extend(done.runs.iter().map(|r| r.wall.as_secs_f64()));
    for (i, r) in done.runs.iter().enumerate() {
        if let Some(at) = first_violation_s(&r.report.results.check) {
            if i == 0 {
                tally.first_run_at.push(at);
            }
            tally.runs_needed.push(i as f64 + 1.0);
        }
    }
    let words: Vec<&str> = done
        .runs
        .iter()
        .map(|r| r.report.results.check.verdict_word())
        .collect();
    eprintln!("bench bugs --defaults: {bug} seeds {seed}..: {words:?}");
    if let RunEnd::Aborted(why) = done.end() {
        return Err(BenchError(format!("{bug} seed {seed}: {why}")));
    }

    let dir = scratch()?;
    let correct = resolve(default_input(bug, seed, false, "correct"), dir.path())?;
    let report = rt
        .block_on(runner::run(&correct))
        .map_err(|f| BenchError(format!("correct node, seed {seed}: {}", f.error)))?;
    tally.correct_runs += 1;
    // A false positive's run is the evidence to read: it is kept, not removed.
    let mut kept = String::new();
    match report.results.check.outcome() {
        Outcome::Invalid => {
            tally.false_positives += 1;
            kept = format!(" (run kept in {})", report.run_dir.display());
            let _ = dir.keep();
        }
        Outcome::Valid => {}
        _ => tally.correct_unknown += 1,
    }
    eprintln!(
        "bench bugs --defaults: correct node ({}) seed {seed}: {}{kept}",
        cluster_for(bug),
        report.results.check.verdict_word()
    );
    Ok(())
}

/// The bugs the suite covers: every seeded bug of the node, or those named in
/// `FAULTLINE_BENCH_BUGS=a,b`.
/// Each with its place in `--list-bugs`.
fn bugs() -> Vec<(usize, &'static str)> {
    let only = std::env::var("FAULTLINE_BENCH_BUGS").unwrap_or_default();
    let only: Vec<&str> = only.split(',').filter(|s| !s.is_empty()).collect();
    crate::raft::bugs::ALL
        .iter()
        .map(|(_, name, ..)| *name)
        .enumerate()
        .filter(|(_, b)| only.is_empty() || only.contains(b))
        .collect()
}

/// Run the suite.
pub fn run(opts: &BenchOptions) -> Result<String, BenchError> {
    let rt = runtime()?;
    let tries = if opts.quick {
        opts.runs.min(2)
    } else {
        opts.runs
    }
    .max(1);
    let count = opts.test_count.max(1);
    let load_before = loadavg();
    let defaults = Plan::resolve(&PlanInput {
        seed: Some(1),
        ..Default::default()
    })
    .map_err(|e| BenchError(e.to_string()))?;
    let mut b = Builder::default();
    b.push_record([
        "bug".to_string(),
        "cluster".into(),
        "found in run 1".into(),
        "median violation at (s)".into(),
        format!("found within {count} runs"),
        "median runs to find".into(),
        "median wall (s)".into(),
        "correct: false positives".into(),
        "tuned nemesis".into(),
    ]);
    let (mut fp, mut correct, mut unknown) = (0, 0, 0);
    for (i, bug) in bugs() {
        if let Some(why) = cannot_reveal(bug, runner::preflight::capabilities)? {
            eprintln!("bench bugs --defaults: {bug}: {why}");
            let mut row = vec![bug.to_string(), cluster_for(bug).to_string(), why];
            row.extend(std::iter::repeat_n("-".to_string(), 5));
            row.push(tuned_nemesis(bug).to_string());
            b.push_record(row);
            continue;
        }
        let mut tally = Tally::default();
        for t in 0..tries {
            one_try(&rt, bug, first_seed(i, t, count), count, &mut tally)?;
        }
        fp += tally.false_positives;
        correct += tally.correct_runs;
        unknown += tally.correct_unknown;
        let med = |v: &[f64]| {
            if v.is_empty() {
                "-".to_string()
            } else {
                format!("{:.1}", median(v.to_vec()))
            }
        };
        b.push_record([
            bug.to_string(),
            cluster_for(bug).to_string(),
            format!("{}/{}", tally.first_run_at.len(), tally.tries),
            med(&tally.first_run_at),
            format!("{}/{}", tally.runs_needed.len(), tally.tries),
            med(&tally.runs_needed),
            med(&tally.walls),
            format!("{}/{}", tally.false_positives, tally.correct_runs),
            tuned_nemesis(bug).to_string(),
        ]);
    }
    let mut table = b.build();
    table.with(Style::rounded());
    Ok(format!(
        "{table}\ncorrect node: {fp} false positives ({unknown} unknown) in {correct} default runs (each try's first seed)\n\
         defaults: workload {}, nemesis {}, {} nodes, {} clients, {} ops/s, {} per run; load average {load_before} before, {} after",
        defaults.workload.name,
        defaults.nemesis.name,
        defaults.cluster.nodes,
        defaults.clients,
        defaults.rate,
        humantime::format_duration(defaults.time_limit),
        loadavg()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bug_whose_fault_the_default_nemesis_leaves_out_here_is_skipped_with_the_reason() {
        let full = |p: &Plan| crate::nemesis::Capabilities {
            euid: 0,
            dev_fuse: true,
            libfaketime: Ok("/usr/lib/libfaketime.so.1".into()),
            ..runner::preflight::capabilities(p)
        };
        for bug in ["no-fsync", "lease-read", "stale-read", "split-cas"] {
            assert_eq!(cannot_reveal(bug, full).unwrap(), None, "{bug}");
        }
        let no_root = |p: &Plan| crate::nemesis::Capabilities {
            euid: 1000,
            ..full(p)
        };
        let why = cannot_reveal("no-fsync", no_root)
            .unwrap()
            .expect("skipped");
        assert!(
            why.contains("lose-unfsynced") && why.contains("needs root"),
            "{why}"
        );
        let no_faketime = |p: &Plan| crate::nemesis::Capabilities {
            libfaketime: Err("apt-get install libfaketime".into()),
            ..full(p)
        };
        let why = cannot_reveal("lease-read", no_faketime)
            .unwrap()
            .expect("skipped");
        assert!(why.contains("libfaketime"), "{why}");
        assert_eq!(cannot_reveal("no-fsync", no_faketime).unwrap(), None);
    }
}
