//! The live progress line during a run: an indicatif bar over the time limit with ok/fail/info
//! counts. Shown only when stderr is a terminal and `NO_COLOR` is unset; otherwise every method
//! is a no-op, so CI logs stay clean.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress display that hides itself when it should.
pub struct RunProgress {
    bar: Option<ProgressBar>,
}

impl RunProgress {
    /// A bar over `total` (the workload phase), if stderr is a TTY and `NO_COLOR` is unset.
    pub fn new(total: Duration) -> RunProgress {
        let show = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let bar = show.then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(total.as_millis() as u64),
                ProgressDrawTarget::stderr_with_hz(4),
            );
            if let Ok(style) =
                ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {percent:>3}%  {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        RunProgress { bar }
    }

    /// Whether anything is drawn.
    pub fn is_visible(&self) -> bool {
        self.bar.is_some()
    }

    /// Update elapsed time and the op counts.
    pub fn update(&self, elapsed: Duration, ok: u64, fail: u64, info: u64, faults: &str) {
        if let Some(bar) = &self.bar {
            bar.set_position(elapsed.as_millis() as u64);
            bar.set_message(format!("ok {ok}  fail {fail}  info {info}  {faults}"));
        }
    }

    /// Say what the run is doing after the workload (healing, checking, ...).
    pub fn phase(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_string());
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        self.finish();
    }
}
