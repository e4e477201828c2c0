//! The schedule loop: wait `interval`, ask who leads, start the next planned fault (its first
//! recorded op carries a [`FaultNote`] with the targets and their roles), wait `duration`, undo
//! it, repeat; heal everything at the end.

use std::future::Future;

use tokio::time::Instant;

use super::note::{FaultNote, TargetRole};
use super::partition::Partition;
use super::plan::{DiskFault, LeaderAction, Planned, PlannedFault, Planner};
use super::schedule::{NemesisSchedule, Order};
use super::verbs::{Nemesis, NemesisSummary};
use super::NemesisError;
use crate::net::NodeId;

/// How to end a started fault.
pub(super) enum Undo {
    Restart(Vec<NodeId>),
    Resume(Vec<NodeId>),
    Heal,
    ClockReset(Vec<NodeId>),
    RestoreLinks,
    /// Put the clocks right, then heal (skew-isolate-leader).
    ClockResetHeal(Vec<NodeId>),
    /// Make these nodes' disks work again and restart those that died.
    DiskHeal(Vec<NodeId>),
    /// Heal, resume and restart whatever is still cut, paused or down.
    All,
}

/// The nodes `fault` hits, once the leader (if needed) is known.
fn targets(fault: &PlannedFault, target: &NodeId, ids: &[NodeId]) -> Vec<NodeId> {
    match fault {
        PlannedFault::Kill(n) | PlannedFault::Pause(n) => n.clone(),
        PlannedFault::Partition(p) => p.hit(ids),
        PlannedFault::Clock { skews, .. } => skews.iter().map(|(n, _)| n.clone()).collect(),
        PlannedFault::Link { nodes, .. } | PlannedFault::Disk { nodes, .. } => nodes.clone(),
        PlannedFault::OnLeader { .. } => vec![target.clone()],
    }
}

impl Nemesis {
    /// Start one planned fault, with `leader` as the probe saw it just before; returns the undo.
    /// `id` numbers the fault in its note when faults may overlap.
    pub(super) async fn start(
        &self,
        planned: &Planned,
        leader: Option<NodeId>,
        id: Option<u64>,
    ) -> Result<Undo, NemesisError> {
        let ids = self.cluster.node_ids();
        let fallback = match &planned.fault {
            PlannedFault::OnLeader { fallback, .. } => fallback.clone(),
            _ => NodeId::new(),
        };
        let target = leader.clone().unwrap_or_else(|| fallback.clone());
        let hit = targets(&planned.fault, &target, &ids);
        let mut note = FaultNote {
            fault: planned.kind.name().to_string(),
            desc: String::new(),
            targets: hit
                .iter()
                .map(|n| (n.clone(), TargetRole::of(n, leader.as_deref())))
                .collect(),
            offsets_ms: Default::default(),
            strobe_every_ms: None,
            id,
        };
        match &planned.fault {
            PlannedFault::Clock { skews, strobe } => {
                note.offsets_ms = skews.iter().cloned().collect();
                note.strobe_every_ms = strobe.map(|d| d.as_millis() as u64);
            }
            PlannedFault::OnLeader {
                action: LeaderAction::SkewIsolate { offset_ms },
                ..
            } => {
                note.offsets_ms = [(target.clone(), *offset_ms)].into();
            }
            _ => {}
        }
        self.set_note(note);
        Ok(match &planned.fault {
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
            PlannedFault::Clock { skews, strobe } => {
                match strobe {
                    Some(every) => self.clock_strobe(skews, *every),
                    None => self.clock_skew(skews),
                }
                Undo::ClockReset(skews.iter().map(|(n, _)| n.clone()).collect())
            }
            PlannedFault::Link { nodes, fault, seed } => {
                self.degrade_links(nodes, *fault, *seed)?;
                Undo::RestoreLinks
            }
            PlannedFault::Disk { fault, nodes, seed } => match fault {
                DiskFault::LoseUnfsynced | DiskFault::TornWrite => {
                    let tear = (*fault == DiskFault::TornWrite).then_some(*seed);
                    self.lose_unfsynced(nodes, tear);
                    Undo::Restart(nodes.clone())
                }
                DiskFault::Error | DiskFault::Full => {
                    self.disk_fail(nodes, *fault);
                    Undo::DiskHeal(nodes.clone())
                }
            },
            PlannedFault::OnLeader { action, fallback } => {
                self.on_leader(*action, &target, fallback, leader.is_some(), &ids)
                    .await?
            }
        })
    }

    /// The leader-targeted faults, aimed at `target` (the leader, or the fallback if unknown).
    async fn on_leader(
        &self,
        action: LeaderAction,
        target: &NodeId,
        fallback: &NodeId,
        known: bool,
        ids: &[NodeId],
    ) -> Result<Undo, NemesisError> {
        let note = if known {
            format!("(leader {target})")
        } else {
            "(leader unknown)".to_string()
        };
        let nodes = vec![target.clone()];
        Ok(match action {
            LeaderAction::Kill => {
                self.kill_noted(&nodes, &note);
                Undo::Restart(nodes)
            }
            LeaderAction::Pause => {
                self.pause_noted(&nodes, &note);
                Undo::Resume(nodes)
            }
            LeaderAction::Isolate => {
                let mut p = Partition::isolate(target, ids);
                p.description = format!("{} {note}", p.description);
                self.partition(&p)?;
                Undo::Heal
            }
            LeaderAction::Reelect => {
                self.reelect_deposed(target, &note, ids).await?;
                Undo::Heal
            }
            LeaderAction::Flap => {
                self.election_flap(target, &note, ids).await;
                Undo::Restart(ids.to_vec())
            }
            LeaderAction::VoteTwice => {
                self.vote_twice(target, fallback, &note, ids).await?;
                Undo::All
            }
            LeaderAction::SkewIsolate { offset_ms } => {
                // Clock first: the lease it stretches must be the one the leader holds now.
                self.clock_skew(&[(target.clone(), offset_ms)]);
                let mut p = Partition::isolate(target, ids);
                p.description = format!("{} {note} (skew-isolate-leader)", p.description);
                self.partition(&p)?;
                Undo::ClockResetHeal(nodes)
            }
        })
    }

    pub(super) async fn undo(&self, undo: Undo) -> Result<(), NemesisError> {
        match undo {
            Undo::Restart(nodes) => self.restart(&nodes).await,
            Undo::Resume(nodes) => self.resume(&nodes),
            Undo::Heal => self.heal()?,
            Undo::ClockReset(nodes) => self.clock_reset(&nodes),
            Undo::RestoreLinks => self.restore_links()?,
            Undo::ClockResetHeal(nodes) => {
                self.clock_reset(&nodes);
                self.heal()?;
            }
            Undo::DiskHeal(nodes) => self.disk_heal(&nodes).await,
            Undo::All => self.heal_all().await?,
        }
        Ok(())
    }

    /// Run `schedule` with `seed` until `stop` completes: wait `interval`, start a fault, wait
    /// `duration`, undo it, repeat. Then [`Self::heal_all`]. A backend error stops the loop (after
    /// healing) and is returned. An `order = "families"` schedule runs its own loop
    /// (`rounds`).
    pub async fn run(
        &self,
        schedule: &NemesisSchedule,
        seed: u64,
        stop: impl Future<Output = ()>,
    ) -> Result<NemesisSummary, NemesisError> {
        self.run_limited(schedule, seed, None, stop).await
    }

    /// [`Self::run`] for a run that ends at `deadline`: an `order = "families"` schedule shortens
    /// its faults so that every family is hit before it.
    pub async fn run_until(
        &self,
        schedule: &NemesisSchedule,
        seed: u64,
        deadline: Instant,
        stop: impl Future<Output = ()>,
    ) -> Result<NemesisSummary, NemesisError> {
        self.run_inner(schedule, seed, None, Some(deadline), stop)
            .await
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
        self.run_inner(schedule, seed, max_faults, None, stop).await
    }

    async fn run_inner(
        &self,
        schedule: &NemesisSchedule,
        seed: u64,
        max_faults: Option<usize>,
        deadline: Option<Instant>,
        stop: impl Future<Output = ()>,
    ) -> Result<NemesisSummary, NemesisError> {
        tokio::pin!(stop);
        if schedule.order == Order::Families {
            let result = self
                .run_families(schedule, seed, deadline, max_faults, &mut stop)
                .await;
            let healed = self.heal_all().await;
            let faults = result.and_then(|f| healed.map(|()| f))?;
            return self.summary(faults);
        }
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
                let Some(planned) = next else {
                    (&mut stop).await;
                    return Ok(());
                };
                faults += 1;
                // A multi-step fault can take seconds: stop it where it stands at the time limit
                // (every verb is cancel-safe; heal_all below undoes whatever it left).
                let undo = tokio::select! {
                    _ = &mut stop => return Ok(()),
                    undo = async {
                        // Who leads, for the leader-targeted faults and for coverage.
                        let ids = self.cluster.node_ids();
                        let leader = self.probe.leader().await.filter(|l| ids.contains(l));
                        self.start(&planned, leader, None).await
                    } => undo?,
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
        self.summary(faults)
    }
}
