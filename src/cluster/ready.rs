//! Readiness: poll a node until its check passes ([`ReadyProbe`]: an HTTP GET answering 2xx, or a
//! TCP connection, optionally answering a sent text with an expected one), the node exits, or the
//! deadline passes. Each attempt is bounded; the loop is bounded by the deadline.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::spec::{PortRef, ReadyProbe};
use crate::net::NodeEndpoints;

/// Why a node did not become ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    /// The node's process exited; the string describes its exit status.
    Exited(String),
    /// The deadline passed; the string is the last answer or error seen.
    Timeout(String),
}

/// Longest single attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(500);
/// Pause between attempts.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Most bytes of a TCP answer read.
const MAX_ANSWER: usize = 4096;

/// An HTTP client for readiness checks: no proxies from the environment, no redirects.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(ATTEMPT_TIMEOUT)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// The address the controller uses for port `port` of a node laid out as `ep`.
pub fn port_addr(ep: &NodeEndpoints, port: &PortRef) -> Option<SocketAddr> {
    match port {
        PortRef::Client => Some(ep.client_addr),
        PortRef::Peer => Some(ep.peer_bind),
        PortRef::Named(n) => ep.named_port(n).map(|p| p.bind),
    }
}

/// Poll `probe` at `addr` until it passes. `exited` is asked before every attempt and returns
/// the exit description once the node's process is gone.
pub async fn wait_ready(
    client: &reqwest::Client,
    probe: &ReadyProbe,
    addr: SocketAddr,
    deadline: Instant,
    exited: impl Fn() -> Option<String>,
) -> Result<(), NotReady> {
    let mut last = "no answer yet".to_string();
    loop {
        if let Some(status) = exited() {
            return Err(NotReady::Exited(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(NotReady::Timeout(last));
        }
        let attempt = attempt(client, probe, addr);
        match tokio::time::timeout((deadline - now).min(ATTEMPT_TIMEOUT * 2), attempt).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(why)) => last = why,
            Err(_) => last = format!("{}: timed out", describe(probe, addr)),
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

fn describe(probe: &ReadyProbe, addr: SocketAddr) -> String {
    match probe {
        ReadyProbe::HttpGet { path, .. } => format!("GET http://{addr}{path}"),
        ReadyProbe::Tcp { send: Some(s), .. } => format!("tcp {addr} (sent {s:?})"),
        ReadyProbe::Tcp { send: None, .. } => format!("tcp {addr}"),
    }
}

/// One attempt; `Err` is the answer or error, for the "not ready" message.
async fn attempt(
    client: &reqwest::Client,
    probe: &ReadyProbe,
    addr: SocketAddr,
) -> Result<(), String> {
    let what = describe(probe, addr);
    match probe {
        ReadyProbe::HttpGet { path, .. } => {
            match client.get(format!("http://{addr}{path}")).send().await {
                Ok(resp) if resp.status().is_success() => Ok(()),
                Ok(resp) => Err(format!("{what} answered {}", resp.status())),
                Err(e) => Err(format!("{what}: {}", error_chain(&e))),
            }
        }
        ReadyProbe::Tcp { send, expect, .. } => {
            let mut conn = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| format!("{what}: {e}"))?;
            let Some(send) = send else { return Ok(()) };
            conn.write_all(send.as_bytes())
                .await
                .map_err(|e| format!("{what}: {e}"))?;
            let answer = read_answer(&mut conn, expect.as_deref()).await;
            match expect {
                Some(want) if !answer.contains(want.as_str()) => Err(format!(
                    "{what} answered {:?}, without {want:?}",
                    answer.trim()
                )),
                _ => Ok(()),
            }
        }
    }
}

/// Read until the peer closes, `expect` shows up, or [`MAX_ANSWER`] bytes arrived; an error
/// ends the answer early (the caller judges what arrived).
async fn read_answer(conn: &mut tokio::net::TcpStream, expect: Option<&str>) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while buf.len() < MAX_ANSWER {
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if expect.is_some_and(|e| String::from_utf8_lossy(&buf).contains(e)) {
            break;
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server answering every connection with `answer` and closing it.
    async fn server(answer: &'static str) -> SocketAddr {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let mut b = [0u8; 16];
                let _ = s.read(&mut b).await;
                let _ = s.write_all(answer.as_bytes()).await;
            }
        });
        addr
    }

    fn tcp(send: Option<&str>, expect: Option<&str>) -> ReadyProbe {
        ReadyProbe::Tcp {
            port: PortRef::Client,
            send: send.map(str::to_string),
            expect: expect.map(str::to_string),
        }
    }

    #[tokio::test]
    async fn a_tcp_check_passes_on_the_expected_answer_and_says_what_came_instead() {
        let client = http_client();
        let soon = || Instant::now() + Duration::from_millis(400);
        let serving = server("Zookeeper version: 3.8.0\nMode: follower\n").await;
        let probe = tcp(Some("srvr"), Some("Mode: "));
        assert_eq!(
            wait_ready(&client, &probe, serving, soon(), || None).await,
            Ok(())
        );
        let not_yet = server("This ZooKeeper instance is not currently serving requests\n").await;
        let Err(NotReady::Timeout(why)) =
            wait_ready(&client, &probe, not_yet, soon(), || None).await
        else {
            panic!("must time out");
        };
        assert!(
            why.contains("not currently serving") && why.contains("Mode: "),
            "{why}"
        );
        // Connecting is enough without `send`; a closed port never is.
        assert_eq!(
            wait_ready(&client, &tcp(None, None), not_yet, soon(), || None).await,
            Ok(())
        );
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let r = wait_ready(&client, &tcp(None, None), closed, soon(), || None).await;
        assert!(matches!(r, Err(NotReady::Timeout(_))), "{r:?}");
        let r = wait_ready(&client, &probe, closed, soon(), || {
            Some("exit code 1".into())
        })
        .await;
        assert_eq!(r, Err(NotReady::Exited("exit code 1".into())));
    }
}
