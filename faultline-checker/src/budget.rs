//! Time and memory budgets shared by every search of one check, plus cooperative cancellation.
//! Searches account the bytes of their memo tables / configuration sets here and stop with
//! [`Stop`] instead of running past the deadline or exhausting memory.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// A search re-accounts its memory at least every time it has grown by this much since it last
/// did, so heavy model states cannot overshoot the limit by much between periodic checks.
pub const ACCOUNT_STEP: usize = 1 << 20;

/// Why a search stopped without an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The time limit passed.
    Time,
    /// The memory limit was reached (approximate accounting).
    Memory,
    /// A competing search answered first.
    Cancelled,
    /// The search cannot represent this history (e.g. too many concurrent calls).
    Unsupported(String),
}

impl Stop {
    /// A human reason for `Verdict::Unknown`.
    pub fn reason(&self, limit_bytes: usize) -> String {
        match self {
            Stop::Time => "time limit reached before an answer was found".into(),
            Stop::Memory => format!(
                "memory limit of {} MiB reached before an answer was found",
                limit_bytes >> 20
            ),
            Stop::Cancelled => "search cancelled".into(),
            Stop::Unsupported(why) => why.clone(),
        }
    }
}

/// Budgets for one whole check (all keys, all strategies).
#[derive(Debug)]
pub struct Budget {
    deadline: Option<Instant>,
    /// Approximate byte limit for all searches together.
    pub mem_limit: usize,
    used: AtomicUsize,
    peak: AtomicUsize,
}

impl Budget {
    /// A budget ending at `deadline` with `mem_limit` bytes.
    pub fn new(deadline: Option<Instant>, mem_limit: usize) -> Self {
        Budget {
            deadline,
            mem_limit,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// `Err` if time is up, memory is over, or `cancel` is set.
    pub fn check(&self, cancel: &AtomicBool) -> Result<(), Stop> {
        if cancel.load(Ordering::Relaxed) {
            return Err(Stop::Cancelled);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Stop::Time);
        }
        if self.used.load(Ordering::Relaxed) > self.mem_limit {
            return Err(Stop::Memory);
        }
        Ok(())
    }

    /// When time runs out, if ever.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The most bytes accounted at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Bytes currently accounted by all searches.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
}

/// One search's share of the memory account; released on drop.
#[derive(Debug)]
pub struct MemTicket<'a> {
    budget: &'a Budget,
    held: usize,
    /// The most this ticket ever held.
    pub peak: usize,
}

impl<'a> MemTicket<'a> {
    /// An empty ticket on `budget`.
    pub fn new(budget: &'a Budget) -> Self {
        MemTicket {
            budget,
            held: 0,
            peak: 0,
        }
    }

    /// Declare that this search now holds `bytes`.
    pub fn set(&mut self, bytes: usize) {
        if bytes >= self.held {
            let before = self
                .budget
                .used
                .fetch_add(bytes - self.held, Ordering::Relaxed);
            self.budget
                .peak
                .fetch_max(before + bytes - self.held, Ordering::Relaxed);
        } else {
            self.budget
                .used
                .fetch_sub(self.held - bytes, Ordering::Relaxed);
        }
        self.held = bytes;
        self.peak = self.peak.max(bytes);
    }
}

impl Drop for MemTicket<'_> {
    fn drop(&mut self) {
        self.set(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_over_limit_stops_and_is_released() {
        let b = Budget::new(None, 100);
        let cancel = AtomicBool::new(false);
        {
            let mut t = MemTicket::new(&b);
            t.set(200);
            assert_eq!(b.check(&cancel), Err(Stop::Memory));
        }
        assert_eq!(b.used(), 0);
        assert!(b.check(&cancel).is_ok());
        cancel.store(true, Ordering::Relaxed);
        assert_eq!(b.check(&cancel), Err(Stop::Cancelled));
    }
}
