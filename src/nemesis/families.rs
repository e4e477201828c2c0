//! Fault families, and the order in which a schedule with `order = "families"` visits its faults
//! ([`FamilyCycle`]): in rounds, each round hitting every family once, in a seeded order; within a
//! family, its faults in the order the schedule lists them, one per round. So every family the
//! run can do is hit once per round, and every fault once per `n` rounds for a family of `n`.
//!
//! A family groups faults that exercise the same part of a system: a bug that one member reveals
//! tends to be revealed by the others too (every `crash` fault kills every node), while two
//! families say something different about the system under test.

use std::fmt;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::kind::FaultKind;

/// A group of faults that exercise the same part of a system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// One node or a minority stops (kill, pause) or a majority crashes: availability,
    /// recovery from the survivors' logs.
    Process,
    /// Every node goes down at once (kill-all, power loss): what was not persisted is gone.
    Crash,
    /// The network splits, not aimed at the leader (halves, one node, ring, bridge).
    Partition,
    /// Faults aimed at whoever leads (kill, pause or isolate it): acknowledged writes and reads
    /// of a leader that is about to lose its term.
    Leader,
    /// A deposed leader made to lead again (`reelect-deposed`): log divergence.
    Reelect,
    /// Voters restarted in the middle of an election (`vote-twice`, `election-flap`): votes
    /// that must be persisted.
    Vote,
    /// Node clocks jump or flip (libfaketime): leases and timeouts.
    Clock,
    /// A disk that fails writes (EIO, ENOSPC) under some nodes while they run.
    Disk,
    /// Slow, lossy or resetting links.
    Link,
}

impl Family {
    /// Every family, in the order the summary lists them.
    pub const ALL: [Family; 9] = [
        Family::Process,
        Family::Crash,
        Family::Partition,
        Family::Leader,
        Family::Reelect,
        Family::Vote,
        Family::Clock,
        Family::Disk,
        Family::Link,
    ];

    /// The family's name in histories and summaries.
    pub fn name(self) -> &'static str {
        match self {
            Family::Process => "process",
            Family::Crash => "crash",
            Family::Partition => "partition",
            Family::Leader => "leader",
            Family::Reelect => "reelect",
            Family::Vote => "vote",
            Family::Clock => "clock",
            Family::Disk => "disk",
            Family::Link => "link",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FaultKind {
    /// The family this fault belongs to.
    pub fn family(self) -> Family {
        use FaultKind::*;
        match self {
            Kill | KillMajority | Pause => Family::Process,
            KillAll | LoseUnfsynced | TornWrite => Family::Crash,
            PartitionHalves | PartitionOne | PartitionRing | Bridge => Family::Partition,
            KillLeader | PauseLeader | PartitionLeader => Family::Leader,
            ReelectDeposed => Family::Reelect,
            VoteTwice | ElectionFlap => Family::Vote,
            ClockSkew | ClockStrobe | SkewIsolateLeader => Family::Clock,
            Delay | Slow | Flaky | Loss => Family::Link,
            DiskError | DiskFull => Family::Disk,
        }
    }
}

/// The faults of one family, in schedule order, and which one is next.
#[derive(Debug, Clone)]
struct Members {
    family: Family,
    /// Invariant: non-empty.
    kinds: Vec<FaultKind>,
    next: usize,
}

/// Which fault an `order = "families"` schedule injects next: rounds that visit every family
/// once in a seeded order, each family taking its faults in schedule order, one per round.
#[derive(Debug, Clone)]
pub struct FamilyCycle {
    members: Vec<Members>,
    /// Indices into `members` still to visit this round, next last.
    round: Vec<usize>,
    rng: ChaCha8Rng,
}

/// The RNG stream of the family order (the planner uses stream 0, workers 1.., arrivals MAX).
const STREAM: u64 = u64::MAX - 1;

impl FamilyCycle {
    /// A cycle over `faults` (duplicates ignored), seeded with `seed`.
    pub fn new(faults: &[FaultKind], seed: u64) -> FamilyCycle {
        let mut members: Vec<Members> = Vec::new();
        for &kind in faults {
            match members.iter_mut().find(|m| m.family == kind.family()) {
                Some(m) if m.kinds.contains(&kind) => {}
                Some(m) => m.kinds.push(kind),
                None => members.push(Members {
                    family: kind.family(),
                    kinds: vec![kind],
                    next: 0,
                }),
            }
        }
        members.sort_by_key(|m| m.family);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(STREAM);
        FamilyCycle {
            members,
            round: Vec::new(),
            rng,
        }
    }

    /// The families in the cycle, each with its faults in the order they are taken.
    pub fn families(&self) -> Vec<(Family, Vec<FaultKind>)> {
        self.members
            .iter()
            .map(|m| (m.family, m.kinds.clone()))
            .collect()
    }

    /// Families not yet visited in the current round (all of them between rounds).
    pub fn left_in_round(&self) -> usize {
        if self.round.is_empty() {
            self.members.len()
        } else {
            self.round.len()
        }
    }

    /// The faults the rest of the current round will draw (nothing between rounds).
    pub fn upcoming(&self) -> Vec<FaultKind> {
        self.round
            .iter()
            .map(|&i| {
                let m = &self.members[i];
                m.kinds[m.next % m.kinds.len()]
            })
            .collect()
    }

    /// The next fault; `None` when no fault is left.
    pub fn next_kind(&mut self) -> Option<FaultKind> {
        if self.members.is_empty() {
            return None;
        }
        if self.round.is_empty() {
            self.round = (0..self.members.len()).collect();
            self.round.shuffle(&mut self.rng);
        }
        let m = &mut self.members[self.round.pop()?];
        let kind = m.kinds[m.next % m.kinds.len()];
        m.next = (m.next + 1) % m.kinds.len();
        Some(kind)
    }

    /// Stop injecting `kind` (the run found it cannot do it); a family left without faults
    /// leaves the cycle.
    pub fn drop_kind(&mut self, kind: FaultKind) {
        let Some(i) = self.members.iter().position(|m| m.kinds.contains(&kind)) else {
            return;
        };
        let m = &mut self.members[i];
        let at = m.kinds.iter().position(|k| *k == kind).unwrap_or(0);
        m.kinds.remove(at);
        if at < m.next {
            m.next -= 1;
        }
        if !m.kinds.is_empty() {
            m.next %= m.kinds.len();
            return;
        }
        self.members.remove(i);
        self.round.retain(|j| *j != i);
        for j in &mut self.round {
            if *j > i {
                *j -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use FaultKind::*;

    const DEFAULT_LIKE: [FaultKind; 10] = [
        Kill,
        Pause,
        PartitionHalves,
        Bridge,
        PartitionLeader,
        KillLeader,
        ReelectDeposed,
        VoteTwice,
        KillAll,
        ClockStrobe,
    ];

    fn rounds(c: &mut FamilyCycle, n: usize) -> Vec<Vec<FaultKind>> {
        (0..n)
            .map(|_| {
                let k = c.left_in_round();
                (0..k).filter_map(|_| c.next_kind()).collect()
            })
            .collect()
    }

    #[test]
    fn every_round_hits_every_family_once_and_families_take_turns_in_order() {
        let mut c = FamilyCycle::new(&DEFAULT_LIKE, 3);
        assert_eq!(c.families().len(), 7);
        assert!(c.upcoming().is_empty());
        let first = c.next_kind().unwrap();
        assert_eq!(c.upcoming().len(), 6);
        assert!(!c.upcoming().contains(&first));
        let mut c = FamilyCycle::new(&DEFAULT_LIKE, 3);
        let rs = rounds(&mut c, 3);
        for r in &rs {
            let fams: BTreeSet<Family> = r.iter().map(|k| k.family()).collect();
            assert_eq!((r.len(), fams.len()), (7, 7), "{r:?}");
        }
        // Within a family, faults come in schedule order, one per round.
        let process: Vec<FaultKind> = rs
            .iter()
            .flatten()
            .filter(|k| k.family() == Family::Process)
            .copied()
            .collect();
        assert_eq!(process, [Kill, Pause, Kill]);
        let leader: Vec<FaultKind> = rs
            .iter()
            .flatten()
            .filter(|k| k.family() == Family::Leader)
            .copied()
            .collect();
        assert_eq!(leader, [PartitionLeader, KillLeader, PartitionLeader]);
    }

    #[test]
    fn the_family_order_is_seeded() {
        let order = |seed| rounds(&mut FamilyCycle::new(&DEFAULT_LIKE, seed), 2);
        assert_eq!(order(5), order(5));
        assert_ne!(order(5), order(6));
    }

    #[test]
    fn a_dropped_fault_is_never_drawn_again_and_an_empty_family_leaves() {
        let mut c = FamilyCycle::new(&DEFAULT_LIKE, 9);
        let first = c.next_kind().unwrap();
        c.drop_kind(VoteTwice);
        c.drop_kind(Pause);
        let rs = rounds(&mut c, 3);
        // The rest of the first round, then two full rounds of the six families left.
        assert_eq!(rs[0].len() + 1, if first == VoteTwice { 7 } else { 6 });
        assert!(rs[1..].iter().all(|r| r.len() == 6), "{rs:?}");
        assert!(rs.iter().flatten().all(|k| *k != VoteTwice && *k != Pause));
        assert!(c.families().iter().all(|(f, _)| *f != Family::Vote));
        let mut empty = FamilyCycle::new(&[VoteTwice], 1);
        empty.drop_kind(VoteTwice);
        assert_eq!(empty.next_kind(), None);
        assert_eq!(empty.left_in_round(), 0);
    }
}
