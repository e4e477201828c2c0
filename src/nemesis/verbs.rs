//! [`Nemesis`]: the fault verbs, recorded in the history, and the schedule loop.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::partition::Partition;
use super::plan::DiskFault;
use super::plan::{LeaderAction, PlannedFault, Planner};
use super::schedule::NemesisSchedule;
use super::{LeaderProbe, NemesisError};
use crate::cluster::Cluster;
use crate::disk::LazyDisks;
use crate::history::{Op, OpType, Process, Recorder};
use crate::net::{Link, NetBackend, NodeId};

/// What a nemesis run did, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NemesisSummary {
    /// Faults started.
    pub faults: usize,
    /// Verb failures (e.g. a node that did not come back), one line each.
    pub errors: Vec<String>,
}

/// Injects faults into one cluster and records them. Share it behind an `Arc`.
pub struct Nemesis {
    pub(super) cluster: Arc<Cluster>,
    net: Arc<dyn NetBackend>,
    recorder: Arc<Recorder>,
    pub(super) probe: Arc<dyn LeaderProbe>,
    /// The run's lazy filesystems, when the schedule has disk faults.
    pub(super) disks: Option<Arc<LazyDisks>>,
    /// Links currently cut by this nemesis.
    cuts: Mutex<BTreeSet<Link>>,
    errors: Mutex<Vec<String>>,
}

pub(super) fn list(nodes: &[NodeId]) -> String {
    format!("[{}]", nodes.join(" "))
}

/// `[n1 n2]`, followed by `note` if there is one.
pub(super) fn noted(nodes: &[NodeId], note: &str) -> String {
    if note.is_empty() {
        list(nodes)
    } else {
        format!("{} {note}", list(nodes))
    }
}

impl Nemesis {
    /// A nemesis acting on `cluster` and `net`, recording into `recorder`, asking `probe` for
    /// the leader.
    pub fn new(
        cluster: Arc<Cluster>,
        net: Arc<dyn NetBackend>,
        recorder: Arc<Recorder>,
        probe: Arc<dyn LeaderProbe>,
    ) -> Nemesis {
        Nemesis {
            cluster,
            net,
            recorder,
            probe,
            disks: None,
            cuts: Mutex::new(BTreeSet::new()),
            errors: Mutex::new(Vec::new()),
        }
    }

    /// Act on these lazy filesystems for disk faults (mounted over every node's data dir).
    pub fn with_disks(mut self, disks: Arc<LazyDisks>) -> Nemesis {
        self.disks = Some(disks);
        self
    }

    pub(super) fn record(&self, f: &str, value: String, error: Option<String>) {
        tracing::info!(f, value = %value, "nemesis");
        self.recorder.record(Op {
            index: 0,
            time: None,
            process: Process::Nemesis,
            kind: OpType::Info,
            f: f.to_string(),
            key: None,
            value: Value::String(value),
            node: None,
            error,
        });
    }

    /// Record the end of a verb, with the failures joined into `error`.
    pub(super) fn done(&self, f: &str, value: String, failures: Vec<String>) {
        let error = (!failures.is_empty()).then(|| failures.join("; "));
        if let Some(e) = &error {
            tracing::warn!("nemesis {f} {value}: {e}");
            self.errors
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("{f} {value}: {e}"));
        }
        self.record(f, value, error);
    }

    /// SIGKILL `nodes`.
    pub fn kill(&self, nodes: &[NodeId]) {
        self.kill_noted(nodes, "");
    }

    pub(super) fn kill_noted(&self, nodes: &[NodeId], note: &str) {
        self.per_node("kill", nodes, note, |n| self.cluster.kill(n));
    }

    /// Record verb `f` on `nodes` (with `note`), apply `act` to each node, and record the end
    /// with the nodes it failed on.
    pub(super) fn per_node(
        &self,
        f: &str,
        nodes: &[NodeId],
        note: &str,
        act: impl Fn(&str) -> Result<(), crate::cluster::ClusterError>,
    ) {
        let value = noted(nodes, note);
        self.record(f, value.clone(), None);
        let failures = nodes
            .iter()
            .filter_map(|n| act(n).err().map(|e| e.to_string()))
            .collect();
        self.done(f, value, failures);
    }

    /// Start `nodes` again (those not running), all at once, and wait until they are ready.
    pub async fn restart(&self, nodes: &[NodeId]) {
        let value = list(nodes);
        self.record("restart", value.clone(), None);
        let stopped: Vec<NodeId> = nodes
            .iter()
            .filter(|n| !self.cluster.is_running(n))
            .cloned()
            .collect();
        let failures = self
            .cluster
            .restart_all(&stopped)
            .await
            .into_iter()
            .filter_map(|r| r.err())
            .map(|e| e.to_string().lines().next().unwrap_or_default().to_string())
            .collect();
        self.done("restart", value, failures);
    }

    /// SIGSTOP `nodes`.
    pub fn pause(&self, nodes: &[NodeId]) {
        self.pause_noted(nodes, "");
    }

    pub(super) fn pause_noted(&self, nodes: &[NodeId], note: &str) {
        self.per_node("pause", nodes, note, |n| self.cluster.pause(n));
    }

    /// SIGCONT `nodes`.
    pub fn resume(&self, nodes: &[NodeId]) {
        self.per_node("resume", nodes, "", |n| self.cluster.resume(n));
    }

    /// Replace the current cuts with `partition`'s.
    pub fn partition(&self, partition: &Partition) -> Result<(), NemesisError> {
        self.record("partition", partition.description.clone(), None);
        let res = self.set_cuts(&partition.cuts);
        let failures = res
            .as_ref()
            .err()
            .map(|e| e.to_string())
            .into_iter()
            .collect();
        self.done("partition", partition.description.clone(), failures);
        res
    }

    /// Cut nothing.
    pub fn heal(&self) -> Result<(), NemesisError> {
        self.record("heal", "all links".into(), None);
        let res = self.set_cuts(&BTreeSet::new());
        let failures = res
            .as_ref()
            .err()
            .map(|e| e.to_string())
            .into_iter()
            .collect();
        self.done("heal", "all links".into(), failures);
        res
    }

    fn set_cuts(&self, cuts: &BTreeSet<Link>) -> Result<(), NemesisError> {
        self.net
            .set_cuts(cuts)
            .map_err(|source| NemesisError::Net {
                backend: self.net.name(),
                source,
            })?;
        *self.cuts.lock().unwrap_or_else(|e| e.into_inner()) = cuts.clone();
        Ok(())
    }

    /// Undo everything: heal partitions and failing disks, resume paused nodes, restart dead ones
    /// (including nodes that crashed on their own). Records only what it actually does. Idempotent.
    pub async fn heal_all(&self) -> Result<(), NemesisError> {
        let cut = !self
            .cuts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty();
        let healed = if cut {
            self.heal()
        } else {
            // Nothing recorded as cut, but make sure the backend agrees.
            self.set_cuts(&BTreeSet::new())
        };
        let failing = self.failing_disks();
        if !failing.is_empty() {
            self.disk_heal(&failing).await;
        }
        let ids = self.cluster.node_ids();
        let paused: Vec<NodeId> = ids
            .iter()
            .filter(|n| self.cluster.is_paused(n))
            .cloned()
            .collect();
        if !paused.is_empty() {
            self.resume(&paused);
        }
        let dead: Vec<NodeId> = ids
            .iter()
            .filter(|n| !self.cluster.is_running(n))
            .cloned()
            .collect();
        if !dead.is_empty() {
            self.restart(&dead).await;
        }
        healed
    }

    /// Start one planned fault; returns the undo step.
    async fn start(&self, fault: &PlannedFault) -> Result<Undo, NemesisError> {
        Ok(match fault {
            PlannedFault::Kill(nodes) => {
                self.kill(nodes);
                Undo::Restart(nodes.clone())
            }
            PlannedFault::Pause(nodes) => {
                self.pause(nodes);
                Undo::Resume(nodes.clone())
            }
            PlannedFault::Partition(p) => {
                self.partition(p)?;
                Undo::Heal
            }
            PlannedFault::Disk { fault, nodes, seed } => match fault {
                DiskFault::LoseUnfsynced => {
                    self.lose_unfsynced(nodes, None);
                    Undo::Restart(nodes.clone())
                }
                DiskFault::TornWrite => {
                    self.lose_unfsynced(nodes, Some(*seed));
                    Undo::Restart(nodes.clone())
                }
                DiskFault::Error | DiskFault::Full => {
                    self.disk_fail(nodes, *fault);
                    Undo::DiskHeal(nodes.clone())
                }
            },
            PlannedFault::OnLeader { action, fallback } => {
                let ids = self.cluster.node_ids();
                let leader = self.probe.leader().await.filter(|l| ids.contains(l));
                let target = leader.clone().unwrap_or_else(|| fallback.clone());
                let note = match &leader {
                    Some(l) => format!("(leader {l})"),
                    None => "(leader unknown)".to_string(),
                };
                let nodes = vec![target.clone()];
                match action {
                    LeaderAction::Kill => {
                        self.kill_noted(&nodes, &note);
                        Undo::Restart(nodes)
                    }
                    LeaderAction::Pause => {
                        self.pause_noted(&nodes, &note);
                        Undo::Resume(nodes)
                    }
                    LeaderAction::Isolate => {
                        let mut p = Partition::isolate(&target, &ids);
                        p.description = format!("{} {note}", p.description);
                        self.partition(&p)?;
                        Undo::Heal
                    }
                    LeaderAction::Reelect => {
                        self.reelect_deposed(&target, &note, &ids).await?;
                        Undo::Heal
                    }
                    LeaderAction::Flap => {
                        self.election_flap(&target, &note, &ids).await;
                        Undo::Restart(ids)
                    }
                    LeaderAction::VoteTwice => {
                        self.vote_twice(&target, fallback, &note, &ids).await?;
                        Undo::All
                    }
                }
            }
        })
    }

    async fn undo(&self, undo: Undo) -> Result<(), NemesisError> {
        match undo {
            Undo::Restart(nodes) => self.restart(&nodes).await,
            Undo::Resume(nodes) => self.resume(&nodes),
            Undo::Heal => self.heal()?,
            Undo::DiskHeal(nodes) => self.disk_heal(&nodes).await,
            Undo::All => self.heal_all().await?,
        }
        Ok(())
    }

    /// Run `schedule` with `seed` until `stop` completes: wait `interval`, start a fault, wait
    /// `duration`, undo it, repeat. Then [`Self::heal_all`]. A backend error stops the loop (after
    /// healing) and is returned.
    pub async fn run(
        &self,
        schedule: &NemesisSchedule,
        seed: u64,
        stop: impl Future<Output = ()>,
    ) -> Result<NemesisSummary, NemesisError> {
        self.run_limited(schedule, seed, None, stop).await
    }

    /// [`Self::run`], but inject at most `max_faults` faults (then wait for `stop`). With a limit
    /// and a late enough `stop` the recorded sequence depends on the seed alone.
    pub async fn run_limited(
        &self,
        schedule: &NemesisSchedule,
        seed: u64,
        max_faults: Option<usize>,
        stop: impl Future<Output = ()>,
    ) -> Result<NemesisSummary, NemesisError> {
        tokio::pin!(stop);
        let mut planner = Planner::new(schedule, &self.cluster.node_ids(), seed);
        let mut faults = 0;
        let result = async {
            loop {
                tokio::select! {
                    _ = &mut stop => return Ok(()),
                    _ = tokio::time::sleep(schedule.interval) => {}
                }
                let next = match max_faults {
                    Some(max) if faults >= max => None,
                    _ => planner.next(),
                };
                let Some(fault) = next else {
                    (&mut stop).await;
                    return Ok(());
                };
                faults += 1;
                // A multi-step fault can take seconds: stop it where it stands at the time limit
                // (every verb is cancel-safe; heal_all below undoes whatever it left).
                let undo = tokio::select! {
                    _ = &mut stop => return Ok(()),
                    undo = self.start(&fault) => undo?,
                };
                tokio::select! {
                    _ = &mut stop => return Ok(()),
                    _ = tokio::time::sleep(schedule.duration) => {}
                }
                self.undo(undo).await?;
            }
        }
        .await;
        let healed = self.heal_all().await;
        result.and(healed)?;
        Ok(NemesisSummary {
            faults,
            errors: self
                .errors
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        })
    }
}

/// How to end a started fault.
enum Undo {
    Restart(Vec<NodeId>),
    Resume(Vec<NodeId>),
    Heal,
    /// Make these nodes' disks work again and restart those that died.
    DiskHeal(Vec<NodeId>),
    /// Heal, resume and restart whatever is still cut, paused or down.
    All,
}
