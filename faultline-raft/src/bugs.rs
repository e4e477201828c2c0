//! Seeded bugs of the reference node (`--bug NAME`). Each switch breaks exactly one Raft rule and
//! is checked at the one place that rule is enforced (search for `bugs.` to find them).

use std::fmt;

/// One seeded bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bug {
    /// Reads served from local state on any node, without ReadIndex.
    StaleRead,
    /// The leader commits (and acknowledges) an entry once it is in its own log.
    EarlyAck,
    /// The vote is not persisted, so a restarted node may vote twice in one term.
    ForgetVote,
    /// Log and hard state live only in memory; the data dir is ignored.
    MemoryLog,
    /// A follower keeps a conflicting suffix instead of truncating it (relabelled with the leader's
    /// term, so replication carries on past it).
    NoTruncate,
    /// CAS is evaluated by the leader at propose time and replicated as a plain write.
    SplitCas,
    /// A leader cut off from the majority keeps serving local reads and ignores higher terms.
    StaleLeader,
    /// The leader answers reads from a lease timed by its wall clock instead of a quorum round
    /// (ReadIndex), and does not step down while the lease holds: right while clocks are true,
    /// wrong once the leader's clock jumps back.
    LeaseRead,
    /// Storage never fsyncs: writes are acknowledged from the page cache.
    NoFsync,
}

/// Every bug with its name, the rule it breaks and the fault that reveals it.
pub const ALL: [(Bug, &str, &str, &str); 9] = [
    (
        Bug::StaleRead,
        "stale-read",
        "reads must be confirmed by the leader (ReadIndex), but any node answers from local state",
        "partitions (a cut-off node serves old values)",
    ),
    (
        Bug::EarlyAck,
        "early-ack",
        "commit only once a majority stores the entry, but the leader commits on its own append",
        "kill or partition of the leader (acknowledged writes are lost)",
    ),
    (
        Bug::ForgetVote,
        "forget-vote",
        "persist votedFor before answering, but the vote is forgotten on restart",
        "vote-twice on a node without pre-vote: the voters restart between two candidates of one term (two leaders); pre-vote hides it",
    ),
    (
        Bug::MemoryLog,
        "memory-log",
        "persist the log and hard state, but everything is kept in memory only",
        "killing every node and restarting (committed writes vanish)",
    ),
    (
        Bug::NoTruncate,
        "no-truncate",
        "delete a conflicting suffix before appending, but the follower keeps its stale entries",
        "reelect-deposed: the deposed leader leads again (it applied uncommitted entries, missed committed ones)",
    ),
    (
        Bug::SplitCas,
        "split-cas",
        "decide CAS when applying it, but the leader decides at propose time and logs a plain write",
        "none needed, more under pause (concurrent CAS both succeed)",
    ),
    (
        Bug::StaleLeader,
        "stale-leader",
        "step down on a higher term or without a quorum, but an isolated leader keeps serving local reads",
        "isolating the leader (it answers reads from an old state)",
    ),
    (
        Bug::LeaseRead,
        "lease-read",
        "confirm leadership with a quorum before a read (ReadIndex), but the leader trusts a lease timed by its wall clock (and keeps leading while it holds)",
        "skew-isolate-leader: the leader's clock jumps back while it is cut off, so its lease outlives its leadership",
    ),
    (
        Bug::NoFsync,
        "no-fsync",
        "fsync the log before acknowledging, but storage never fsyncs (acknowledged writes live in the page cache)",
        "lose-unfsynced (power loss on a majority: acknowledged writes vanish); kill -9 alone cannot, the page cache survives it",
    ),
];

impl Bug {
    /// Look a bug up by its `--bug` name.
    pub fn from_name(name: &str) -> Option<Bug> {
        ALL.iter().find(|(_, n, _, _)| *n == name).map(|(b, ..)| *b)
    }

    /// The `--bug` name.
    pub fn name(self) -> &'static str {
        ALL.iter()
            .find(|(b, ..)| *b == self)
            .map_or("?", |(_, n, _, _)| n)
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The set of enabled bugs (usually empty or one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bugs(Vec<Bug>);

impl Bugs {
    /// No bugs: a correct node.
    pub fn none() -> Self {
        Bugs(Vec::new())
    }

    /// Exactly these bugs.
    pub fn of(bugs: Vec<Bug>) -> Self {
        Bugs(bugs)
    }

    /// Is `bug` switched on?
    pub fn has(&self, bug: Bug) -> bool {
        self.0.contains(&bug)
    }

    /// The `--list-bugs` text: one line per bug, starting with its name, then the rule it breaks and
    /// the fault that reveals it.
    pub fn listing() -> String {
        let mut out = String::new();
        for (_, name, rule, fault) in ALL {
            out.push_str(&format!(
                "{name:<13} breaks: {rule} | revealed by: {fault}\n"
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for (bug, name, ..) in ALL {
            assert_eq!(Bug::from_name(name), Some(bug));
            assert_eq!(bug.name(), name);
        }
        assert_eq!(Bug::from_name("nope"), None);
    }
}
