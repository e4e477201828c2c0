//! The nftables rule set that implements cuts: one `bridge`-family table in the bridge namespace
//! whose forward chain drops the IPv4 packets of every cut directed link. Rendering is pure; the
//! backend loads the text with one `nft -f -`, which nftables applies as a single transaction, so
//! replacing the cut set is atomic.
//!
//! Why the bridge: every node-to-node packet crosses it, so one table sees every link, and the
//! controller's own traffic (from the host address) matches no rule. Why DROP and not REJECT: a
//! partition must look like lost packets (connects and reads stall), not like a closed port.
//! ARP is left alone, so a cut link fails like a silent network rather than a missing host.
//!
//! Lossy links (`loss`) get a rule that drops a random share of their packets with nftables'
//! `numgen random mod 100 < P`, after the cut rules. (netem would do this and delays too, but it
//! needs the `sch_netem` qdisc, which kernels without modules or netem built in lack.)

use std::fmt::Write;
use std::net::Ipv4Addr;

/// Name of the table (bridge family) in the bridge namespace.
pub const TABLE: &str = "faultline";

/// A directed link that drops `percent` % of its packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lossy {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// 1..=100.
    pub percent: u8,
}

/// The `nft -f` script that makes `drops` (source, destination) the complete set of dropped
/// directed links and `lossy` the complete set of lossy ones. Declaring the table before flushing
/// it makes the script valid whether or not the table exists yet.
pub fn render(drops: &[(Ipv4Addr, Ipv4Addr)], lossy: &[Lossy]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "table bridge {TABLE}");
    let _ = writeln!(s, "flush table bridge {TABLE}");
    let _ = writeln!(s, "table bridge {TABLE} {{");
    let _ = writeln!(s, "  chain forward {{");
    let _ = writeln!(s, "    type filter hook forward priority 0; policy accept;");
    for (src, dst) in drops {
        let _ = writeln!(s, "    ip saddr {src} ip daddr {dst} drop");
    }
    for l in lossy {
        // `numgen random mod 100` yields 0..=99, so `< 100` is out of nft's range: 100 % is a
        // plain drop.
        let share = match l.percent {
            p if p >= 100 => String::new(),
            p => format!("numgen random mod 100 < {p} "),
        };
        let _ = writeln!(s, "    ip saddr {} ip daddr {} {share}drop", l.src, l.dst);
    }
    let _ = writeln!(s, "  }}");
    let _ = writeln!(s, "}}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_flush_then_one_drop_per_directed_link() {
        let a = Ipv4Addr::new(10, 77, 1, 1);
        let b = Ipv4Addr::new(10, 77, 1, 2);
        let text = render(&[(a, b), (b, a)], &[]);
        let flush = text.find("flush table bridge faultline").unwrap();
        let first = text
            .find("ip saddr 10.77.1.1 ip daddr 10.77.1.2 drop")
            .unwrap();
        assert!(flush < first);
        assert!(text.contains("ip saddr 10.77.1.2 ip daddr 10.77.1.1 drop"));
        assert!(!text.contains("reject"));
    }

    #[test]
    fn an_empty_cut_set_keeps_only_the_accepting_chain() {
        let text = render(&[], &[]);
        assert!(text.contains("policy accept"));
        assert!(!text.contains("drop"));
    }

    #[test]
    fn lossy_links_drop_a_random_share_after_the_cuts() {
        let a = Ipv4Addr::new(10, 77, 1, 1);
        let b = Ipv4Addr::new(10, 77, 1, 2);
        let text = render(
            &[(a, b)],
            &[Lossy {
                src: b,
                dst: a,
                percent: 30,
            }],
        );
        let cut = text
            .find("ip saddr 10.77.1.1 ip daddr 10.77.1.2 drop")
            .unwrap();
        let loss = text
            .find("ip saddr 10.77.1.2 ip daddr 10.77.1.1 numgen random mod 100 < 30 drop")
            .unwrap();
        assert!(cut < loss);
        let all = render(
            &[],
            &[Lossy {
                src: a,
                dst: b,
                percent: 100,
            }],
        );
        assert!(all.contains("ip saddr 10.77.1.1 ip daddr 10.77.1.2 drop"));
        assert!(!all.contains("numgen"));
    }
}
