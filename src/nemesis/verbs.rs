//! [`Nemesis`]: the process and partition verbs, recorded in the history, and heal-all. The
//! clock verbs live in `clocks`, the link verbs in `links`, the disk verbs in `disk`, the
//! schedule loop in `runloop`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::note::FaultNote;
use super::partition::Partition;
use super::{LeaderProbe, NemesisError};
use crate::clock::ClockControl;
use crate::cluster::Cluster;
use crate::disk::LazyDisks;
use crate::history::{Op, OpType, Process, Recorder};
use crate::net::{Link, LinkFaults, NetBackend, NodeId};

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
    pub(super) net: Arc<dyn NetBackend>,
    recorder: Arc<Recorder>,
    pub(super) probe: Arc<dyn LeaderProbe>,
    /// The nodes' clock control files, when they run under libfaketime.
    pub(super) clock: Option<Arc<ClockControl>>,
    /// The run's lazy filesystems, when the schedule has disk faults.
    pub(super) disks: Option<Arc<LazyDisks>>,
    /// Links currently cut by this nemesis.
    cuts: Mutex<BTreeSet<Link>>,
    /// Links currently degraded by this nemesis.
    pub(super) degraded: Mutex<LinkFaults>,
    /// Running clock-strobe tasks.
    pub(super) strobes: Mutex<Vec<super::clocks::Strobe>>,
    /// The note the next recorded verb carries (set when a scheduled fault starts).
    note: Mutex<Option<FaultNote>>,
    errors: Mutex<Vec<String>>,
    /// Why the run's history cannot be judged, once something made it so (a lazy filesystem
    /// unmounted from under its node): the run ends as an error, not with a verdict.
    unjudgeable: Mutex<Option<String>>,
    /// Evidence that the nodes run pre-vote (a node seen as a pre-candidate), once seen.
    pub(super) pre_vote: Mutex<Option<String>>,
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
            clock: None,
            disks: None,
            cuts: Mutex::new(BTreeSet::new()),
            degraded: Mutex::new(LinkFaults::none()),
            strobes: Mutex::new(Vec::new()),
            note: Mutex::new(None),
            errors: Mutex::new(Vec::new()),
            unjudgeable: Mutex::new(None),
            pre_vote: Mutex::new(None),
        }
    }

    /// Why this run cannot do `kind`, if it learned so while running (requirements that can be
    /// checked before the run are preflight's): `vote-twice` once the nodes showed pre-vote.
    pub(super) fn cannot_do(&self, kind: super::FaultKind) -> Option<String> {
        let seen = self.pre_vote.lock().unwrap_or_else(|e| e.into_inner());
        match (kind, seen.as_deref()) {
            (super::FaultKind::VoteTwice, Some(evidence)) => Some(format!(
                "the nodes run pre-vote ({evidence}), so two candidates never share a term"
            )),
            _ => None,
        }
    }

    /// The nodes run under libfaketime with these control files: the clock verbs can act.
    pub fn with_clock(mut self, clock: Arc<ClockControl>) -> Nemesis {
        self.clock = Some(clock);
        self
    }

    /// Act on these lazy filesystems for disk faults (mounted over every node's data dir).
    pub fn with_disks(mut self, disks: Arc<LazyDisks>) -> Nemesis {
        self.disks = Some(disks);
        self
    }

    /// Let the next recorded verb carry `note` (its `desc` is filled in from the verb).
    pub(super) fn set_note(&self, note: FaultNote) {
        *self.note.lock().unwrap_or_else(|e| e.into_inner()) = Some(note);
    }

    /// The value to record for a verb described by `desc`: the pending note, if any (taken),
    /// else the plain description.
    pub(super) fn value_of(&self, desc: String) -> Value {
        match self.note.lock().unwrap_or_else(|e| e.into_inner()).take() {
            Some(mut note) => {
                note.desc = desc;
                note.to_value()
            }
            None => Value::String(desc),
        }
    }

    /// Record a nemesis op (`info`) with `value`.
    pub(super) fn record(&self, f: &str, value: Value, error: Option<String>) {
        tracing::info!(f, value = %value, "nemesis");
        self.recorder.record(Op {
            index: 0,
            time: None,
            process: Process::Nemesis,
            kind: OpType::Info,
            f: f.to_string(),
            key: None,
            value,
            node: None,
            error,
        });
    }

    /// Record the end of a verb, with the failures joined into `error`.
    pub(super) fn done(&self, f: &str, value: Value, failures: Vec<String>) {
        let error = (!failures.is_empty()).then(|| failures.join("; "));
        if let Some(e) = &error {
            let desc = super::note::describe(&value);
            tracing::warn!("nemesis {f} {desc}: {e}");
            self.errors
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("{f} {desc}: {e}"));
        }
        self.record(f, value, error);
    }

    /// Mark the run's history as one that cannot be judged (the first reason is kept).
    pub(super) fn make_unjudgeable(&self, why: String) {
        let mut u = self.unjudgeable.lock().unwrap_or_else(|e| e.into_inner());
        u.get_or_insert(why);
    }

    /// The summary of a finished schedule, or the error that makes its run unjudgeable.
    pub(super) fn summary(&self, faults: usize) -> Result<NemesisSummary, NemesisError> {
        let why = self
            .unjudgeable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match why {
            Some(why) => Err(NemesisError::Unjudgeable(why)),
            None => Ok(NemesisSummary {
                faults,
                errors: self.errors(),
            }),
        }
    }

    /// The verb failures so far, one line each.
    pub(super) fn errors(&self) -> Vec<String> {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
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
        let value = self.value_of(noted(nodes, note));
        self.record(f, value.clone(), None);
        let failures = nodes
            .iter()
            .filter_map(|n| act(n).err().map(|e| e.to_string()))
            .collect();
        self.done(f, value, failures);
    }

    /// Start `nodes` again (those not running), all at once, and wait until they are ready.
    pub async fn restart(&self, nodes: &[NodeId]) {
        let value = self.value_of(list(nodes));
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
        let value = self.value_of(partition.description.clone());
        self.record("partition", value.clone(), None);
        let res = self.set_cuts(&partition.cuts);
        self.done("partition", value, failure(&res));
        res
    }

    /// Cut nothing.
    pub fn heal(&self) -> Result<(), NemesisError> {
        let value = Value::String("all links".into());
        self.record("heal", value.clone(), None);
        let res = self.set_cuts(&BTreeSet::new());
        self.done("heal", value, failure(&res));
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

    /// Undo everything: heal partitions, restore degraded links, reset moved clocks, heal failing
    /// disks, resume paused nodes, restart dead ones (including nodes that crashed on their own).
    /// Records only what it actually does. Idempotent.
    pub async fn heal_all(&self) -> Result<(), NemesisError> {
        // A note nobody consumed (a fault stopped before its first verb) must not tag heal ops.
        self.note.lock().unwrap_or_else(|e| e.into_inner()).take();
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
        let restored = self.restore_links_if_degraded();
        self.reset_clocks_if_moved();
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
        healed.and(restored)
    }
}

/// A verb's failure, if any, as the one line `done` records.
pub(super) fn failure<T>(res: &Result<T, NemesisError>) -> Vec<String> {
    res.as_ref()
        .err()
        .map(|e| e.to_string())
        .into_iter()
        .collect()
}
