//! Peer RPC over TCP. Every message travels on the sender's own outbound connection to the
//! receiver (one connection per directed pair, so a proxy can cut a single direction). Frames are
//! a `u32` big-endian length followed by a JSON [`Message`].
//!
//! Sending never blocks the caller: each peer has its own writer task and bounded queue; when the
//! queue is full or the link is down, messages are dropped (Raft retries). Connects and writes have
//! timeouts, so a stalled link only delays that one peer, and a broken one is re-dialled.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::types::{Message, NodeId};

/// Largest frame accepted (snapshots travel whole).
const MAX_FRAME: usize = 256 << 20;
/// Messages queued per peer before new ones are dropped.
const QUEUE: usize = 4096;
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
const WRITE_TIMEOUT: Duration = Duration::from_millis(1000);
const RETRY_AFTER: Duration = Duration::from_millis(100);

/// Outbound side: one queue + writer task per peer.
#[derive(Debug, Clone)]
pub struct Transport {
    queues: BTreeMap<NodeId, mpsc::Sender<Message>>,
}

impl Transport {
    /// Start a writer task for every `peer id → address`.
    pub fn start(peers: &BTreeMap<NodeId, String>) -> Self {
        let mut queues = BTreeMap::new();
        for (id, addr) in peers {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(writer(id.clone(), addr.clone(), rx));
            queues.insert(id.clone(), tx);
        }
        Transport { queues }
    }

    /// Queue `m` for its receiver; dropped when the receiver is unknown or its queue is full.
    pub fn send(&self, m: Message) {
        if let Some(q) = self.queues.get(&m.to) {
            if q.try_send(m).is_err() {
                tracing::trace!("peer queue full, dropping message");
            }
        }
    }
}

fn encode(batch: &[Message]) -> Vec<u8> {
    let mut buf = Vec::new();
    for m in batch {
        let payload = match serde_json::to_vec(m) {
            Ok(p) => p,
            Err(e) => {
                // Dropped like any lost message (Raft retries), but never silently.
                tracing::error!(error = %e, to = %m.to, "cannot encode peer message, dropping it");
                continue;
            }
        };
        buf.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        buf.extend_from_slice(&payload);
    }
    buf
}

async fn writer(peer: NodeId, addr: String, mut rx: mpsc::Receiver<Message>) {
    let mut conn: Option<TcpStream> = None;
    let mut failed_at: Option<Instant> = None;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 1024 {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        if conn.is_none() {
            if failed_at.is_some_and(|t| t.elapsed() < RETRY_AFTER) {
                continue;
            }
            match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&addr)).await {
                Ok(Ok(s)) => {
                    let _ = s.set_nodelay(true);
                    tracing::debug!(%peer, %addr, "connected");
                    conn = Some(s);
                    failed_at = None;
                }
                _ => {
                    failed_at = Some(Instant::now());
                    continue;
                }
            }
        }
        let Some(stream) = conn.as_mut() else {
            continue;
        };
        let buf = encode(&batch);
        match tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(&buf)).await {
            Ok(Ok(())) => {}
            _ => {
                tracing::debug!(%peer, "link broken or stalled, reconnecting");
                conn = None;
                failed_at = Some(Instant::now());
            }
        }
    }
}

/// Bind the peer address and forward every received message to `inbound`.
pub async fn listen(addr: &str, inbound: mpsc::Sender<Message>) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(reader(stream, inbound.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(RETRY_AFTER).await;
                }
            }
        }
    });
    Ok(())
}

async fn reader(mut stream: TcpStream, inbound: mpsc::Sender<Message>) {
    let mut len = [0u8; 4];
    loop {
        if stream.read_exact(&mut len).await.is_err() {
            return;
        }
        let n = u32::from_be_bytes(len) as usize;
        if n > MAX_FRAME {
            tracing::warn!(n, "oversized frame, closing connection");
            return;
        }
        let mut payload = vec![0u8; n];
        if stream.read_exact(&mut payload).await.is_err() {
            return;
        }
        match serde_json::from_slice::<Message>(&payload) {
            Ok(m) => {
                if inbound.send(m).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "undecodable frame, closing connection");
                return;
            }
        }
    }
}
