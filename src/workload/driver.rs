//! The concurrent workers: each has a process id, takes a rate-limit slot, generates a request,
//! records the invoke, performs it and records the completion. After an `info` the worker goes on
//! under a fresh process id (`p + concurrency`, as Jepsen does), because the old process may still
//! have an op in flight. Also the final reads of every key once the cluster has recovered.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::generator::OpGenerator;
use super::rate::RateLimiter;
use super::spec::WorkloadSpec;
use crate::client::{Client, Completion, Request};
use crate::history::{Key, Op, OpType, Process, Recorder};

/// How the workers run.
#[derive(Debug, Clone)]
pub struct DriveConfig {
    /// Number of workers (`--clients`).
    pub concurrency: usize,
    /// Total ops/s across all workers; `<= 0` = unlimited.
    pub rate: f64,
    /// The plan seed.
    pub seed: u64,
    /// No new op is invoked at or after this instant.
    pub deadline: Instant,
}

/// Live counters for the progress display, updated by the workers.
#[derive(Debug, Default)]
pub struct Progress {
    /// Completions recorded (any outcome).
    pub completed: AtomicU64,
    /// `ok` completions.
    pub ok: AtomicU64,
    /// `fail` completions.
    pub fail: AtomicU64,
    /// `info` completions.
    pub info: AtomicU64,
}

/// What the workers did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveStats {
    /// A process id no worker has used: final reads start here.
    pub next_process: u64,
    /// Ops invoked.
    pub invoked: u64,
}

/// The op name the history uses for a request.
pub fn op_name(req: &Request) -> &'static str {
    match req {
        Request::Read { .. } => "read",
        Request::Write { .. } => "write",
        Request::Cas { .. } => "cas",
    }
}

fn key_of(req: &Request) -> &str {
    match req {
        Request::Read { key } | Request::Write { key, .. } | Request::Cas { key, .. } => key,
    }
}

/// Record the invoke of `req` by `process`, perform it, record its completion.
async fn perform(
    client: &dyn Client,
    recorder: &Recorder,
    process: u64,
    req: &Request,
) -> Completion {
    let f = op_name(req).to_string();
    let key = Some(Key::from(key_of(req)));
    recorder.record(Op {
        index: 0,
        time: None,
        process: Process::Client(process),
        kind: OpType::Invoke,
        f: f.clone(),
        key: key.clone(),
        value: req.recorded_value(),
        node: None,
        error: None,
    });
    let c = client.invoke(req).await;
    // A client must never report an invoke as a completion; treat it as unknown.
    let kind = if c.kind == OpType::Invoke {
        OpType::Info
    } else {
        c.kind
    };
    recorder.record(Op {
        index: 0,
        time: None,
        process: Process::Client(process),
        kind,
        f,
        key,
        value: c.value.clone(),
        node: c.node.clone(),
        error: c.error.clone(),
    });
    Completion { kind, ..c }
}

/// Run the workers until the deadline or until `stop` is set; `clients[i]` serves worker `i`
/// (there must be `cfg.concurrency` of them). Ops in flight at the end are allowed to complete
/// (each is bounded by its client's timeout).
pub async fn drive(
    spec: &WorkloadSpec,
    cfg: &DriveConfig,
    clients: Vec<Arc<dyn Client>>,
    recorder: Arc<Recorder>,
    stop: Arc<AtomicBool>,
    progress: Arc<Progress>,
) -> DriveStats {
    let n = cfg.concurrency.max(1) as u64;
    let limiter = Arc::new(RateLimiter::with_arrivals(
        cfg.rate,
        spec.arrivals,
        cfg.seed,
    ));
    let invoked = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for (w, client) in clients.into_iter().enumerate() {
        let mut gen = OpGenerator::new(spec, cfg.seed, w as u64);
        let (limiter, recorder, stop, progress, invoked) = (
            limiter.clone(),
            recorder.clone(),
            stop.clone(),
            progress.clone(),
            invoked.clone(),
        );
        let deadline = cfg.deadline;
        tasks.push(tokio::spawn(async move {
            let mut process = w as u64;
            loop {
                if stop.load(Ordering::SeqCst) || Instant::now() >= deadline {
                    break;
                }
                tokio::select! {
                    _ = limiter.acquire() => {}
                    _ = tokio::time::sleep_until(deadline) => break,
                }
                if stop.load(Ordering::SeqCst) || Instant::now() >= deadline {
                    break;
                }
                let req = gen.next_request();
                invoked.fetch_add(1, Ordering::Relaxed);
                let c = perform(client.as_ref(), &recorder, process, &req).await;
                gen.observe(&req, &c);
                progress.completed.fetch_add(1, Ordering::Relaxed);
                let counter = match c.kind {
                    OpType::Ok => &progress.ok,
                    OpType::Fail => &progress.fail,
                    _ => &progress.info,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                if c.kind == OpType::Info {
                    process += n;
                }
            }
            process
        }));
    }
    let mut max_process = n.saturating_sub(1);
    for t in tasks {
        if let Ok(p) = t.await {
            max_process = max_process.max(p);
        }
    }
    DriveStats {
        next_process: max_process + 1,
        invoked: invoked.load(Ordering::Relaxed),
    }
}

/// Read every key once more after the cluster has healed, each with a fresh process, retrying a
/// key (under a new process) while its read is not `ok`, until `budget` runs out. Returns the keys
/// whose final read never succeeded.
pub async fn final_reads(
    keys: &[String],
    client: &dyn Client,
    recorder: &Recorder,
    first_process: u64,
    budget: Duration,
) -> Vec<String> {
    let deadline = Instant::now() + budget;
    let mut process = first_process;
    let mut missing = Vec::new();
    for key in keys {
        let mut done = false;
        while !done && Instant::now() < deadline {
            let req = Request::Read { key: key.clone() };
            let c = perform(client, recorder, process, &req).await;
            process += 1;
            done = c.kind == OpType::Ok;
            if !done {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        if !done {
            missing.push(key.clone());
        }
    }
    missing
}

/// The value a completion recorded, for callers that want the final state of a key.
pub fn read_value(c: &Completion) -> Option<&Value> {
    (c.kind == OpType::Ok).then_some(&c.value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::BoxFuture;
    use std::sync::Mutex;

    /// An in-memory linearizable register map that answers `info` for every third write.
    struct Fake {
        state: Mutex<std::collections::HashMap<String, Value>>,
        calls: AtomicU64,
    }

    impl Client for Fake {
        fn invoke<'a>(&'a self, req: &'a Request) -> BoxFuture<'a, Completion> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst);
                let mut st = self.state.lock().unwrap();
                let (kind, value) = match req {
                    Request::Read { key } => {
                        (OpType::Ok, st.get(key).cloned().unwrap_or(Value::Null))
                    }
                    Request::Write { key, value } => {
                        st.insert(key.clone(), value.clone());
                        let k = if n.is_multiple_of(3) {
                            OpType::Info
                        } else {
                            OpType::Ok
                        };
                        (k, value.clone())
                    }
                    Request::Cas { key, from, to } => {
                        let cur = st.get(key).cloned().unwrap_or(Value::Null);
                        if &cur == from {
                            st.insert(key.clone(), to.clone());
                            (OpType::Ok, req.recorded_value())
                        } else {
                            (OpType::Fail, req.recorded_value())
                        }
                    }
                };
                Completion {
                    kind,
                    value,
                    node: Some("n1".into()),
                    error: None,
                }
            })
        }
    }

    #[tokio::test]
    async fn workers_record_pairs_and_change_process_after_info() {
        let spec = WorkloadSpec::parse(
            "name='x'\nmodel='kv'\nkeys=3\n[mix]\nread=1\nwrite=1\ncas=1\n",
            "t",
        )
        .unwrap();
        let fake: Arc<dyn Client> = Arc::new(Fake {
            state: Mutex::new(Default::default()),
            calls: AtomicU64::new(0),
        });
        let rec = Arc::new(Recorder::in_memory());
        let cfg = DriveConfig {
            concurrency: 4,
            rate: 2000.0,
            seed: 5,
            deadline: Instant::now() + Duration::from_millis(200),
        };
        let progress = Arc::new(Progress::default());
        let stats = drive(
            &spec,
            &cfg,
            vec![fake.clone(); 4],
            rec.clone(),
            Arc::new(AtomicBool::new(false)),
            progress.clone(),
        )
        .await;
        let missing = final_reads(
            &spec.key_names(),
            fake.as_ref(),
            &rec,
            stats.next_process,
            Duration::from_secs(1),
        )
        .await;
        assert!(missing.is_empty());
        let h = rec.snapshot();
        assert!(stats.invoked > 50, "{stats:?}");
        assert_eq!(h.ops.len() as u64, 2 * (stats.invoked + 3));
        // Every process alternates invoke / completion and never invokes after an info.
        let mut open = std::collections::HashMap::new();
        let mut dead = std::collections::HashSet::new();
        for op in &h.ops {
            let p = op.process;
            assert!(!dead.contains(&p), "process {p} invoked after info");
            if op.kind == OpType::Invoke {
                assert!(open.insert(p, op.f.clone()).is_none());
            } else {
                assert_eq!(open.remove(&p), Some(op.f.clone()));
                if op.kind == OpType::Info {
                    dead.insert(p);
                }
            }
        }
        assert!(progress.info.load(Ordering::Relaxed) > 0);
    }
}
