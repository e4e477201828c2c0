//! A thread-safe history recorder: assigns each op its index and time, appends it to a JSONL sink
//! as it happens (so a crash loses at most the line being written) and keeps it in memory.

use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

use super::{History, Op};

/// Records ops from many tasks (clients and the nemesis) into one real-time-ordered history.
pub struct Recorder {
    start: Instant,
    inner: Mutex<Inner>,
}

struct Inner {
    sink: Option<Box<dyn Write + Send>>,
    ops: Vec<Op>,
    sink_error: Option<String>,
}

impl Recorder {
    /// A recorder that appends every op as one JSON line to `sink` (flushed per op).
    pub fn new(sink: Box<dyn Write + Send>) -> Self {
        Self::with_sink(Some(sink))
    }

    /// A recorder that only keeps ops in memory (tests).
    pub fn in_memory() -> Self {
        Self::with_sink(None)
    }

    fn with_sink(sink: Option<Box<dyn Write + Send>>) -> Self {
        Recorder {
            start: Instant::now(),
            inner: Mutex::new(Inner {
                sink,
                ops: Vec::new(),
                sink_error: None,
            }),
        }
    }

    /// Nanoseconds since this recorder was created (the history's time base).
    pub fn now_ns(&self) -> i64 {
        i64::try_from(self.start.elapsed().as_nanos()).unwrap_or(i64::MAX)
    }

    /// Record `op`, overwriting its `index` and `time`; returns the op as recorded. The in-memory
    /// history is kept even if the sink fails; the first sink error is reported by [`Self::finish`].
    pub fn record(&self, mut op: Op) -> Op {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        op.index = inner.ops.len() as u64;
        op.time = Some(self.now_ns());
        if let Some(sink) = inner.sink.as_mut() {
            let line = serde_json::to_string(&op).map_err(|e| e.to_string());
            let res = line.and_then(|l| {
                writeln!(sink, "{l}")
                    .and_then(|_| sink.flush())
                    .map_err(|e| e.to_string())
            });
            if let Err(e) = res {
                if inner.sink_error.is_none() {
                    inner.sink_error = Some(e);
                }
            }
        }
        inner.ops.push(op.clone());
        op
    }

    /// A copy of everything recorded so far.
    pub fn snapshot(&self) -> History {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        History {
            ops: inner.ops.clone(),
        }
    }

    /// Flush the sink and return the history, or the first error writing the sink.
    pub fn finish(&self) -> Result<History, String> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sink) = inner.sink.as_mut() {
            if let Err(e) = sink.flush() {
                inner.sink_error.get_or_insert(e.to_string());
            }
        }
        match inner.sink_error.clone() {
            Some(e) => Err(e),
            None => Ok(History {
                ops: inner.ops.clone(),
            }),
        }
    }
}
