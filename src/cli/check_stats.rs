//! `faultline check --stats`: where the time and memory of a check went, printed to stderr as one
//! line (`stats: read 0.310 s, check 0.420 s, wall 0.735 s, cpu 1.190 s, peak RSS 131 MiB`).
//! Peak RSS is this process's own high-water mark (`VmHWM`), not `getrusage`'s, which also counts
//! the parent's memory at the moment this process was started.

use std::time::{Duration, Instant};

/// Timings of one check, taken as it runs.
pub(crate) struct Stats {
    start: Instant,
    read: Duration,
}

impl Stats {
    /// Start the clock (at process start, as near as the CLI gets).
    pub(crate) fn start() -> Self {
        Stats {
            start: Instant::now(),
            read: Duration::ZERO,
        }
    }

    /// The history is read and validated.
    pub(crate) fn read_done(&mut self) {
        self.read = self.start.elapsed();
    }

    /// The line to print once the check is done.
    pub(crate) fn line(&self) -> String {
        let wall = self.start.elapsed();
        format!(
            "stats: read {:.3} s, check {:.3} s, wall {:.3} s, cpu {:.3} s, peak RSS {} MiB",
            self.read.as_secs_f64(),
            wall.saturating_sub(self.read).as_secs_f64(),
            wall.as_secs_f64(),
            cpu_seconds(),
            peak_rss().map_or("?".into(), |b| (b >> 20).to_string())
        )
    }
}

/// User + system CPU time of this process so far.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills in a plain-data struct we own.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return 0.0;
    }
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// This process's peak resident set in bytes (`VmHWM` in /proc/self/status), where Linux has it.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kb: u64 = kb.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}
