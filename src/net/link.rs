//! Link faults as data: how one directed link misbehaves apart from being cut. The proxy backend
//! delays, slows and resets connections; the netns backend drops packets. A backend refuses the
//! kinds it cannot do ([`super::NetBackend::set_link_faults`]).

use std::collections::BTreeMap;
use std::time::Duration;

use super::Link;

/// How one directed link misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkFault {
    /// Every chunk is delivered `delay` plus a uniform draw from `[0, jitter]` after it was sent;
    /// chunks of one connection keep their order (proxy).
    Delay {
        /// Fixed part.
        delay: Duration,
        /// Largest extra delay.
        jitter: Duration,
    },
    /// The link carries at most `bytes_per_sec`, shared by its connections (proxy).
    Slow {
        /// The cap.
        bytes_per_sec: u64,
    },
    /// Each connection over the link is reset (RST to both ends) after an exponentially
    /// distributed time with mean `reset_every` (proxy).
    Flaky {
        /// Mean time between resets of one connection.
        reset_every: Duration,
    },
    /// `percent` % of the packets are dropped (netns + nftables `numgen random`).
    Loss {
        /// 1..=100.
        percent: u8,
    },
}

impl LinkFault {
    /// The fault's name (`delay`, `slow`, `flaky`, `loss`), as in schedules and histories.
    pub fn name(&self) -> &'static str {
        match self {
            LinkFault::Delay { .. } => "delay",
            LinkFault::Slow { .. } => "slow",
            LinkFault::Flaky { .. } => "flaky",
            LinkFault::Loss { .. } => "loss",
        }
    }

    /// Its parameters for humans: `100ms ±50ms`, `16384 B/s`, `reset every 500ms`, `20%`.
    pub fn describe(&self) -> String {
        let ms = |d: &Duration| format!("{}ms", d.as_millis());
        match self {
            LinkFault::Delay { delay, jitter } => format!("{} +0..{}", ms(delay), ms(jitter)),
            LinkFault::Slow { bytes_per_sec } => format!("{bytes_per_sec} B/s"),
            LinkFault::Flaky { reset_every } => format!("reset every ~{}", ms(reset_every)),
            LinkFault::Loss { percent } => format!("{percent}% loss"),
        }
    }
}

/// The degraded links of a run, and the seed their random draws (jitter, reset times) come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkFaults {
    /// Seed of the backend's random draws for these faults.
    pub seed: u64,
    /// The degraded links; a link not listed is clean.
    pub links: BTreeMap<Link, LinkFault>,
}

impl LinkFaults {
    /// No degraded link.
    pub fn none() -> LinkFaults {
        LinkFaults::default()
    }

    /// `fault` on every directed link to or from one of `nodes`, among `all`.
    pub fn around(nodes: &[String], all: &[String], fault: LinkFault, seed: u64) -> LinkFaults {
        let mut links = BTreeMap::new();
        for a in all {
            for b in all {
                if a != b && (nodes.contains(a) || nodes.contains(b)) {
                    links.insert((a.clone(), b.clone()), fault);
                }
            }
        }
        LinkFaults { seed, links }
    }

    /// The fault on `link`, if any.
    pub fn get(&self, link: &Link) -> Option<LinkFault> {
        self.links.get(link).copied()
    }

    /// Whether no link is degraded.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn around_covers_both_directions_of_every_link_of_the_nodes() {
        let all: Vec<String> = (1..=3).map(|i| format!("n{i}")).collect();
        let f = LinkFault::Loss { percent: 10 };
        let l = LinkFaults::around(&["n2".to_string()], &all, f, 7);
        assert_eq!(l.links.len(), 4);
        assert_eq!(l.get(&("n1".into(), "n2".into())), Some(f));
        assert_eq!(l.get(&("n2".into(), "n3".into())), Some(f));
        assert_eq!(l.get(&("n1".into(), "n3".into())), None);
        assert_eq!(f.describe(), "10% loss");
        assert_eq!(
            LinkFault::Delay {
                delay: Duration::from_millis(100),
                jitter: Duration::from_millis(50)
            }
            .describe(),
            "100ms +0..50ms"
        );
    }
}
