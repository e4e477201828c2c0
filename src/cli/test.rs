//! `faultline test`: flags -> [`Plan`] (and [`Series`]) -> [`runner::run`] on a tokio runtime
//! built here; prints the summary table (and, for `--test-count N`, the table of runs) and maps
//! the verdict to the exit code.

use std::path::PathBuf;

use clap::Args;

use crate::exit::Outcome;
use crate::plan::{Plan, PlanInput, Series};
use crate::report::{render_series_table, write_series_junit, SeriesEntry};
use crate::runner::{self, RunEnd, RunError, RunFailed, SeriesReport};

/// Flags of `faultline test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Cluster spec (TOML, or a bundled name: raft (the default), raft-no-prevote, etcd,
    /// zookeeper, zookeeper-sync).
    #[arg(long, value_name = "FILE")]
    pub cluster: Option<PathBuf>,
    /// Workload (TOML, or a bundled name: contention (the default), register, cas-register, kv).
    #[arg(long, value_name = "FILE")]
    pub workload: Option<PathBuf>,
    /// Fault schedule (TOML, or a bundled name: none, kill, kill-all, pause, kill-leader,
    /// pause-leader, partition-halves, partition-leader, partition-ring, bridge, reelect-deposed,
    /// election-flap, vote-twice, clock-skew, clock-strobe, skew-isolate-leader, delay, slow,
    /// flaky, loss, lose-unfsynced, torn-write, disk-error, disk-full, mixed, default (the
    /// default: every fault family the run can do, once per round)).
    #[arg(long, value_name = "FILE")]
    pub nemesis: Option<PathBuf>,
    /// Number of nodes (odd) [default: the cluster spec's, 5].
    #[arg(long)]
    pub nodes: Option<i64>,
    /// Concurrent client workers [default: 10].
    #[arg(long)]
    pub clients: Option<i64>,
    /// Total ops/s across all clients, 0 = unlimited [default: 200].
    #[arg(long)]
    pub rate: Option<f64>,
    /// How long the workload runs, e.g. 30s, 2m [default: 30s].
    #[arg(long, value_name = "DURATION")]
    pub time_limit: Option<String>,
    /// Seed for op generation and the fault schedule [default: random, printed]. With
    /// --test-count, the first run's seed (run i gets seed + i).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run the test N times, each with a fresh seed, and print a table of the runs; stops at
    /// the first invalid run unless --keep-going [default: 1].
    #[arg(long, value_name = "N")]
    pub test_count: Option<i64>,
    /// With --test-count: make every run, even after an invalid one.
    #[arg(long)]
    pub keep_going: bool,
    /// Partition backend: proxy (no root) or netns (root) [default: proxy; with --hosts,
    /// nftables on the hosts].
    #[arg(long, value_name = "BACKEND")]
    pub net: Option<String>,
    /// Start the bundled node with this seeded bug (see `faultline-raft --list-bugs`).
    #[arg(long, value_name = "NAME")]
    pub bug: Option<String>,
    /// Also write JUnit XML here (with --test-count: one test case per run).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Test name (directory under the results dir) [default: cluster-workload-nemesis].
    #[arg(long)]
    pub name: Option<String>,
    /// Where runs are stored [default: results].
    #[arg(long, value_name = "DIR")]
    pub results_dir: Option<PathBuf>,
    /// Per-request client timeout; slower answers are recorded as info [default: 1s].
    #[arg(long, value_name = "DURATION")]
    pub client_timeout: Option<String>,
    /// The checker's time budget; past it the verdict is unknown [default: 60s].
    #[arg(long, value_name = "DURATION")]
    pub check_time_limit: Option<String>,
    /// Repeat a stored run (its directory, e.g. results/latest, or its test.toml): same specs,
    /// flags and seed; flags given here override.
    #[arg(long, value_name = "RUN")]
    pub rerun: Option<PathBuf>,
    /// Run each node on a remote host over SSH, as this file says (node id -> user@host[:port];
    /// `faultline lab up` writes one for namespaced hosts on this machine).
    #[arg(long, value_name = "FILE")]
    pub hosts: Option<PathBuf>,
}

impl TestArgs {
    /// The flags as plan input (nothing below `cli` sees clap).
    pub fn to_input(&self) -> PlanInput {
        PlanInput {
            cluster: self.cluster.clone(),
            workload: self.workload.clone(),
            nemesis: self.nemesis.clone(),
            nodes: self.nodes,
            clients: self.clients,
            rate: self.rate,
            time_limit: self.time_limit.clone(),
            seed: self.seed,
            net: self.net.clone(),
            bug: self.bug.clone(),
            junit: self.junit.clone(),
            name: self.name.clone(),
            results_dir: self.results_dir.clone(),
            client_timeout: self.client_timeout.clone(),
            check_time_limit: self.check_time_limit.clone(),
            rerun: self.rerun.clone(),
            test_count: self.test_count,
            keep_going: self.keep_going,
            hosts: self.hosts.clone(),
        }
    }
}

/// Run `faultline test`.
pub fn run(args: TestArgs) -> anyhow::Result<Outcome> {
    let input = args.to_input();
    let plan = Plan::resolve(&input)?;
    let series = Series::resolve(&input)?;
    if plan.seed_was_random {
        match series.count {
            1 => println!(
                "seed {} (random; rerun with --seed {})",
                plan.seed, plan.seed
            ),
            n => println!(
                "seeds {}..{} (random; repeat the series with --seed {} --test-count {n})",
                plan.seed,
                Series::seed(plan.seed, n - 1),
                plan.seed
            ),
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let end = if series.is_series() {
        run_series(&rt, &plan, &series)?
    } else {
        let report = rt.block_on(runner::run(&plan)).map_err(failed)?;
        print!("{}", report.summary);
        match report.end {
            RunEnd::Aborted(why) => RunEnd::Aborted(format!(
                "{why}; partial history kept in {}",
                report.run_dir.join("history.jsonl").display()
            )),
            end => end,
        }
    };
    // Nodes are stopped; let background tasks (proxies) go without waiting.
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    match end {
        RunEnd::Verdict(outcome) => Ok(outcome),
        RunEnd::Aborted(why) => anyhow::bail!("{why}"),
    }
}

/// A run's harness error, pointing at what it recorded.
fn failed(f: RunFailed) -> anyhow::Error {
    match f.error {
        // Checked before anything was created: there is nothing to point at.
        RunError::Unmet(_) => anyhow::anyhow!("{}", f.error),
        _ => anyhow::anyhow!(
            "{}\n(what was recorded is kept in {})",
            f.error,
            f.run_dir.display()
        ),
    }
}

fn entries(done: &SeriesReport) -> Vec<SeriesEntry<'_>> {
    done.runs
        .iter()
        .map(|r| SeriesEntry {
            number: r.index + 1,
            results: &r.report.results,
            run_dir: &r.report.run_dir,
            wall_s: r.wall.as_secs_f64(),
        })
        .collect()
}

/// `--test-count N`: every run's summary as it ends (and the JUnit file so far), then the table.
fn run_series(
    rt: &tokio::runtime::Runtime,
    plan: &Plan,
    series: &Series,
) -> anyhow::Result<RunEnd> {
    // Each run's own plan writes no JUnit: the series file has one case per run.
    let mut base = plan.clone();
    base.junit = None;
    let junit = |done: &SeriesReport| -> anyhow::Result<()> {
        if let Some(path) = &plan.junit {
            write_series_junit(path, &entries(done), &plan.name)?;
        }
        Ok(())
    };
    let mut junit_error = None;
    let result = rt.block_on(runner::run_series(&base, series, |run, done| {
        println!(
            "\nrun {}/{} (seed {})",
            run.index + 1,
            series.count,
            run.report.results.seed
        );
        print!("{}", run.report.summary);
        if let Err(e) = junit(done) {
            junit_error.get_or_insert(e);
        }
    }));
    let (done, failed_run) = match result {
        Ok(done) => (done, None),
        Err(f) => (f.done, Some(f.failed)),
    };
    let end = done.end();
    let note = match (&failed_run, &end) {
        (Some(f), _) => format!("harness error in run {}: {}", done.runs.len() + 1, f.error),
        (None, RunEnd::Aborted(why)) => format!("stopped: {why}"),
        (None, _) if done.stopped_early() => {
            "stopped at the first invalid run; --keep-going makes every run".to_string()
        }
        _ => String::new(),
    };
    if !done.runs.is_empty() {
        println!();
        print!(
            "{}",
            render_series_table(&entries(&done), series.count, &note)
        );
    }
    if let Some(e) = junit_error {
        return Err(e);
    }
    if let Some(f) = failed_run {
        return Err(failed(f));
    }
    Ok(end)
}
