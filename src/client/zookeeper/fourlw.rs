//! ZooKeeper's four-letter words on the client port (`srvr`; the server must whitelist it with
//! `4lw.commands.whitelist`): a server's mode (leader, follower, ...) and its last zxid, whose
//! high 32 bits are the epoch (Zab's term). The nemesis's leader probe is built on it.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Most bytes of an answer read.
const MAX_ANSWER: usize = 16 * 1024;

/// A server's role as `srvr` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Leads the ensemble.
    Leader,
    /// Follows a leader.
    Follower,
    /// A non-voting member.
    Observer,
    /// A single server without an ensemble.
    Standalone,
    /// Running but not serving (electing a leader, or cut off from the quorum).
    NotServing,
}

/// What `srvr` told about one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerState {
    /// Its role.
    pub mode: Mode,
    /// Its last zxid, when it reports one.
    pub zxid: Option<u64>,
}

impl ServerState {
    /// The epoch (high 32 bits of the zxid), when known.
    pub fn epoch(&self) -> Option<u64> {
        self.zxid.map(|z| z >> 32)
    }
}

/// Parse a `srvr` answer. `None` if it is neither a served answer nor ZooKeeper's "not currently
/// serving requests" text (e.g. the word is not whitelisted).
pub fn parse_srvr(answer: &str) -> Option<ServerState> {
    if answer.contains("not currently serving requests") {
        return Some(ServerState {
            mode: Mode::NotServing,
            zxid: None,
        });
    }
    let field = |name: &str| {
        answer
            .lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
    };
    let mode = match field("Mode:")?.as_str() {
        "leader" => Mode::Leader,
        "follower" => Mode::Follower,
        "observer" => Mode::Observer,
        "standalone" => Mode::Standalone,
        _ => return None,
    };
    let zxid = field("Zxid:").and_then(|z| {
        let hex = z.strip_prefix("0x").unwrap_or(&z);
        u64::from_str_radix(hex, 16).ok()
    });
    Some(ServerState { mode, zxid })
}

/// Send a four-letter `word` to `addr` and read the answer until the server closes, all within
/// `timeout`. `None` on any error or timeout.
pub async fn ask(addr: SocketAddr, word: &str, timeout: Duration) -> Option<String> {
    let exchange = async {
        let mut conn = tokio::net::TcpStream::connect(addr).await.ok()?;
        conn.write_all(word.as_bytes()).await.ok()?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 2048];
        while buf.len() < MAX_ANSWER {
            match conn.read(&mut chunk).await {
                Ok(0) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(_) => return None,
            }
        }
        Some(String::from_utf8_lossy(&buf).into_owned())
    };
    tokio::time::timeout(timeout, exchange).await.ok().flatten()
}

/// One server's state from `srvr`, within `timeout`.
pub async fn server_state(addr: SocketAddr, timeout: Duration) -> Option<ServerState> {
    parse_srvr(&ask(addr, "srvr", timeout).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEADER: &str = "Zookeeper version: 3.8.0-debian--1, built on 2024-06-16 UTC\n\
        Latency min/avg/max: 0/0.4/12\nReceived: 120\nSent: 119\nConnections: 3\n\
        Outstanding: 0\nZxid: 0x30000002a\nMode: leader\nNode count: 9\n\
        Proposal sizes last/min/max: 48/36/92\n";

    #[test]
    fn parses_mode_and_epoch() {
        let s = parse_srvr(LEADER).unwrap();
        assert_eq!(s.mode, Mode::Leader);
        assert_eq!(s.zxid, Some(0x3_0000_002a));
        assert_eq!(s.epoch(), Some(3));
        let f = parse_srvr(&LEADER.replace("leader", "follower")).unwrap();
        assert_eq!(f.mode, Mode::Follower);
        let idle = parse_srvr("This ZooKeeper instance is not currently serving requests\n");
        assert_eq!(idle.map(|s| s.mode), Some(Mode::NotServing));
        assert_eq!(
            parse_srvr("srvr is not executed because it is not in the whitelist.\n"),
            None
        );
        assert_eq!(parse_srvr(""), None);
    }

    #[tokio::test]
    async fn asks_a_server_and_gives_up_in_time() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut w = [0u8; 4];
            s.read_exact(&mut w).await.unwrap();
            assert_eq!(&w, b"srvr");
            s.write_all(LEADER.as_bytes()).await.unwrap();
            // ZooKeeper closes the connection after answering.
            drop(s);
            // A second caller is accepted but never answered.
            let (_hang, _) = l.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(10)).await;
        });
        let s = server_state(addr, Duration::from_secs(2)).await;
        assert_eq!(s.map(|s| s.mode), Some(Mode::Leader));
        let started = std::time::Instant::now();
        assert_eq!(server_state(addr, Duration::from_millis(200)).await, None);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
