//! Choosing free local ports for node listeners.
//!
//! Nodes bind their own client and peer ports, so the harness must pick ports and release them
//! before the node starts. Ports are taken from *below* the kernel's ephemeral range
//! (`net.ipv4.ip_local_port_range`): ports the kernel hands out for outgoing connections and for
//! `bind(0)` can then never collide with a node's port, not even while a killed node is down and
//! waiting to be restarted on the same port. A process-wide cursor starting at a pid- and
//! time-derived offset keeps concurrent runs on one host apart; every candidate is bind-checked.
//! If no such port is free, fall back to `bind(0)`.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU32, Ordering};

/// Lowest port we hand out.
const LOW: u16 = 10_000;

fn ephemeral_low() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|p| p.parse().ok()))
        .unwrap_or(32_768)
}

static CURSOR: AtomicU32 = AtomicU32::new(u32::MAX);

fn initial_offset() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::process::id()
        .wrapping_mul(7919)
        .wrapping_add(nanos / 1000)
}

/// A port on 127.0.0.1 that is free right now (nothing bound to it), outside the ephemeral range
/// when possible.
pub fn free_port() -> std::io::Result<u16> {
    let high = ephemeral_low();
    if high > LOW + 100 {
        let span = u32::from(high - LOW);
        let _ = CURSOR.compare_exchange(
            u32::MAX,
            initial_offset() % span,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        for _ in 0..span.min(2_000) {
            let n = CURSOR.fetch_add(1, Ordering::SeqCst) % span;
            let port = LOW + n as u16;
            if TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).is_ok() {
                return Ok(port);
            }
        }
    }
    let l = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    Ok(l.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_free_and_below_the_ephemeral_range() {
        let a = free_port().unwrap();
        let b = free_port().unwrap();
        assert_ne!(a, b);
        assert!(a < ephemeral_low() || ephemeral_low() <= LOW + 100);
        TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, a))).unwrap();
    }
}
