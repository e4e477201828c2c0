//! A global rate limit shared by every worker: slots spaced `1/rate` apart, handed out in order.
//! A worker that falls behind does not earn a burst: slots never start before "now".

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Spaces op starts across all workers to at most `rate` per second.
#[derive(Debug)]
pub struct RateLimiter {
    /// `None` = unlimited.
    interval: Option<Duration>,
    /// Invariant: the earliest time the next slot may start.
    next: Mutex<Instant>,
}

impl RateLimiter {
    /// A limiter for `rate` ops/s in total; `rate <= 0` means unlimited.
    pub fn new(rate: f64) -> Self {
        let interval =
            (rate > 0.0 && rate.is_finite()).then(|| Duration::from_secs_f64(1.0 / rate));
        RateLimiter {
            interval,
            next: Mutex::new(Instant::now()),
        }
    }

    /// Wait for this caller's slot.
    pub async fn acquire(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let slot = (*next).max(Instant::now());
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limits_total_rate() {
        let lim = std::sync::Arc::new(RateLimiter::new(400.0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let lim = lim.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..25 {
                    lim.acquire().await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let took = start.elapsed();
        // 100 slots at 400/s: the last starts 247.5 ms after the first.
        assert!(took >= Duration::from_millis(240), "{took:?}");
        assert!(took <= Duration::from_millis(600), "{took:?}");
    }

    #[tokio::test]
    async fn zero_is_unlimited() {
        let lim = RateLimiter::new(0.0);
        for _ in 0..10_000 {
            lim.acquire().await;
        }
    }
}
