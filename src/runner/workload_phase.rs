//! The workload phase: client workers and the nemesis side by side until the time limit (or
//! Ctrl-C), with the progress display; then the nemesis heals everything (heal, resume, restart).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::setup::Clients;
use super::RunError;
use crate::client::Client;
use crate::clock::ClockControl;
use crate::cluster::Cluster;
use crate::disk::LazyDisks;
use crate::history::Recorder;
use crate::nemesis::{Nemesis, NemesisSchedule};
use crate::net::NetBackend;
use crate::plan::Plan;
use crate::report::progress::RunProgress;
use crate::workload::{drive, DriveConfig, Progress};

/// What the phase runs: the plan, the schedule as restricted to what the run can do, the nodes'
/// clock control files (when they run under libfaketime) and lazy filesystems (when disks fail).
pub struct Phase<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// The schedule to run.
    pub schedule: &'a NemesisSchedule,
    /// The clock control files, when a fault moves clocks.
    pub clock: Option<Arc<ClockControl>>,
    /// The nodes' lazy filesystems, when a fault hits disks.
    pub disks: Option<Arc<LazyDisks>>,
}

impl Phase<'_> {
    /// Run workers and nemesis; returns the workload phase's length in seconds, the first process
    /// id no worker used and the keys to read at the end. The nemesis has healed everything when
    /// this returns, also on Ctrl-C.
    pub async fn run(
        &self,
        cluster: &Arc<Cluster>,
        net: Arc<dyn NetBackend>,
        recorder: Arc<Recorder>,
        abort: watch::Receiver<bool>,
    ) -> Result<(f64, u64, Vec<String>), RunError> {
        let plan = self.plan;
        let clients = Clients::new(plan, cluster)?;
        let workers: Vec<Arc<dyn Client>> =
            (0..plan.clients).map(|i| clients.for_home(i)).collect();
        let probe = clients.leader_probe(cluster.client_addrs());
        let mut nemesis = Nemesis::new(cluster.clone(), net, recorder.clone(), probe);
        if let Some(clock) = &self.clock {
            nemesis = nemesis.with_clock(clock.clone());
        }
        if let Some(disks) = &self.disks {
            nemesis = nemesis.with_disks(disks.clone());
        }

        let start = Instant::now();
        let deadline = start + plan.time_limit;
        let stop = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(Progress::default());
        let cfg = DriveConfig {
            concurrency: plan.clients,
            rate: plan.rate,
            seed: plan.seed,
            deadline,
        };

        let mut nem_abort = abort.clone();
        let nemesis_stop = async move {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {}
                _ = nem_abort.wait_for(|a| *a) => {}
            }
        };
        let nemesis_fut = nemesis.run_until(self.schedule, plan.seed, deadline, nemesis_stop);
        let drive_fut = async {
            let stats = drive(
                &plan.workload,
                &cfg,
                workers,
                recorder.clone(),
                stop.clone(),
                progress.clone(),
            )
            .await;
            (stats, start.elapsed())
        };
        let bar = RunProgress::new(plan.time_limit);
        let mut watch_abort = abort.clone();
        let watcher = async {
            loop {
                tokio::select! {
                    _ = watch_abort.wait_for(|a| *a) => {
                        stop.store(true, Ordering::SeqCst);
                        break;
                    }
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
                let now = Instant::now();
                bar.update(
                    now - start,
                    progress.ok.load(Ordering::Relaxed),
                    progress.fail.load(Ordering::Relaxed),
                    progress.info.load(Ordering::Relaxed),
                    "",
                );
                if now >= deadline {
                    bar.phase("healing, final reads, checking");
                    break;
                }
            }
        };
        let (nemesis_result, (stats, elapsed), ()) = tokio::join!(nemesis_fut, drive_fut, watcher);
        bar.finish();
        // The nemesis heals at the end of its run; an error there is a harness error.
        let summary = nemesis_result?;
        for e in &summary.errors {
            tracing::warn!("nemesis: {e}");
        }
        Ok((elapsed.as_secs_f64(), stats.next_process, stats.final_keys))
    }
}
