//! The seeded fault plan: a pure, deterministic sequence of faults drawn from a schedule with a
//! `ChaCha8Rng`. Every step consumes the same random draws whatever happens at run time (the
//! leader's identity is resolved later, with a pre-drawn fallback), so one seed always yields
//! the same sequence.

use std::time::Duration;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::families::Family;
use super::params::{ClockParams, LinkParams};
use super::partition::Partition;
use super::schedule::{FaultKind, NemesisSchedule, Order, Targets};
use crate::net::{LinkFault, NodeId};

/// One planned fault and the schedule kind it was drawn as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The schedule's name for it (`partition-leader`, `clock-skew`, ...).
    pub kind: FaultKind,
    /// What to do.
    pub fault: PlannedFault,
}

/// One planned fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedFault {
    /// Kill these nodes (restart them at the end).
    Kill(Vec<NodeId>),
    /// Pause these nodes (resume them at the end).
    Pause(Vec<NodeId>),
    /// Cut these links (heal at the end).
    Partition(Partition),
    /// Move these nodes' clocks by the given offsets (milliseconds); with `strobe`, flip each
    /// between true time and its offset that often. Reset them at the end.
    Clock {
        /// `(node, offset in ms)`.
        skews: Vec<(NodeId, i64)>,
        /// Flip period for clock-strobe; `None` for a plain skew.
        strobe: Option<Duration>,
    },
    /// Degrade every link to and from these nodes (restore them at the end).
    Link {
        /// The nodes whose links degrade.
        nodes: Vec<NodeId>,
        /// How.
        fault: LinkFault,
        /// Seed of the backend's random draws (jitter, reset times).
        seed: u64,
    },
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
    /// The disk fault a schedule kind stands for ([`DiskFault::Full`] for any non-disk kind; the
    /// planner only asks for disk kinds).
    fn of(kind: FaultKind) -> DiskFault {
        match kind {
            FaultKind::LoseUnfsynced => DiskFault::LoseUnfsynced,
            FaultKind::TornWrite => DiskFault::TornWrite,
            FaultKind::DiskError => DiskFault::Error,
            _ => DiskFault::Full,
        }
    }

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
    /// [`FaultKind::SkewIsolateLeader`]: move its clock by `offset_ms` (back), then cut it off.
    SkewIsolate {
        /// The clock offset, milliseconds (negative: back).
        offset_ms: i64,
    },
}

impl PlannedFault {
    /// The schedule-level verb (`kill`, `pause`, `partition`, `clock-skew`, `delay`, ...).
    pub fn verb(&self) -> &'static str {
        match self {
            PlannedFault::Clock { strobe: None, .. }
            | PlannedFault::OnLeader {
                action: LeaderAction::SkewIsolate { .. },
                ..
            } => "clock-skew",
            PlannedFault::Clock {
                strobe: Some(_), ..
            } => "clock-strobe",
            PlannedFault::Link { fault, .. } => fault.name(),
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
    clock: ClockParams,
    link: LinkParams,
    nodes: Vec<NodeId>,
    order: Order,
}

impl Planner {
    /// A planner for `schedule` over `nodes`, seeded with `seed`.
    pub fn new(schedule: &NemesisSchedule, nodes: &[NodeId], seed: u64) -> Planner {
        Planner {
            rng: ChaCha8Rng::seed_from_u64(seed),
            faults: schedule.faults.clone(),
            targets: schedule.targets,
            clock: schedule.clock,
            link: schedule.link,
            nodes: nodes.to_vec(),
            order: schedule.order,
        }
    }

    fn shuffled(&mut self) -> Vec<NodeId> {
        let mut v = self.nodes.clone();
        v.shuffle(&mut self.rng);
        v
    }

    fn offset_ms(&self) -> i64 {
        i64::try_from(self.clock.offset.as_millis()).unwrap_or(i64::MAX)
    }

    /// `nodes`, each with the clock offset or its negation (a fair coin per node).
    fn skews(&mut self, nodes: Vec<NodeId>) -> Vec<(NodeId, i64)> {
        let ms = self.offset_ms();
        nodes
            .into_iter()
            .map(|n| (n, if self.rng.random::<bool>() { ms } else { -ms }))
            .collect()
    }

    fn link_fault(&self, kind: FaultKind) -> LinkFault {
        let l = &self.link;
        match kind {
            FaultKind::Delay => LinkFault::Delay {
                delay: l.delay,
                jitter: l.jitter,
            },
            FaultKind::Slow => LinkFault::Slow {
                bytes_per_sec: l.bytes_per_sec,
            },
            FaultKind::Flaky => LinkFault::Flaky {
                reset_every: l.reset_every,
            },
            _ => LinkFault::Loss {
                percent: l.loss_percent,
            },
        }
    }
}

impl Iterator for Planner {
    type Item = Planned;

    /// The next fault; `None` when the schedule has no faults or there are no nodes.
    fn next(&mut self) -> Option<Planned> {
        if self.faults.is_empty() || self.nodes.is_empty() {
            return None;
        }
        let kind = self.faults[self.rng.random_range(0..self.faults.len())];
        self.plan(kind)
    }
}

impl Planner {
    /// Plan one fault of `kind` (targets, partition shape, offsets drawn from the planner's
    /// stream); `None` when there are no nodes. `order = "families"` schedules pick the kind
    /// themselves ([`super::families::FamilyCycle`]) and call this.
    pub fn plan(&mut self, kind: FaultKind) -> Option<Planned> {
        if self.nodes.is_empty() {
            return None;
        }
        let shuffled = self.shuffled();
        let pick = |k: usize| {
            let mut v = shuffled[..k].to_vec();
            v.sort();
            v
        };
        let hit = pick(self.targets.count(self.nodes.len()));
        let fault = match kind {
            FaultKind::Kill => PlannedFault::Kill(pick(self.targets.count(self.nodes.len()))),
            FaultKind::KillMajority => {
                PlannedFault::Kill(pick(Targets::Majority.count(self.nodes.len())))
            }
            FaultKind::KillAll => PlannedFault::Kill(pick(self.nodes.len())),
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
            FaultKind::ClockSkew => PlannedFault::Clock {
                skews: self.skews(hit),
                strobe: None,
            },
            FaultKind::ClockStrobe => PlannedFault::Clock {
                skews: self.skews(hit),
                strobe: Some(self.clock.strobe_every),
            },
            FaultKind::SkewIsolateLeader => PlannedFault::OnLeader {
                action: LeaderAction::SkewIsolate {
                    offset_ms: -self.offset_ms(),
                },
                fallback: shuffled[0].clone(),
            },
            FaultKind::Delay | FaultKind::Slow | FaultKind::Flaky | FaultKind::Loss => {
                PlannedFault::Link {
                    nodes: hit,
                    fault: self.link_fault(kind),
                    seed: self.rng.random(),
                }
            }
            FaultKind::LoseUnfsynced
            | FaultKind::TornWrite
            | FaultKind::DiskError
            | FaultKind::DiskFull => PlannedFault::Disk {
                fault: DiskFault::of(kind),
                // In a families schedule a crash-family fault (power loss) is what the family
                // says: every node down at once.
                nodes: if self.order == Order::Families && kind.family() == Family::Crash {
                    pick(self.nodes.len())
                } else {
                    hit
                },
                // Only disk faults draw this, so other schedules' sequences stay as they were.
                seed: self.rng.random(),
            },
        };
        Some(Planned { kind, fault })
    }
}

#[cfg(test)]
mod tests;
