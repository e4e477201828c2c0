//! [`FaultKind`]: every fault a schedule can name, with its schedule name and what it needs from
//! the run ([`FaultKind::requirements`]). Adding a fault is adding a variant, its name in
//! [`FaultKind::ALL`] and its line in `requirements`.

use std::fmt;

use super::requirements::{HostNeed, Requirement};

/// One kind of fault a schedule can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// SIGKILL some nodes; restart them when the fault ends.
    Kill,
    /// SIGKILL a random majority (whatever `targets` says); restart them when the fault ends.
    KillMajority,
    /// SIGKILL every node at once; restart them all when the fault ends. What a node kept only
    /// in memory is gone.
    KillAll,
    /// SIGSTOP some nodes; SIGCONT them when the fault ends.
    Pause,
    /// SIGKILL the current leader (a random node if unknown); restart it when the fault ends.
    KillLeader,
    /// SIGSTOP the current leader (a random node if unknown); SIGCONT it when the fault ends.
    /// The classic way to make an old leader come back believing it still leads.
    PauseLeader,
    /// Split the nodes into a random minority and majority.
    PartitionHalves,
    /// Isolate one random node from all others.
    PartitionOne,
    /// Isolate the current leader (asked from the `LeaderProbe`; a random node if unknown).
    PartitionLeader,
    /// Majority ring: every node sees a majority, but no two nodes see the same one.
    PartitionRing,
    /// Two halves joined by one bridge node that sees both.
    Bridge,
    /// Depose the leader while clients write to it, let a majority commit other entries at the
    /// same indices, heal, then make the deposed leader win again (see `nemesis::sequences`).
    ReelectDeposed,
    /// Kill the leader, then kill and restart the other nodes one by one during the election
    /// that follows (see `nemesis::sequences`).
    ElectionFlap,
    /// Steer one election so that a majority votes, restarts, and is asked again in the same term
    /// by a second candidate (see `nemesis::vote_twice`; needs a node without pre-vote).
    VoteTwice,
    /// Jump some nodes' clocks by ± the schedule's clock offset (libfaketime); reset them when
    /// the fault ends.
    ClockSkew,
    /// Flip some nodes' clocks between true time and ± the offset, every `strobe_every`.
    ClockStrobe,
    /// Jump the leader's clock back by the offset and cut it off from every other node: a
    /// leader that trusts a clock-timed lease keeps serving reads after it was replaced.
    SkewIsolateLeader,
    /// Delay every chunk on the links of some nodes by `delay` plus up to `jitter` (proxy).
    Delay,
    /// Cap the links of some nodes at `bytes_per_sec` (proxy).
    Slow,
    /// Reset connections on the links of some nodes, one every `reset_every` on average (proxy).
    Flaky,
    /// Drop `loss_percent` % of the packets on the links of some nodes (netns + nftables).
    Loss,
    /// Power loss: SIGKILL some nodes, discard every write their lazy filesystem holds that was
    /// not fsynced, restart them when the fault ends (see `disk`; needs root and FUSE).
    LoseUnfsynced,
    /// Like [`FaultKind::LoseUnfsynced`], but a prefix of the last unsynced write reaches the disk.
    TornWrite,
    /// Writes and fsyncs on some nodes' data directories fail with EIO while the fault lasts.
    DiskError,
    /// Writes on some nodes' data directories fail with ENOSPC while the fault lasts.
    DiskFull,
}

impl FaultKind {
    /// Every fault with its schedule name.
    pub const ALL: [(FaultKind, &'static str); 25] = [
        (FaultKind::Kill, "kill"),
        (FaultKind::KillMajority, "kill-majority"),
        (FaultKind::KillAll, "kill-all"),
        (FaultKind::Pause, "pause"),
        (FaultKind::KillLeader, "kill-leader"),
        (FaultKind::PauseLeader, "pause-leader"),
        (FaultKind::PartitionHalves, "partition-halves"),
        (FaultKind::PartitionOne, "partition-one"),
        (FaultKind::PartitionLeader, "partition-leader"),
        (FaultKind::PartitionRing, "partition-ring"),
        (FaultKind::Bridge, "bridge"),
        (FaultKind::ReelectDeposed, "reelect-deposed"),
        (FaultKind::ElectionFlap, "election-flap"),
        (FaultKind::VoteTwice, "vote-twice"),
        (FaultKind::ClockSkew, "clock-skew"),
        (FaultKind::ClockStrobe, "clock-strobe"),
        (FaultKind::SkewIsolateLeader, "skew-isolate-leader"),
        (FaultKind::Delay, "delay"),
        (FaultKind::Slow, "slow"),
        (FaultKind::Flaky, "flaky"),
        (FaultKind::Loss, "loss"),
        (FaultKind::LoseUnfsynced, "lose-unfsynced"),
        (FaultKind::TornWrite, "torn-write"),
        (FaultKind::DiskError, "disk-error"),
        (FaultKind::DiskFull, "disk-full"),
    ];

    /// The name used in schedule files.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, n)| *n)
            .unwrap_or("?")
    }

    /// Parse a schedule name.
    pub fn from_name(s: &str) -> Option<FaultKind> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(k, _)| *k)
    }

    /// What the run must have for this fault; checked before the run starts
    /// ([`super::NemesisSchedule::restrict`]).
    pub fn requirements(self) -> &'static [Requirement] {
        use FaultKind::*;
        use HostNeed::*;
        use Requirement as R;
        // What the hosts must take comes first: on SSH hosts that is the reason to name.
        match self {
            Kill | KillMajority | KillAll | Pause => &[R::Host(Process)],
            PartitionHalves | PartitionOne | PartitionRing | Bridge => &[R::Host(Partition)],
            KillLeader | PauseLeader | ElectionFlap => &[R::Host(Process), R::LeaderProbe],
            PartitionLeader => &[R::Host(Partition), R::LeaderProbe],
            ReelectDeposed => &[R::Host(Process), R::Host(Partition), R::LeaderProbe],
            VoteTwice => &[R::Host(Process), R::NodeStatus],
            ClockSkew | ClockStrobe => &[R::Host(Clock), R::Libfaketime],
            SkewIsolateLeader => &[
                R::Host(Clock),
                R::Host(Partition),
                R::Libfaketime,
                R::LeaderProbe,
            ],
            // Link quality is the network backend's: delay, bandwidth and resets live in the
            // proxy, random loss in the netns backend's nftables rules.
            Delay | Slow | Flaky => &[R::Net("proxy")],
            Loss => &[R::Net("netns"), R::Root],
            LoseUnfsynced | TornWrite | DiskError | DiskFull => {
                &[R::Host(Disk), R::Root, R::DevFuse]
            }
        }
    }

    /// Whether this fault moves node clocks (the nodes then start under libfaketime).
    pub fn moves_clocks(self) -> bool {
        self.requirements()
            .iter()
            .any(|r| matches!(r, Requirement::Libfaketime))
    }

    /// Whether this fault acts through the lazy filesystem (mounted over every node's data
    /// directory before the nodes start; see `crate::disk`).
    pub fn needs_lazyfs(self) -> bool {
        self.requirements()
            .iter()
            .any(|r| matches!(r, Requirement::DevFuse))
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_clock_and_disk_faults_are_known() {
        for (k, n) in FaultKind::ALL {
            assert_eq!(FaultKind::from_name(n), Some(k));
            assert_eq!(k.name(), n);
        }
        let clocks: Vec<_> = FaultKind::ALL
            .iter()
            .filter(|(k, _)| k.moves_clocks())
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(
            clocks,
            ["clock-skew", "clock-strobe", "skew-isolate-leader"]
        );
        let disks: Vec<_> = FaultKind::ALL
            .iter()
            .filter(|(k, _)| k.needs_lazyfs())
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(
            disks,
            ["lose-unfsynced", "torn-write", "disk-error", "disk-full"]
        );
    }
}
