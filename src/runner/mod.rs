//! One test run end to end: ordering and lifetimes. Create the run directory and `test.toml`,
//! lay out the network, start the cluster, run the workers and the nemesis until the time limit,
//! heal everything, wait (bounded) for recovery, read every key once more, stop the nodes, check
//! the history, store `results.json`, print the summary and move `results/latest`.
//!
//! Before anything is created, `preflight` checks the schedule against what the run can do: a
//! fault the run cannot do stops it there ([`RunError::Unmet`], nothing written).
//!
//! Ctrl-C at any point heals, resumes and stops every node, closes the history and writes
//! `results.json` with `aborted`. A harness error does the same (the cluster and the network
//! backend stop on drop). The runner has no checking, fault or rendering logic of its own: it
//! calls `checker`, `nemesis` and `report`.

mod check;
pub mod preflight;
pub mod series;
mod setup;
mod store;
mod workload_phase;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::ClockControl;
use crate::cluster::{Cluster, ClusterError};
use crate::exit::Outcome;
use crate::history::Recorder;
use crate::nemesis::coverage::Coverage;
use crate::net::NetError;
use crate::plan::Plan;
use crate::report::summary::{render_summary, RunStats};
use crate::report::{RunCheck, RunResults};
use crate::workload::{final_reads, final_requests};

pub use series::{run_series, SeriesFailed, SeriesReport, SeriesRun};
pub use setup::Clients;

/// How long to wait for a leader after healing.
const RECOVERY_BUDGET: Duration = Duration::from_secs(15);
/// How long the final reads may take in total.
const FINAL_READ_BUDGET: Duration = Duration::from_secs(10);

/// A harness error: the run could not be carried out. Messages say what failed and what to do.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A file or directory could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The network backend failed.
    #[error("network backend: {0}")]
    Net(#[from] NetError),
    /// The cluster could not be started or driven.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The client could not be built.
    #[error("client: {0}")]
    Client(String),
    /// A disk fault's lazy filesystem could not be set up.
    #[error(transparent)]
    Disk(#[from] crate::disk::DiskError),
    /// The nemesis failed.
    #[error(transparent)]
    Nemesis(#[from] crate::nemesis::NemesisError),
    /// The history could not be written completely.
    #[error("history.jsonl could not be written completely: {0}")]
    History(String),
    /// The HTML report or JUnit XML could not be written.
    #[error("report: {0}")]
    Report(String),
    /// The checker could not interpret the history.
    #[error("checker: {0}")]
    Check(String),
    /// The schedule asks for a fault this run cannot do (checked before anything starts).
    #[error(transparent)]
    Unmet(#[from] crate::nemesis::ScheduleError),
    /// The clock control files could not be written.
    #[error(transparent)]
    Clock(#[from] crate::clock::ClockError),
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEnd {
    /// The history was checked.
    Verdict(Outcome),
    /// The run was interrupted (Ctrl-C); the history may be incomplete.
    Aborted(String),
}

/// What [`run`] returns: how it ended, where it is stored and what was stored.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Verdict or abort.
    pub end: RunEnd,
    /// `results/<name>/<timestamp>`.
    pub run_dir: PathBuf,
    /// The contents of `results.json`.
    pub results: RunResults,
    /// The printable summary table.
    pub summary: String,
    /// CPU time (user + system) this process used during the workload phase, when known.
    pub workload_cpu: Option<Duration>,
}

/// CPU time (utime + stime) this process has used, from `/proc/self/stat` (Linux; USER_HZ 100).
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12th and 13th after the ')'.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// A run-time error together with the run directory it happened in (so the caller can point at
/// the partial results).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct RunFailed {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The error.
    pub error: RunError,
}

/// What the run phases produced before checking.
struct Executed {
    duration_s: f64,
    /// CPU time this process used during the workload phase (workers, nemesis, recording).
    workload_cpu: Option<Duration>,
    aborted: Option<String>,
}

/// Carry out `plan`. Must be called inside a tokio runtime (multi-threaded).
pub async fn run(plan: &Plan) -> Result<RunReport, RunFailed> {
    let caps = preflight::capabilities(plan);
    let pre = preflight::check(plan, &caps).map_err(|e| RunFailed {
        run_dir: plan.results_dir.clone(),
        error: e.into(),
    })?;
    for w in &pre.warnings {
        eprintln!("warning: {w}");
    }
    let (run_dir, started_at) =
        store::create_run_dir(&plan.results_dir, &plan.name).map_err(|error| RunFailed {
            run_dir: plan.results_dir.clone(),
            error,
        })?;
    let fail = |error| RunFailed {
        run_dir: run_dir.clone(),
        error,
    };
    store::write_atomic(&run_dir.join("test.toml"), &plan.to_toml()).map_err(fail)?;
    let hist_path = run_dir.join("history.jsonl");
    let file = std::fs::File::create(&hist_path).map_err(|source| {
        fail(RunError::Io {
            path: hist_path.clone(),
            source,
        })
    })?;
    let recorder = Arc::new(Recorder::new(Box::new(file)));
    pre.record(&recorder);
    let (abort_tx, abort_rx) = tokio::sync::watch::channel(false);
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = abort_tx.send(true);
        }
    });

    let executed = execute(plan, &pre, &run_dir, recorder.clone(), abort_rx).await;
    ctrl_c.abort();
    let history = recorder.finish();
    let base =
        |check: RunCheck, duration_s: f64, aborted: Option<String>, h: &crate::history::History| {
            let stats = RunStats::from_history(h);
            let ok = stats.outcomes.get("all").map(|o| o.ok).unwrap_or(0);
            RunResults {
                name: plan.name.clone(),
                started_at: started_at.clone(),
                seed: plan.seed,
                rerun: plan.rerun_command(),
                config: plan.config_pairs(),
                duration_s,
                throughput: if duration_s > 0.0 {
                    ok as f64 / duration_s
                } else {
                    0.0
                },
                outcomes: stats.outcomes,
                latency: stats.latency,
                faults: stats.faults,
                check,
                aborted,
                coverage: Coverage::from_history(h),
            }
        };
    let unchecked = |reason: &str| check::unchecked(plan, reason);

    let (executed, history) = match (executed, history) {
        (Ok(e), Ok(h)) => (e, h),
        (Err(e), _) => {
            // Keep what was recorded and say why the run stopped.
            let h = recorder.snapshot();
            let r = base(
                unchecked("not checked: harness error"),
                0.0,
                Some(e.to_string()),
                &h,
            );
            let _ = store::write_results(&run_dir, &r);
            let _ = store::update_latest(&plan.results_dir, &run_dir);
            return Err(fail(e));
        }
        (Ok(e), Err(msg)) => {
            let h = recorder.snapshot();
            let err = RunError::History(msg);
            let r = base(
                unchecked("not checked: history incomplete"),
                e.duration_s,
                Some(err.to_string()),
                &h,
            );
            let _ = store::write_results(&run_dir, &r);
            return Err(fail(err));
        }
    };

    let (check, end) = if let Some(why) = &executed.aborted {
        (
            unchecked("not checked: run aborted"),
            RunEnd::Aborted(why.clone()),
        )
    } else {
        let report = match check::check(plan, &history).await {
            Ok(report) => report,
            Err(err) => {
                // A checker bug is no verdict: keep the run's results and say why.
                let reason = "not checked: checker error";
                let r = base(
                    unchecked(reason),
                    executed.duration_s,
                    Some(err.to_string()),
                    &history,
                );
                let _ = store::write_results(&run_dir, &r);
                let _ = store::update_latest(&plan.results_dir, &run_dir);
                return Err(fail(err));
            }
        };
        let outcome = report.outcome();
        (report, RunEnd::Verdict(outcome))
    };
    let results = base(
        check,
        executed.duration_s,
        executed.aborted.clone(),
        &history,
    );
    store::write_results(&run_dir, &results).map_err(fail)?;
    store::update_latest(&plan.results_dir, &run_dir).map_err(fail)?;
    let report_err = |e: crate::report::ReportError| fail(RunError::Report(e.to_string()));
    crate::report::write_run_report(&run_dir.join("report.html"), &history, &results)
        .map_err(report_err)?;
    if let Some(junit) = &plan.junit {
        for path in [run_dir.join("junit.xml"), junit.clone()] {
            crate::report::write_run_junit(&path, &results.check, &plan.name)
                .map_err(report_err)?;
        }
    }
    let summary = render_summary(&results, &run_dir.display().to_string());
    Ok(RunReport {
        end,
        run_dir,
        results,
        summary,
        workload_cpu: executed.workload_cpu,
    })
}

/// Set up, run the workload under the nemesis, heal, recover, final reads, stop. Every process
/// started here is stopped before this returns, on every path (the cluster stops on drop).
async fn execute(
    plan: &Plan,
    pre: &preflight::Preflight,
    run_dir: &std::path::Path,
    recorder: Arc<Recorder>,
    mut abort: tokio::sync::watch::Receiver<bool>,
) -> Result<Executed, RunError> {
    // Dropped (removing the control files) when this returns, after every node has stopped.
    let clock = match &pre.clock {
        Some(c) => Some(Arc::new(ClockControl::create(
            c.lib.clone(),
            &plan.cluster.node_ids(),
            c.monotonic,
        )?)),
        None => None,
    };
    let spec = setup::clocked_spec(&plan.cluster, clock.as_deref());
    let (net, placement) = setup::backend(plan).await?;
    // Mounted before the nodes start and declared before the cluster, so that on every path the
    // nodes are stopped (the cluster drops) before their filesystems are unmounted.
    let disks = if pre.schedule.needs_lazyfs() {
        Some(setup::mount_disks(&plan.cluster.node_ids(), run_dir).await?)
    } else {
        None
    };
    let cluster = tokio::select! {
        c = Cluster::start_on(&spec, net.as_ref(), &placement, run_dir) => Arc::new(c?),
        _ = abort.wait_for(|a| *a) => {
            let _ = net.shutdown();
            return Ok(Executed { duration_s: 0.0, workload_cpu: None, aborted: Some("interrupted (Ctrl-C) while starting the cluster".into()) });
        }
    };
    if plan.check.is_txn() {
        // A node without POST /txn is a clear error now, not a run full of failures.
        if let Clients::HttpKv(c) = Clients::new(plan, &cluster)? {
            if let Err(e) = c.probe_txn().await {
                cluster.stop_all();
                let _ = net.shutdown();
                return Err(RunError::Client(e.to_string()));
            }
        }
    }
    let cpu0 = process_cpu();
    let phase = workload_phase::Phase {
        plan,
        schedule: &pre.schedule,
        clock: clock.clone(),
        disks: disks.clone(),
    };
    let result = phase
        .run(&cluster, net.clone(), recorder.clone(), abort.clone())
        .await;
    let (duration_s, next_process, final_keys) = match result {
        Ok(r) => r,
        Err(e) => {
            cluster.stop_all();
            let _ = net.shutdown();
            return Err(e);
        }
    };
    let workload_cpu = process_cpu().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
    let mut aborted = abort.borrow().then(|| "interrupted (Ctrl-C)".to_string());
    if aborted.is_none() {
        // Final reads: after healing, once a leader is back (bounded), each key once.
        let clients = Clients::new(plan, &cluster)?;
        let addrs = cluster.client_addrs();
        let reads = async {
            let home = clients
                .wait_recovered(&addrs, RECOVERY_BUDGET)
                .await
                .unwrap_or(0);
            let client = clients.for_home(home);
            final_reads(
                &final_requests(&plan.workload, &final_keys),
                client.as_ref(),
                &recorder,
                next_process,
                FINAL_READ_BUDGET,
            )
            .await
        };
        tokio::select! {
            missing = reads => {
                if !missing.is_empty() {
                    tracing::warn!("final read failed for keys {missing:?}");
                }
            }
            _ = abort.wait_for(|a| *a) => aborted = Some("interrupted (Ctrl-C) during final reads".into()),
        }
    }
    cluster.stop_all();
    drop(disks);
    net.shutdown()?;
    for e in cluster.unexpected_exits() {
        tracing::info!("node exited on its own: {e:?}");
    }
    Ok(Executed {
        duration_s,
        workload_cpu,
        aborted,
    })
}
