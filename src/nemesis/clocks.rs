//! The clock verbs: jump nodes' clocks (`clock-skew`), flip them back and forth
//! (`clock-strobe`) and put them right (`clock-reset`), through the run's libfaketime control
//! files ([`crate::clock::ClockControl`]). Each is recorded like every verb; a node whose file
//! cannot be written is a recorded failure, not an error.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::verbs::Nemesis;
use crate::clock::ClockControl;
use crate::net::NodeId;

/// A running clock-strobe: its task, and the flag that stops it. The task writes offsets only
/// while holding the flag's lock and seeing it unset, so once [`Strobe::stop`] returns no flip
/// can land after the reset that follows (aborting alone would not stop a flip in progress).
pub(super) struct Strobe {
    stopped: Arc<Mutex<bool>>,
    task: tokio::task::AbortHandle,
}

impl Strobe {
    fn stop(&self) {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.task.abort();
    }
}

/// `n1 +5000ms, n3 -5000ms`.
fn describe(skews: &[(NodeId, i64)]) -> String {
    skews
        .iter()
        .map(|(n, ms)| format!("{n} {ms:+}ms"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Nemesis {
    fn control(&self) -> Result<&Arc<ClockControl>, String> {
        self.clock.as_ref().ok_or_else(|| {
            "the nodes were not started under libfaketime (no clock control files)".to_string()
        })
    }

    /// Set each node's clock offset; returns the failures.
    fn set_offsets(&self, skews: &[(NodeId, i64)]) -> Vec<String> {
        let control = match self.control() {
            Ok(c) => c,
            Err(e) => return vec![e],
        };
        skews
            .iter()
            .filter_map(|(n, ms)| control.set_offset(n, *ms).err().map(|e| e.to_string()))
            .collect()
    }

    /// Jump each node's clock by its offset (milliseconds, negative = back).
    pub fn clock_skew(&self, skews: &[(NodeId, i64)]) {
        let value = self.value_of(describe(skews));
        self.record("clock-skew", value.clone(), None);
        let failures = self.set_offsets(skews);
        self.done("clock-skew", value, failures);
    }

    /// Flip each node's clock between its offset and true time every `every`, starting with the
    /// offset, until [`Self::clock_reset`]. Needs a tokio runtime.
    pub fn clock_strobe(&self, skews: &[(NodeId, i64)], every: Duration) {
        let desc = format!("{} flipping every {}ms", describe(skews), every.as_millis());
        let value = self.value_of(desc);
        self.record("clock-strobe", value.clone(), None);
        let failures = self.set_offsets(skews);
        if let (true, Ok(control)) = (failures.is_empty(), self.control()) {
            let control = control.clone();
            let skews = skews.to_vec();
            let every = every.max(Duration::from_millis(1));
            let stopped = Arc::new(Mutex::new(false));
            let flag = stopped.clone();
            let task = tokio::spawn(async move {
                let mut on = true;
                loop {
                    tokio::time::sleep(every).await;
                    on = !on;
                    let stopped = flag.lock().unwrap_or_else(|e| e.into_inner());
                    if *stopped {
                        return;
                    }
                    for (n, ms) in &skews {
                        if let Err(e) = control.set_offset(n, if on { *ms } else { 0 }) {
                            tracing::warn!("clock-strobe {n}: {e}");
                        }
                    }
                }
            });
            self.strobes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(Strobe {
                    stopped,
                    task: task.abort_handle(),
                });
        }
        self.done("clock-strobe", value, failures);
    }

    /// Stop every strobe and put `nodes`' clocks back to true time.
    pub fn clock_reset(&self, nodes: &[NodeId]) {
        for s in self
            .strobes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            s.stop();
        }
        let value = Value::String(format!("[{}]", nodes.join(" ")));
        self.record("clock-reset", value.clone(), None);
        let zero: Vec<(NodeId, i64)> = nodes.iter().map(|n| (n.clone(), 0)).collect();
        let failures = self.set_offsets(&zero);
        self.done("clock-reset", value, failures);
    }

    /// heal-all's part: reset every moved clock (and stop strobes), recording it only if there
    /// was anything to undo.
    pub(super) fn reset_clocks_if_moved(&self) {
        let Some(control) = &self.clock else {
            return;
        };
        let strobing = !self
            .strobes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty();
        let mut moved = control.skewed();
        if strobing && moved.is_empty() {
            // A strobe between flips: its nodes read true time right now, but would not stay.
            moved = self.cluster.node_ids();
        }
        if !moved.is_empty() {
            self.clock_reset(&moved);
        }
    }
}
