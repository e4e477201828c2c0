//! Readiness: poll `GET http://<client_addr><path>` until it answers 2xx, the node exits, or the
//! deadline passes. Each attempt is bounded; the loop is bounded by the deadline.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;

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

/// An HTTP client for readiness checks: no proxies from the environment, no redirects.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(ATTEMPT_TIMEOUT)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Poll until ready. `exited` is asked before every attempt and returns the exit description
/// once the node's process is gone.
pub async fn wait_ready(
    client: &reqwest::Client,
    addr: SocketAddr,
    path: &str,
    deadline: Instant,
    exited: impl Fn() -> Option<String>,
) -> Result<(), NotReady> {
    let url = format!("http://{addr}{path}");
    let mut last = "no answer yet".to_string();
    loop {
        if let Some(status) = exited() {
            return Err(NotReady::Exited(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(NotReady::Timeout(last));
        }
        let attempt = tokio::time::timeout(deadline - now, client.get(&url).send()).await;
        match attempt {
            Ok(Ok(resp)) if resp.status().is_success() => return Ok(()),
            Ok(Ok(resp)) => last = format!("GET {url} answered {}", resp.status()),
            Ok(Err(e)) => last = format!("GET {url}: {}", error_chain(&e)),
            Err(_) => last = format!("GET {url}: timed out"),
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
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
