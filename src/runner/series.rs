//! A series of runs (`--test-count N`): [`run`] each plan of a [`Series`] in turn, stopping at
//! the first invalid run unless `keep_going`, and at the first run that did not reach a verdict
//! (Ctrl-C, harness error). Every run is stored like a single one; what the series adds is the
//! order, the stop rule and the worst outcome.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{run, RunEnd, RunFailed, RunReport};
use crate::exit::Outcome;
use crate::plan::{Plan, Series};

/// One finished run of a series.
#[derive(Debug, Clone)]
pub struct SeriesRun {
    /// 0-based position in the series.
    pub index: u32,
    /// What the runner returned (its seed is in `report.results.seed`).
    pub report: RunReport,
    /// Wall time of the whole run (start, workload, heal, final reads, check, store).
    pub wall: Duration,
}

/// What a series did.
#[derive(Debug, Clone)]
pub struct SeriesReport {
    /// Runs asked for.
    pub planned: u32,
    /// The runs made, in order.
    pub runs: Vec<SeriesRun>,
    /// Ctrl-C came while a run was checking or between runs: the series ended after that run.
    pub interrupted: bool,
}

/// How bad an outcome is for a series: valid < unknown < invalid.
fn severity(o: Outcome) -> u8 {
    match o {
        Outcome::Valid => 0,
        Outcome::Unknown => 1,
        Outcome::Invalid => 2,
    }
}

impl SeriesReport {
    /// The worst verdict over the runs (valid < unknown < invalid), or why the series ended
    /// without one (the first run that was aborted).
    pub fn end(&self) -> RunEnd {
        if self.interrupted {
            return RunEnd::Aborted("interrupted (Ctrl-C) between runs of the series".into());
        }
        let mut worst = Outcome::Valid;
        for r in &self.runs {
            match &r.report.end {
                RunEnd::Aborted(why) => return RunEnd::Aborted(why.clone()),
                RunEnd::Verdict(o) if severity(*o) > severity(worst) => worst = *o,
                RunEnd::Verdict(_) => {}
            }
        }
        RunEnd::Verdict(worst)
    }

    /// Whether the series stopped before making every run it planned.
    pub fn stopped_early(&self) -> bool {
        (self.runs.len() as u32) < self.planned
    }
}

/// A run of a series failed with a harness error: the runs before it, and the error.
#[derive(Debug)]
pub struct SeriesFailed {
    /// The runs that finished before the failing one.
    pub done: SeriesReport,
    /// The failing run's error.
    pub failed: RunFailed,
}

/// Run `series` over `base`; `each` sees every finished run as soon as it is stored (to print
/// it, or to write a JUnit file that is complete so far).
pub async fn run_series(
    base: &Plan,
    series: &Series,
    mut each: impl FnMut(&SeriesRun, &SeriesReport),
) -> Result<SeriesReport, Box<SeriesFailed>> {
    let mut done = SeriesReport {
        planned: series.count,
        runs: Vec::new(),
        interrupted: false,
    };
    // Ctrl-C while a run is checking or between runs ends the series after that run (a run in
    // its workload phase is aborted by its own handler).
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::SeqCst);
        }
    });
    let result = runs(base, series, &mut done, &interrupted, &mut each).await;
    ctrl_c.abort();
    match result {
        Ok(()) => Ok(done),
        Err(failed) => Err(Box::new(SeriesFailed { done, failed })),
    }
}

async fn runs(
    base: &Plan,
    series: &Series,
    done: &mut SeriesReport,
    interrupted: &AtomicBool,
    each: &mut impl FnMut(&SeriesRun, &SeriesReport),
) -> Result<(), RunFailed> {
    for i in 0..series.count {
        if interrupted.load(Ordering::SeqCst) {
            done.interrupted = true;
            break;
        }
        let plan = series.plan(base, i);
        let t0 = Instant::now();
        let report = run(&plan).await?;
        if interrupted.load(Ordering::SeqCst) && matches!(report.end, RunEnd::Verdict(_)) {
            // The run itself finished; the series does not go on.
            done.interrupted = true;
        }
        let stop = done.interrupted
            || match &report.end {
                RunEnd::Aborted(_) => true,
                RunEnd::Verdict(o) => *o == Outcome::Invalid && !series.keep_going,
            };
        let finished = SeriesRun {
            index: i,
            report,
            wall: t0.elapsed(),
        };
        done.runs.push(finished);
        if let Some(last) = done.runs.last() {
            each(last, done);
        }
        if stop {
            break;
        }
    }
    Ok(())
}
