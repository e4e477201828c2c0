//! A leader lease timed by the node's own clock, for the seeded bug `lease-read` (thesis §6.4.1).
//!
//! The driver notes when it first sees each heartbeat round start ([`Lease::note_round`], before
//! the round's messages leave), and the core says which round a majority acknowledged
//! ([`crate::core::Core::lease_round`]). A follower that acknowledged round `r` refuses pre-votes
//! for an election timeout after it heard round `r`, so no other leader can commit before
//! `start(r) + election timeout`; the lease ends at half that, leaving room for clocks that run at
//! slightly different rates. That is the whole argument, and it holds only while the leader's
//! clock is true.
//!
//! Which clock: the wall clock ([`SystemTime`], CLOCK_REALTIME), as in the leases that went wrong
//! in practice: NTP (or a clock fault) can step it back, stretching the lease past the moment
//! another leader takes over. (A lease on CLOCK_MONOTONIC survives wall-clock steps; it breaks
//! only when the monotonic clock itself loses time, e.g. across a VM suspend. libfaketime can
//! move CLOCK_MONOTONIC too, but a tokio node then fires every timer at once until the clock
//! catches up, so the node falls over in other ways first.)

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

/// Rounds remembered while waiting for their acknowledgement (older ones are dropped).
const MAX_ROUNDS: usize = 256;

/// Start times of recent rounds and the lease length.
#[derive(Debug)]
pub struct Lease {
    length: Duration,
    /// `(term, round, first seen)`, oldest first; rounds increase within a term.
    started: VecDeque<(u64, u64, SystemTime)>,
}

impl Lease {
    /// A lease of `length` after each acknowledged round's start.
    pub fn new(length: Duration) -> Lease {
        Lease {
            length,
            started: VecDeque::new(),
        }
    }

    /// Note that `round` (`(term, round)`) was seen started at `at`. Only the first sighting
    /// counts: later ones would stretch the lease.
    pub fn note_round(&mut self, round: (u64, u64), at: SystemTime) {
        let newer = self
            .started
            .back()
            .is_none_or(|&(t, r, _)| (round.0, round.1) > (t, r));
        if newer {
            self.started.push_back((round.0, round.1, at));
            if self.started.len() > MAX_ROUNDS {
                self.started.pop_front();
            }
        }
    }

    /// Whether the lease holds at `now`, given the round a majority acknowledged (`None` when this
    /// node does not lead or has no acknowledged round yet).
    pub fn holds(&mut self, acked: Option<(u64, u64)>, now: SystemTime) -> bool {
        let Some((term, round)) = acked else {
            return false;
        };
        // Older rounds can never matter again: a later acknowledged round starts later.
        while self
            .started
            .front()
            .is_some_and(|&(t, r, _)| (t, r) < (term, round))
        {
            self.started.pop_front();
        }
        match self.started.front() {
            Some(&(t, r, at)) if (t, r) == (term, round) => now < at + self.length,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_for_its_length_after_the_acknowledged_round_started() {
        let t0 = SystemTime::now();
        let ms = Duration::from_millis;
        let mut lease = Lease::new(ms(150));
        lease.note_round((2, 1), t0);
        lease.note_round((2, 1), t0 + ms(40)); // a second sighting does not stretch it
        lease.note_round((2, 2), t0 + ms(50));
        assert!(!lease.holds(None, t0));
        assert!(lease.holds(Some((2, 1)), t0 + ms(149)));
        assert!(!lease.holds(Some((2, 1)), t0 + ms(150)));
        assert!(lease.holds(Some((2, 2)), t0 + ms(199)));
        // A round never noted (or of another term) gives no lease.
        assert!(!lease.holds(Some((3, 1)), t0 + ms(60)));
    }

    #[test]
    fn a_clock_that_jumps_back_stretches_the_lease() {
        // The point of the bug: "now" read from a clock that went back 5 s is still inside.
        let t0 = SystemTime::now();
        let mut lease = Lease::new(Duration::from_millis(150));
        lease.note_round((1, 7), t0);
        assert!(lease.holds(
            Some((1, 7)),
            t0 + Duration::from_secs(3) - Duration::from_secs(5)
        ));
    }
}
