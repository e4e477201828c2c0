//! The `ready` table of a cluster spec: how the harness decides a node has started. Either an
//! HTTP GET that must answer 2xx, or a TCP check that must connect (and, when asked, answer a
//! sent line with text containing `expect`, e.g. ZooKeeper's `srvr` four-letter word), on the
//! client port, the peer port or a named port. The polling itself lives in `cluster::ready`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which of a node's ports a check or template refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRef {
    /// The client port (`{client_addr}`).
    Client,
    /// The peer port (`{peer_addr}`).
    Peer,
    /// A named port from the spec's `ports`.
    Named(String),
}

impl PortRef {
    /// Parse a port name as written in the spec (`client`, `peer` or one of `named`).
    pub fn parse(name: &str, named: &[String]) -> Result<PortRef, String> {
        match name {
            "client" => Ok(PortRef::Client),
            "peer" => Ok(PortRef::Peer),
            n if named.iter().any(|m| m == n) => Ok(PortRef::Named(n.to_string())),
            n => Err(format!(
                "unknown port {n:?}; use \"client\", \"peer\" or a name listed in `ports`"
            )),
        }
    }
}

impl fmt::Display for PortRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortRef::Client => f.write_str("client"),
            PortRef::Peer => f.write_str("peer"),
            PortRef::Named(n) => f.write_str(n),
        }
    }
}

/// What a readiness check asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadyProbe {
    /// `GET http://<port's address><path>` answers 2xx.
    HttpGet {
        /// Path starting with `/` (e.g. `/health`).
        path: String,
        /// The port asked (default: the client port).
        port: PortRef,
    },
    /// A TCP connection to the port succeeds; with `send`, the text is written (plus nothing
    /// else: include a newline if the protocol needs one) and the answer, read until the node
    /// closes the connection or 4 KiB arrive, must contain `expect`.
    Tcp {
        /// The port asked.
        port: PortRef,
        /// Bytes to send once connected.
        send: Option<String>,
        /// Text the answer must contain (needs `send`).
        expect: Option<String>,
    },
}

/// How the harness decides a node has started: `probe` must pass within `timeout` of the spawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyCheck {
    /// What is asked.
    pub probe: ReadyProbe,
    /// How long a node may take to become ready after it is spawned.
    pub timeout: Duration,
}

/// The raw `ready` table.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReady {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_get: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout: String,
}

fn default_timeout() -> String {
    "10s".to_string()
}

/// Validate a raw `ready` table; `Err((field, message))` names the offending field.
pub(super) fn validate(raw: RawReady, named: &[String]) -> Result<ReadyCheck, (String, String)> {
    let err = |f: &str, m: String| (format!("ready.{f}"), m);
    let probe = match (raw.http_get, raw.tcp) {
        (Some(path), None) => {
            if raw.send.is_some() || raw.expect.is_some() {
                return Err(err(
                    "send",
                    "`send` and `expect` belong to a `tcp` check".into(),
                ));
            }
            if !path.starts_with('/') {
                return Err(err(
                    "http_get",
                    format!("must be a path starting with '/', got {path:?}"),
                ));
            }
            let port = match raw.port {
                Some(p) => PortRef::parse(&p, named).map_err(|m| err("port", m))?,
                None => PortRef::Client,
            };
            ReadyProbe::HttpGet { path, port }
        }
        (None, Some(port)) => {
            if raw.port.is_some() {
                return Err(err(
                    "port",
                    "a `tcp` check names its port itself: tcp = \"client\"".into(),
                ));
            }
            if raw.expect.is_some() && raw.send.is_none() {
                return Err(err(
                    "expect",
                    "needs `send`: the text that makes the node answer".into(),
                ));
            }
            if raw.send.as_deref() == Some("") {
                return Err(err("send", "must not be empty".into()));
            }
            ReadyProbe::Tcp {
                port: PortRef::parse(&port, named).map_err(|m| err("tcp", m))?,
                send: raw.send,
                expect: raw.expect,
            }
        }
        (Some(_), Some(_)) => {
            return Err(err(
                "tcp",
                "give either `http_get` or `tcp`, not both".into(),
            ))
        }
        (None, None) => {
            return Err((
                "ready".into(),
                "needs `http_get = \"/path\"` or `tcp = \"client\"`".into(),
            ))
        }
    };
    let timeout = humantime::parse_duration(&raw.timeout).map_err(|e| {
        err(
            "timeout",
            format!(
                "{:?} is not a duration ({e}); write e.g. \"10s\"",
                raw.timeout
            ),
        )
    })?;
    if timeout.is_zero() {
        return Err(err("timeout", "must be greater than zero".into()));
    }
    Ok(ReadyCheck { probe, timeout })
}

/// The raw table for a validated check (for `test.toml`).
pub(super) fn to_raw(check: &ReadyCheck) -> RawReady {
    let timeout = humantime::format_duration(check.timeout).to_string();
    match &check.probe {
        ReadyProbe::HttpGet { path, port } => RawReady {
            http_get: Some(path.clone()),
            port: (*port != PortRef::Client).then(|| port.to_string()),
            timeout,
            ..RawReady::default()
        },
        ReadyProbe::Tcp { port, send, expect } => RawReady {
            tcp: Some(port.to_string()),
            send: send.clone(),
            expect: expect.clone(),
            timeout,
            ..RawReady::default()
        },
    }
}
