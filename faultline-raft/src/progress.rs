//! What a leader knows about each follower's log (`nextIndex`, `matchIndex` of Figure 2) and the
//! quorum arithmetic over it.

/// Replication progress of one follower, kept by the leader.
///
/// Invariant: `match_index < next_index`.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Highest index known to be stored on the follower.
    pub match_index: u64,
    /// Next index to send.
    pub next_index: u64,
    /// True until the follower's log position is known: then send one Append at a time
    /// instead of pipelining.
    pub probing: bool,
    /// A probe is in flight; wait for its answer or the next heartbeat before sending another.
    pub probe_sent: bool,
    /// Heard from this follower since the last check-quorum round.
    pub recent_active: bool,
    /// Highest ReadIndex round the follower has acknowledged in this term.
    pub acked_read_seq: u64,
    /// Tick at which the last snapshot was sent, while its answer is outstanding.
    pub snapshot_sent_at: Option<u64>,
}

impl Progress {
    /// Fresh progress for a new leader whose last index is `last_index` (§5.3).
    pub fn new(last_index: u64) -> Self {
        Progress {
            match_index: 0,
            next_index: last_index + 1,
            probing: true,
            probe_sent: false,
            recent_active: false,
            acked_read_seq: 0,
            snapshot_sent_at: None,
        }
    }
}

/// Size of a majority of `voters` nodes.
pub fn quorum(voters: usize) -> usize {
    voters / 2 + 1
}

/// The highest value that at least a majority of `values` reach (the commit candidate when
/// `values` are match indexes, leader included).
pub fn majority_value(mut values: Vec<u64>) -> u64 {
    values.sort_unstable_by(|a, b| b.cmp(a));
    let q = quorum(values.len());
    values.get(q - 1).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_value_is_reached_by_a_quorum() {
        assert_eq!(majority_value(vec![5, 3, 1]), 3);
        assert_eq!(majority_value(vec![5, 5, 1, 1, 1]), 1);
        assert_eq!(majority_value(vec![9, 7, 7, 2, 1]), 7);
        assert_eq!(majority_value(vec![4]), 4);
    }
}
