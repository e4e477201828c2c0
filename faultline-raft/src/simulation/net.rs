//! The simulated network: every message sent is dropped, delivered once, or duplicated, each copy
//! after its own random delay (so messages overtake each other), and links can be cut one
//! direction at a time. A cut is checked on delivery, so it also drops what was in flight.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Knobs;
use crate::types::Message;

/// A message on its way.
struct InFlight {
    /// Round at which it arrives.
    at: u64,
    msg: Message,
}

/// Messages in flight and the cut links.
pub(super) struct Net {
    in_flight: Vec<InFlight>,
    /// `cut[from][to]`: messages on that directed link are lost.
    cut: Vec<Vec<bool>>,
}

/// The node index of a simulated node's id (`n1` is 0).
pub(super) fn index_of(id: &str) -> usize {
    id.get(1..)
        .and_then(|n| n.parse::<usize>().ok())
        .map_or(usize::MAX, |n| n - 1)
}

impl Net {
    pub(super) fn new(nodes: usize) -> Self {
        Net {
            in_flight: Vec::new(),
            cut: vec![vec![false; nodes]; nodes],
        }
    }

    /// Put `msgs` on the wire at round `now`.
    pub(super) fn send(&mut self, rng: &mut ChaCha8Rng, k: &Knobs, now: u64, msgs: Vec<Message>) {
        for msg in msgs {
            if rng.random_bool(k.drop) {
                continue;
            }
            if rng.random_bool(k.duplicate) {
                let at = now + delay(rng, k);
                self.in_flight.push(InFlight {
                    at,
                    msg: msg.clone(),
                });
            }
            let at = now + delay(rng, k);
            self.in_flight.push(InFlight { at, msg });
        }
    }

    /// Take the messages due by round `now` whose link is not cut, in random order.
    pub(super) fn due(&mut self, rng: &mut ChaCha8Rng, now: u64) -> Vec<Message> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.in_flight.len() {
            if self.in_flight[i].at <= now {
                let m = self.in_flight.swap_remove(i).msg;
                let (from, to) = (index_of(&m.from), index_of(&m.to));
                if !self.is_cut(from, to) {
                    out.push(m);
                }
            } else {
                i += 1;
            }
        }
        // swap_remove already scrambles; a shuffle makes the order independent of the queue.
        for j in (1..out.len()).rev() {
            out.swap(j, rng.random_range(0..=j));
        }
        out
    }

    pub(super) fn is_cut(&self, from: usize, to: usize) -> bool {
        self.cut
            .get(from)
            .and_then(|row| row.get(to))
            .copied()
            .unwrap_or(true)
    }

    /// Cut the directed link `from → to`.
    pub(super) fn cut_one_way(&mut self, from: usize, to: usize) {
        self.cut[from][to] = true;
    }

    /// Cut every link between `side` and the other nodes, both ways.
    pub(super) fn partition(&mut self, side: &[usize]) {
        let n = self.cut.len();
        for &a in side {
            for b in (0..n).filter(|b| !side.contains(b)) {
                self.cut[a][b] = true;
                self.cut[b][a] = true;
            }
        }
    }

    /// Restore every link.
    pub(super) fn heal(&mut self) {
        for row in &mut self.cut {
            row.fill(false);
        }
    }
}

/// How many rounds a message travels: usually a few, sometimes longer than an election timeout.
fn delay(rng: &mut ChaCha8Rng, k: &Knobs) -> u64 {
    if rng.random_bool(k.long_delay) {
        rng.random_range(1..=4 * u64::from(k.election_ticks))
    } else {
        rng.random_range(1..=k.max_delay)
    }
}
