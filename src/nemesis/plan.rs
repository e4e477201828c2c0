//! The seeded fault plan: a pure, deterministic sequence of faults drawn from a schedule with a
//! `ChaCha8Rng`. Every step consumes the same random draws whatever happens at run time (the
//! leader's identity is resolved later, with a pre-drawn fallback), so one seed always yields
//! the same sequence.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::partition::Partition;
use super::schedule::{FaultKind, NemesisSchedule, Targets};
use crate::net::NodeId;

/// One planned fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedFault {
    /// Kill these nodes (restart them at the end).
    Kill(Vec<NodeId>),
    /// Pause these nodes (resume them at the end).
    Pause(Vec<NodeId>),
    /// Cut these links (heal at the end).
    Partition(Partition),
    /// A disk fault on these nodes' lazy filesystems.
    Disk {
        /// Which one.
        fault: DiskFault,
        /// The nodes.
        nodes: Vec<NodeId>,
        /// Seeds where a torn write is cut.
        seed: u64,
    },
    /// Act on whoever leads when the fault starts; `fallback` if no leader is known.
    OnLeader {
        /// What to do to the leader.
        action: LeaderAction,
        /// Node acted on when the leader is unknown.
        fallback: NodeId,
    },
}

/// A fault of the lazy filesystem (see `crate::disk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskFault {
    /// Kill, discard unsynced writes, restart at the end.
    LoseUnfsynced,
    /// Kill, discard unsynced writes but a prefix of the last, restart at the end.
    TornWrite,
    /// Writes and fsyncs fail with EIO until the end.
    Error,
    /// Writes fail with ENOSPC until the end.
    Full,
}

impl DiskFault {
    /// The history verb (`lose-unfsynced`, `torn-write`, `disk-error`, `disk-full`).
    pub fn verb(self) -> &'static str {
        match self {
            DiskFault::LoseUnfsynced => "lose-unfsynced",
            DiskFault::TornWrite => "torn-write",
            DiskFault::Error => "disk-error",
            DiskFault::Full => "disk-full",
        }
    }
}

/// A fault aimed at the current leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaderAction {
    /// SIGKILL it.
    Kill,
    /// SIGSTOP it.
    Pause,
    /// Cut it off from every other node.
    Isolate,
    /// [`FaultKind::ReelectDeposed`]: depose it, then make it lead again.
    Reelect,
    /// [`FaultKind::ElectionFlap`]: kill it, then flap the others during the election.
    Flap,
    /// [`FaultKind::VoteTwice`]: steer the next election so the other nodes are asked twice in
    /// one term, with a restart in between (`fallback` is the other candidate).
    VoteTwice,
}

impl PlannedFault {
    /// The schedule-level verb (`kill`, `pause`, `partition`, or the disk fault's).
    pub fn verb(&self) -> &'static str {
        match self {
            PlannedFault::Disk { fault, .. } => fault.verb(),
            PlannedFault::Kill(_)
            | PlannedFault::OnLeader {
                action: LeaderAction::Kill | LeaderAction::Flap,
                ..
            } => "kill",
            PlannedFault::Pause(_)
            | PlannedFault::OnLeader {
                action: LeaderAction::Pause | LeaderAction::VoteTwice,
                ..
            } => "pause",
            PlannedFault::Partition(_)
            | PlannedFault::OnLeader {
                action: LeaderAction::Isolate | LeaderAction::Reelect,
                ..
            } => "partition",
        }
    }
}

/// Draws faults from a schedule, deterministically from a seed.
pub struct Planner {
    rng: ChaCha8Rng,
    faults: Vec<FaultKind>,
    targets: Targets,
    nodes: Vec<NodeId>,
}

impl Planner {
    /// A planner for `schedule` over `nodes`, seeded with `seed`.
    pub fn new(schedule: &NemesisSchedule, nodes: &[NodeId], seed: u64) -> Planner {
        Planner {
            rng: ChaCha8Rng::seed_from_u64(seed),
            faults: schedule.faults.clone(),
            targets: schedule.targets,
            nodes: nodes.to_vec(),
        }
    }

    fn shuffled(&mut self) -> Vec<NodeId> {
        let mut v = self.nodes.clone();
        v.shuffle(&mut self.rng);
        v
    }
}

impl Iterator for Planner {
    type Item = PlannedFault;

    /// The next fault; `None` when the schedule has no faults or there are no nodes.
    fn next(&mut self) -> Option<PlannedFault> {
        if self.faults.is_empty() || self.nodes.is_empty() {
            return None;
        }
        let kind = self.faults[self.rng.random_range(0..self.faults.len())];
        let shuffled = self.shuffled();
        let pick = |k: usize| {
            let mut v = shuffled[..k].to_vec();
            v.sort();
            v
        };
        Some(match kind {
            FaultKind::Kill => PlannedFault::Kill(pick(self.targets.count(self.nodes.len()))),
            FaultKind::Pause => PlannedFault::Pause(pick(self.targets.count(self.nodes.len()))),
            FaultKind::PartitionHalves => PlannedFault::Partition(Partition::halves(&shuffled)),
            FaultKind::PartitionOne => {
                PlannedFault::Partition(Partition::isolate(&shuffled[0], &self.nodes))
            }
            FaultKind::PartitionLeader => PlannedFault::OnLeader {
                action: LeaderAction::Isolate,
                fallback: shuffled[0].clone(),
            },
            FaultKind::KillLeader => PlannedFault::OnLeader {
                action: LeaderAction::Kill,
                fallback: shuffled[0].clone(),
            },
            FaultKind::PauseLeader => PlannedFault::OnLeader {
                action: LeaderAction::Pause,
                fallback: shuffled[0].clone(),
            },
            FaultKind::PartitionRing => PlannedFault::Partition(Partition::ring(&shuffled)),
            FaultKind::Bridge => PlannedFault::Partition(Partition::bridge(&shuffled)),
            FaultKind::ReelectDeposed => PlannedFault::OnLeader {
                action: LeaderAction::Reelect,
                fallback: shuffled[0].clone(),
            },
            FaultKind::ElectionFlap => PlannedFault::OnLeader {
                action: LeaderAction::Flap,
                fallback: shuffled[0].clone(),
            },
            FaultKind::VoteTwice => PlannedFault::OnLeader {
                action: LeaderAction::VoteTwice,
                fallback: shuffled[0].clone(),
            },
            FaultKind::LoseUnfsynced
            | FaultKind::TornWrite
            | FaultKind::DiskError
            | FaultKind::DiskFull => {
                let fault = match kind {
                    FaultKind::LoseUnfsynced => DiskFault::LoseUnfsynced,
                    FaultKind::TornWrite => DiskFault::TornWrite,
                    FaultKind::DiskError => DiskFault::Error,
                    _ => DiskFault::Full,
                };
                // Only disk faults draw this, so other schedules' sequences stay as they were.
                let seed = self.rng.random();
                PlannedFault::Disk {
                    fault,
                    nodes: pick(self.targets.count(self.nodes.len())),
                    seed,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn mixed() -> NemesisSchedule {
        NemesisSchedule::parse(
            "name='mixed'\nfaults=['kill','pause','partition-halves','partition-one','partition-leader','partition-ring','bridge']\n",
            Path::new("m.toml"),
        )
        .unwrap()
    }

    fn nodes() -> Vec<NodeId> {
        (1..=5).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn same_seed_same_plan_other_seed_other_plan() {
        let a: Vec<_> = Planner::new(&mixed(), &nodes(), 7).take(20).collect();
        let b: Vec<_> = Planner::new(&mixed(), &nodes(), 7).take(20).collect();
        let c: Vec<_> = Planner::new(&mixed(), &nodes(), 8).take(20).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        // Every kind shows up in 20 draws from 7 kinds with this seed.
        assert!(a
            .iter()
            .any(|f| matches!(f, PlannedFault::Kill(v) if v.len() == 1)));
        assert!(a.iter().any(|f| matches!(f, PlannedFault::OnLeader { .. })));
    }

    #[test]
    fn targeted_sequences_act_on_the_leader() {
        let s = NemesisSchedule::parse(
            "name='t'\nfaults=['reelect-deposed','election-flap','vote-twice']\n",
            Path::new("t.toml"),
        )
        .unwrap();
        let plan: Vec<_> = Planner::new(&s, &nodes(), 3).take(10).collect();
        for f in &plan {
            match f {
                PlannedFault::OnLeader {
                    action: LeaderAction::Reelect,
                    ..
                } => assert_eq!(f.verb(), "partition"),
                PlannedFault::OnLeader {
                    action: LeaderAction::Flap,
                    ..
                } => assert_eq!(f.verb(), "kill"),
                PlannedFault::OnLeader {
                    action: LeaderAction::VoteTwice,
                    ..
                } => assert_eq!(f.verb(), "pause"),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn disk_faults_hit_the_targets() {
        let s = NemesisSchedule::parse(
            "name='d'\nfaults=['lose-unfsynced','torn-write','disk-error','disk-full']\ntargets='majority'\n",
            Path::new("d.toml"),
        )
        .unwrap();
        assert!(s.needs_lazyfs());
        let plan: Vec<_> = Planner::new(&s, &nodes(), 5).take(12).collect();
        let verbs: std::collections::BTreeSet<&str> = plan.iter().map(|f| f.verb()).collect();
        assert_eq!(verbs.len(), 4, "{verbs:?}");
        for f in &plan {
            let PlannedFault::Disk { nodes, .. } = f else {
                panic!("unexpected {f:?}")
            };
            assert_eq!(nodes.len(), 3);
        }
        assert!(!mixed().needs_lazyfs());
    }

    #[test]
    fn empty_schedule_plans_nothing() {
        assert_eq!(
            Planner::new(&NemesisSchedule::none(), &nodes(), 1).next(),
            None
        );
    }
}
