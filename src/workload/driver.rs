//! The concurrent workers: each has a process id, takes a rate-limit slot, generates a request,
//! records the invoke, performs it and records the completion. After an `info` the worker goes on
//! under a fresh process id (`p + concurrency`, as Jepsen does), because the old process may still
//! have an op in flight. Also the final reads of every key once the cluster has recovered.
//!
//! Single-key workloads give each worker its own generator; transaction workloads share one
//! ([`TxnGenerator`]), so values stay unique per key and keys rotate across all workers.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::generator::OpGenerator;
use super::rate::RateLimiter;
use super::spec::{WorkloadKind, WorkloadSpec};
use super::txn_gen::{final_read_txns, TxnGenerator};
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
    /// The keys to read once more at the end: every key of a single-key workload, the keys
    /// live at the end of a transaction workload.
    pub final_keys: Vec<String>,
}

/// Where a worker's requests come from.
enum Source {
    /// Its own seeded generator.
    Own(Box<OpGenerator>),
    /// The run's shared transaction generator.
    Shared(Arc<Mutex<TxnGenerator>>),
}

impl Source {
    /// Tell an own generator what became of its request (read-modify-write CAS on cold keys
    /// uses the last value seen); the shared transaction generator needs no feedback.
    fn observe(&mut self, req: &Request, c: &Completion) {
        if let Source::Own(g) = self {
            g.observe(req, c);
        }
    }

    fn next_request(&mut self) -> Request {
        match self {
            Source::Own(g) => g.next_request(),
            Source::Shared(g) => g.lock().unwrap_or_else(|e| e.into_inner()).next_request(),
        }
    }
}

/// The final reads of `keys` as requests: one read per key, or read-only transactions for a
/// transaction workload.
pub fn final_requests(spec: &WorkloadSpec, keys: &[String]) -> Vec<Request> {
    match spec.kind() {
        Ok(WorkloadKind::Txn(_)) => final_read_txns(keys),
        _ => keys
            .iter()
            .map(|k| Request::Read { key: k.clone() })
            .collect(),
    }
}

/// The op name the history uses for a request.
pub fn op_name(req: &Request) -> &'static str {
    match req {
        Request::Read { .. } => "read",
        Request::Write { .. } => "write",
        Request::Cas { .. } => "cas",
        Request::Txn { .. } => "txn",
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
    let key = req.key().map(Key::from);
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
    let shared = match spec.kind() {
        Ok(WorkloadKind::Txn(shape)) => Some(Arc::new(Mutex::new(TxnGenerator::new(
            spec, shape, cfg.seed,
        )))),
        _ => None,
    };
    let mut tasks = Vec::new();
    for (w, client) in clients.into_iter().enumerate() {
        let mut gen = match &shared {
            Some(g) => Source::Shared(g.clone()),
            None => Source::Own(Box::new(OpGenerator::new(spec, cfg.seed, w as u64))),
        };
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
    let final_keys = match &shared {
        Some(g) => g.lock().unwrap_or_else(|e| e.into_inner()).live_keys(),
        None => spec.key_names(),
    };
    DriveStats {
        next_process: max_process + 1,
        invoked: invoked.load(Ordering::Relaxed),
        final_keys,
    }
}

/// Perform each of `requests` (the final reads) once more after the cluster has healed, each
/// with a fresh process, retrying one (under a new process) while it is not `ok`, until `budget`
/// runs out. Returns the keys of the requests that never succeeded.
pub async fn final_reads(
    requests: &[Request],
    client: &dyn Client,
    recorder: &Recorder,
    first_process: u64,
    budget: Duration,
) -> Vec<String> {
    let deadline = Instant::now() + budget;
    let mut process = first_process;
    let mut missing = Vec::new();
    for req in requests {
        let mut done = false;
        while !done && Instant::now() < deadline {
            let c = perform(client, recorder, process, req).await;
            process += 1;
            done = c.kind == OpType::Ok;
            if !done {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        if !done {
            match req {
                Request::Txn { ops } => missing.extend(ops.iter().map(|o| o.key().to_string())),
                other => missing.extend(other.key().map(str::to_string)),
            }
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
                    Request::Txn { .. } => (OpType::Fail, req.recorded_value()),
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
            &final_requests(&spec, &stats.final_keys),
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
