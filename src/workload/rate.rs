//! A global rate limit shared by every worker: op start slots handed out in order, `1/rate`
//! apart on average. A worker that falls behind does not earn a burst: slots never start before
//! "now".
//!
//! Slots are either evenly spaced ([`Arrivals::Even`]) or a Poisson process
//! ([`Arrivals::Poisson`]: exponential gaps with mean `1/rate`, drawn from a seeded stream).
//! Even spacing never starts two ops closer than `1/rate`; Poisson arrivals bunch up now and
//! then, as independent clients do, which is what makes concurrent ops on one key collide.

use std::sync::Mutex;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// How op starts are spread over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    /// Exactly `1/rate` apart.
    #[default]
    Even,
    /// Exponential gaps with mean `1/rate` (a Poisson process): ops sometimes start together.
    Poisson,
}

/// Spaces op starts across all workers to at most `rate` per second on average.
#[derive(Debug)]
pub struct RateLimiter {
    /// `None` = unlimited.
    interval: Option<Duration>,
    arrivals: Arrivals,
    /// Invariant: `next` is the earliest time the next slot may start.
    state: Mutex<(Instant, ChaCha8Rng)>,
}

/// The RNG stream of the Poisson gaps (workers use streams 1..; the nemesis stream 0).
const STREAM: u64 = u64::MAX;

impl RateLimiter {
    /// A limiter for `rate` ops/s in total, evenly spaced; `rate <= 0` means unlimited.
    pub fn new(rate: f64) -> Self {
        Self::with_arrivals(rate, Arrivals::Even, 0)
    }

    /// A limiter for `rate` ops/s in total with `arrivals`; Poisson gaps are drawn from `seed`.
    pub fn with_arrivals(rate: f64, arrivals: Arrivals, seed: u64) -> Self {
        let interval =
            (rate > 0.0 && rate.is_finite()).then(|| Duration::from_secs_f64(1.0 / rate));
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(STREAM);
        RateLimiter {
            interval,
            arrivals,
            state: Mutex::new((Instant::now(), rng)),
        }
    }

    /// Wait for this caller's slot.
    pub async fn acquire(&self) {
        if let Some(slot) = self.take_slot(Instant::now()) {
            tokio::time::sleep_until(slot).await;
        }
    }

    /// The next slot for a caller arriving at `now` (`None` when unlimited).
    fn take_slot(&self, now: Instant) -> Option<Instant> {
        let interval = self.interval?;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (next, rng) = &mut *state;
        let slot = (*next).max(now);
        let gap = match self.arrivals {
            Arrivals::Even => interval,
            // Inverse transform: -ln(U) is exponential with mean 1, U in (0, 1].
            Arrivals::Poisson => interval.mul_f64(-(1.0 - rng.random::<f64>()).ln()),
        };
        *next = slot + gap;
        Some(slot)
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

    /// Poisson slots keep the mean rate but bunch up: many gaps are far below 1/rate. Callers
    /// always arrive early (at the start), so the slots are exactly the drawn ones.
    #[test]
    fn poisson_arrivals_keep_the_rate_and_bunch_up() {
        let start = Instant::now();
        let lim = RateLimiter::with_arrivals(200.0, Arrivals::Poisson, 7);
        let at: Vec<Instant> = (0..2000).filter_map(|_| lim.take_slot(start)).collect();
        let total = (at[at.len() - 1] - at[0]).as_secs_f64();
        let rate = (at.len() - 1) as f64 / total;
        assert!((180.0..220.0).contains(&rate), "rate {rate}");
        let gaps: Vec<f64> = at.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect();
        let close = gaps.iter().filter(|g| **g < 0.001).count() as f64 / gaps.len() as f64;
        // P(gap < 1 ms) = 1 - e^(-0.2) = 18% for a Poisson process; 0 when evenly spaced.
        assert!(
            (0.14..0.22).contains(&close),
            "share of gaps under 1 ms: {close}"
        );
        let even = RateLimiter::new(200.0);
        let at: Vec<Instant> = (0..3).filter_map(|_| even.take_slot(start)).collect();
        assert_eq!(at[2] - at[1], Duration::from_millis(5));
    }
}
