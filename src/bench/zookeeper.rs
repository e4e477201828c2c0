//! `faultline bench zookeeper`: a stock ZooKeeper ensemble (clusters/zookeeper.toml and
//! clusters/zookeeper-sync.toml, 3 servers, `--net netns`, so root) under partitions, kills and
//! pauses, `--runs` seeds per nemesis, with plain reads and with `sync` reads. Prints, per read
//! mode and nemesis: runs, how many were valid / invalid / unknown, the median time into the run
//! of the first op that could not be linearized, and the median counts of ok reads and of `info`
//! ops. `FAULTLINE_BENCH_READS=sync` (or `plain`) restricts the read modes,
//! `FAULTLINE_BENCH_NEMESES=kill,pause` the nemeses; `FAULTLINE_BENCH_KEEP=DIR` keeps the
//! evidence of every invalid run there (`<mode>-<nemesis>-seed<N>/`: `history.jsonl`,
//! `results.json` and the servers' logs).

use std::path::{Path, PathBuf};

use tabled::builder::Builder;
use tabled::settings::Style;

use super::harness_run::{median, run_plan, runtime, scratch};
use super::{BenchError, BenchOptions};
use crate::checker::Verdict;
use crate::history::OpType;
use crate::plan::PlanInput;

/// The nemeses, as bundled schedule names: partitions, kills and pauses.
pub const NEMESES: [&str; 6] = [
    "partition-halves",
    "partition-leader",
    "kill",
    "kill-leader",
    "pause",
    "pause-leader",
];

/// (read mode, bundled cluster spec).
const MODES: [(&str, &str); 2] = [("plain", "zookeeper"), ("sync", "zookeeper-sync")];

fn selected<'a>(var: &str, all: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let only = std::env::var(var).unwrap_or_default();
    let only: Vec<&str> = only.split(',').filter(|s| !s.is_empty()).collect();
    all.filter(|x| only.is_empty() || only.contains(x))
        .collect()
}

/// Per-case tallies.
#[derive(Default)]
struct Tally {
    valid: u32,
    invalid: u32,
    unknown: u32,
    violation_at: Vec<f64>,
    ok_reads: Vec<f64>,
    infos: Vec<f64>,
}

/// Run the suite.
pub fn run(opts: &BenchOptions) -> Result<String, BenchError> {
    crate::net::netns::NetnsBackend::check_supported()
        .map_err(|e| BenchError(format!("bench zookeeper runs with --net netns: {e}")))?;
    let rt = runtime()?;
    let runs = if opts.quick {
        opts.runs.min(2)
    } else {
        opts.runs
    }
    .max(1);
    let time_limit = if opts.quick { "10s" } else { "15s" };
    let keep = std::env::var_os("FAULTLINE_BENCH_KEEP").map(PathBuf::from);
    let mut b = Builder::default();
    b.push_record([
        "reads",
        "nemesis",
        "runs",
        "valid",
        "invalid",
        "unknown",
        "median violation at (s)",
        "median ok reads",
        "median info ops",
    ]);
    for (mode, cluster) in MODES {
        if !selected("FAULTLINE_BENCH_READS", [mode].into_iter()).contains(&mode) {
            continue;
        }
        for nemesis in selected("FAULTLINE_BENCH_NEMESES", NEMESES.into_iter()) {
            let mut t = Tally::default();
            for seed in 1..=runs as u64 {
                one_run(
                    &rt,
                    &mut t,
                    (mode, cluster, nemesis, seed),
                    time_limit,
                    keep.as_deref(),
                )?;
            }
            b.push_record([
                mode.to_string(),
                nemesis.to_string(),
                runs.to_string(),
                t.valid.to_string(),
                t.invalid.to_string(),
                t.unknown.to_string(),
                if t.violation_at.is_empty() {
                    "-".into()
                } else {
                    format!("{:.1}", median(t.violation_at))
                },
                format!("{:.0}", median(t.ok_reads)),
                format!("{:.0}", median(t.infos)),
            ]);
        }
    }
    let mut table = b.build();
    table.with(Style::rounded());
    Ok(format!(
        "{table}\n3 ZooKeeper servers (--net netns), 10 clients (each pinned to one server), 200 ops/s, cas-register, {time_limit} per run"
    ))
}

/// One run of `(mode, cluster, nemesis, seed)`, tallied.
fn one_run(
    rt: &tokio::runtime::Runtime,
    t: &mut Tally,
    (mode, cluster, nemesis, seed): (&str, &str, &str, u64),
    time_limit: &str,
    keep: Option<&Path>,
) -> Result<(), BenchError> {
    let dir = scratch()?;
    let input = PlanInput {
        cluster: Some(cluster.into()),
        nemesis: Some(nemesis.into()),
        workload: Some("cas-register".into()),
        nodes: Some(3),
        net: Some("netns".into()),
        time_limit: Some(time_limit.into()),
        seed: Some(seed),
        name: Some(format!("bench-zookeeper-{mode}-{nemesis}")),
        ..Default::default()
    };
    let done = run_plan(rt, &dir.path().join("results"), input)?;
    let results = &done.report.results;
    match &results.check.verdict {
        Verdict::Valid => t.valid += 1,
        Verdict::Unknown { .. } => t.unknown += 1,
        Verdict::Invalid { counterexample } => {
            t.invalid += 1;
            t.violation_at
                .push(counterexample.op.time.unwrap_or(0) as f64 / 1e9);
            if let Some(keep) = keep {
                let to = keep.join(format!("{mode}-{nemesis}-seed{seed}"));
                keep_evidence(&done.report.run_dir, &to)
                    .map_err(|e| BenchError(format!("cannot keep {}: {e}", to.display())))?;
            }
        }
    }
    let count = |f: &str, kind: OpType| {
        results
            .outcomes
            .get(f)
            .map(|o| match kind {
                OpType::Ok => o.ok,
                _ => o.info,
            })
            .unwrap_or(0) as f64
    };
    t.ok_reads.push(count("read", OpType::Ok));
    t.infos.push(count("all", OpType::Info));
    eprintln!(
        "bench zookeeper: {mode} reads, {nemesis}, seed {seed}: {}",
        crate::report::summary::verdict_word(&results.check.verdict)
    );
    Ok(())
}

/// Copy a run's history, results and node logs from `run` into `to`.
fn keep_evidence(run: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to.join("nodes"))?;
    for f in ["history.jsonl", "results.json", "test.toml"] {
        std::fs::copy(run.join(f), to.join(f))?;
    }
    for log in std::fs::read_dir(run.join("nodes"))?.flatten() {
        std::fs::copy(log.path(), to.join("nodes").join(log.file_name()))?;
    }
    Ok(())
}
