//! Talking to nodes: the `Client` trait (one implementation per wire protocol: `http-kv`, `etcd`,
//! `zookeeper`)
//! and the classification of every answer as ok / fail / info. A client never invents or guesses
//! a result: `fail` only when the operation certainly did not happen.

pub mod etcd;
pub mod zookeeper;

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::history::OpType;

/// A request a workload asks a client to perform against the cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Read a key.
    Read {
        /// The key.
        key: String,
    },
    /// Write a value.
    Write {
        /// The key.
        key: String,
        /// The value.
        value: Value,
    },
    /// Compare-and-set.
    Cas {
        /// The key.
        key: String,
        /// Expected current value.
        from: Value,
        /// New value.
        to: Value,
    },
}

impl Request {
    /// The value recorded for this request's invoke (and for completions that carry no read
    /// result): `null` for reads, the value for writes, `[from, to]` for cas.
    pub fn recorded_value(&self) -> Value {
        match self {
            Request::Read { .. } => Value::Null,
            Request::Write { value, .. } => value.clone(),
            Request::Cas { from, to, .. } => Value::Array(vec![from.clone(), to.clone()]),
        }
    }
}

/// How a request ended, ready to be recorded as the completion of its invoke.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// `Ok`, `Fail` (certainly not applied) or `Info` (unknown). Never `Invoke`.
    pub kind: OpType,
    /// Read result on ok reads; otherwise the request's value.
    pub value: Value,
    /// The node that answered, when known.
    pub node: Option<String>,
    /// Why it failed or is unknown.
    pub error: Option<String>,
}

/// A boxed future, so `Client` stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A protocol adapter that performs requests against a cluster.
pub trait Client: Send + Sync {
    /// Perform `req`, following redirects, within the client's timeout. Never panics, never
    /// returns `Fail` unless the request certainly did not take effect.
    fn invoke<'a>(&'a self, req: &'a Request) -> BoxFuture<'a, Completion>;
}

pub mod http_kv;

pub use http_kv::{HttpKvClient, HttpKvOptions};

/// The HTTP client every protocol adapter uses: no redirects followed by reqwest (adapters decide
/// what a redirect means), no proxies from the environment (runs talk to loopback and to the
/// run's own namespaces only), Nagle off, and `timeout` to connect.
pub(crate) fn http_client(timeout: std::time::Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .tcp_nodelay(true)
        .connect_timeout(timeout)
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        .build()
}

/// A short reason for a transport error after the request was (possibly) sent, for the `error`
/// field of an `info` completion.
pub(crate) fn describe_transport_error(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timeout"
    } else if e.is_body() || e.is_decode() {
        "broken body"
    } else {
        "connection lost after sending"
    };
    match std::error::Error::source(e) {
        Some(src) => format!("{what}: {src}"),
        None => what.to_string(),
    }
}
