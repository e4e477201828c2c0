//! One direction of one proxied connection: a reader that takes chunks off the source socket and
//! stamps each with its delivery time, and a writer that delivers them in order, honouring cuts,
//! delays and the link's bandwidth cap.
//!
//! - Cut: the reader holds the chunk it read and stops reading; the writer holds what it has
//!   queued. Nothing is dropped, so a heal looks like a long stall (see `proxy`).
//! - Delay: a chunk read at `t` is delivered at `max(t + delay + U[0, jitter], previous)`: the
//!   queue keeps the order, and chunks are pipelined (a delay adds latency, not a throughput cap).
//! - Slow: every link has a [`Bucket`], a virtual clock shared by its connections: a chunk of `n`
//!   bytes occupies the link for `n / bytes_per_sec` after the link is free.
//! - Flaky: handled by the caller, which signals `reset`; each pump then sets a zero linger on
//!   both sockets it holds and gives up its write half without a FIN, so closing them sends RST
//!   to both ends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::super::link::{LinkFault, LinkFaults};
use super::super::Link;
use super::Cuts;

/// Size of one read (the most the reader holds during a cut).
const BUF: usize = 16 * 1024;
/// Chunks queued between reader and writer (bounds what a delayed link holds in flight).
const QUEUE: usize = 64;

/// A link's bandwidth clock: when the link is next free. Shared by every connection on the link.
#[derive(Debug)]
pub(super) struct Bucket(Mutex<Instant>);

impl Bucket {
    pub(super) fn new() -> Bucket {
        Bucket(Mutex::new(Instant::now()))
    }

    /// Book `n` bytes at `bytes_per_sec`; returns when their transmission ends.
    fn book(&self, n: usize, bytes_per_sec: u64) -> Instant {
        let busy = Duration::from_secs_f64(n as f64 / bytes_per_sec.max(1) as f64);
        let mut free = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let start = (*free).max(Instant::now());
        *free = start + busy;
        *free
    }
}

/// What a pump consults: the cut set, the link faults and the link's bucket.
#[derive(Clone)]
pub(super) struct Control {
    pub(super) cuts: watch::Receiver<Cuts>,
    pub(super) faults: watch::Receiver<Arc<LinkFaults>>,
    pub(super) bucket: Arc<Bucket>,
}

impl Control {
    fn fault(&self, link: &Link) -> Option<LinkFault> {
        self.faults.borrow().get(link)
    }
}

/// Wait until `link` is not cut. Returns false if the backend is gone.
async fn wait_uncut(cuts: &mut watch::Receiver<Cuts>, link: &Link) -> bool {
    cuts.wait_for(|c| !c.contains(link)).await.is_ok()
}

/// Copy `from` to `to` over `link` until EOF (then half-close `to`), an error, or `reset`.
pub(super) async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    link: Link,
    ctl: Control,
    rng: ChaCha8Rng,
    mut reset: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let reader = read_side(&mut from, tx, &link, ctl.clone(), rng);
    let writer = write_side(rx, &mut to, &link, ctl);
    tokio::select! {
        r = async { tokio::try_join!(reader, writer) } => r.map(|_| ()),
        _ = reset.wait_for(|r| *r) => {
            // Zero linger on both sockets, and no FIN from the write half: closing them now
            // sends RST. Ok, not an error, so the caller waits for the other direction to do
            // the same (dropping it early would shut its write half down with a FIN).
            let _ = from.as_ref().set_zero_linger();
            let _ = to.as_ref().set_zero_linger();
            to.forget();
            Ok(())
        }
    }
}

async fn read_side(
    from: &mut OwnedReadHalf,
    tx: mpsc::Sender<(Instant, Vec<u8>)>,
    link: &Link,
    mut ctl: Control,
    mut rng: ChaCha8Rng,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; BUF];
    let mut last = Instant::now();
    loop {
        let n = from.read(&mut buf).await?;
        if !wait_uncut(&mut ctl.cuts, link).await {
            return Ok(());
        }
        if n == 0 {
            return Ok(()); // dropping `tx` tells the writer to half-close
        }
        let mut at = Instant::now();
        if let Some(LinkFault::Delay { delay, jitter }) = ctl.fault(link) {
            let extra = if jitter.is_zero() {
                Duration::ZERO
            } else {
                jitter.mul_f64(rng.random::<f64>())
            };
            at += delay + extra;
        }
        // Never deliver before an earlier chunk: per-connection order is kept.
        at = at.max(last);
        last = at;
        if tx.send((at, buf[..n].to_vec())).await.is_err() {
            return Ok(()); // the writer failed; its error ends the pump
        }
    }
}

async fn write_side(
    mut rx: mpsc::Receiver<(Instant, Vec<u8>)>,
    to: &mut OwnedWriteHalf,
    link: &Link,
    mut ctl: Control,
) -> std::io::Result<()> {
    while let Some((at, chunk)) = rx.recv().await {
        tokio::time::sleep_until(at).await;
        if !wait_uncut(&mut ctl.cuts, link).await {
            return Ok(());
        }
        if let Some(LinkFault::Slow { bytes_per_sec }) = ctl.fault(link) {
            tokio::time::sleep_until(ctl.bucket.book(chunk.len(), bytes_per_sec)).await;
        }
        to.write_all(&chunk).await?;
    }
    to.shutdown().await
}

/// When the next reset of a connection over `out` / `back` is due: exponentially distributed
/// with the combined rate of the two links' flaky faults, redrawn whenever the faults change.
/// Never returns while neither link is flaky (or once the backend is gone).
pub(super) async fn reset_due(
    mut faults: watch::Receiver<Arc<LinkFaults>>,
    out: &Link,
    back: &Link,
    mut rng: ChaCha8Rng,
) {
    loop {
        let rate: f64 = {
            let f = faults.borrow_and_update();
            [out, back]
                .iter()
                .filter_map(|l| match f.get(l) {
                    Some(LinkFault::Flaky { reset_every }) if !reset_every.is_zero() => {
                        Some(1.0 / reset_every.as_secs_f64())
                    }
                    _ => None,
                })
                .sum()
        };
        let wait = if rate > 0.0 {
            // Inverse transform of U(0,1]: -ln(U) / rate.
            let u: f64 = 1.0 - rng.random::<f64>();
            Some(Duration::from_secs_f64((-u.ln() / rate).min(3600.0)))
        } else {
            None
        };
        let sleep = async {
            match wait {
                Some(w) => tokio::time::sleep(w).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = sleep => return,
            changed = faults.changed() => {
                if changed.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        }
    }
}
