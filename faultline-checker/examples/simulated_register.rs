//! A seeded simulation of a primary-backup replicated register, recorded with faultline's
//! checker API and checked for linearizability.
//!
//! Three replicas hold the register; the primary applies writes and replicates them to the
//! backups asynchronously. Four clients write fresh values and read; a deterministic scheduler
//! (one seed) interleaves their steps with replication deliveries, and now and then a client
//! loses an answer (a timeout: `info`). Without the bug every op takes effect on the primary
//! between its invoke and its completion, so the history is linearizable. With `--bug`, reads
//! are served by any replica, and a backup that has not caught up returns a stale value.
//!
//! ```text
//! cargo run -p faultline-checker --example simulated_register -- --seed 7
//! cargo run -p faultline-checker --example simulated_register -- --seed 7 --bug
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use faultline_checker::history::History;
use faultline_checker::{check, render_text, CheckOptions, CheckReport, HistoryBuilder, ModelKind};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

const REPLICAS: usize = 3;
const CLIENTS: u64 = 4;

/// A client's op in flight.
#[derive(Clone)]
enum Step {
    /// Invoked; not yet served by a replica.
    Sent(Call),
    /// Served; the answer is on its way back.
    Answered(Value),
}

#[derive(Clone, Copy)]
enum Call {
    Read,
    Write(i64),
}

/// The simulated cluster and its clients.
struct Sim {
    rng: ChaCha8Rng,
    /// Register value per replica (`None` = absent); replica 0 is the primary.
    replicas: [Option<i64>; REPLICAS],
    /// Replication messages not yet delivered, per backup, in order.
    inbox: [VecDeque<i64>; REPLICAS],
    /// Per client: its current process id and its op in flight.
    clients: Vec<(u64, Option<Step>)>,
    stale_reads: bool,
    next_value: i64,
    history: HistoryBuilder,
}

impl Sim {
    /// One scheduler step: advance a random client, or deliver a replication message.
    fn step(&mut self, may_invoke: bool) {
        let backups_waiting: Vec<usize> = (1..REPLICAS)
            .filter(|&r| !self.inbox[r].is_empty())
            .collect();
        if !backups_waiting.is_empty() && self.rng.random_bool(0.3) {
            let r = backups_waiting[self.rng.random_range(0..backups_waiting.len())];
            self.replicas[r] = self.inbox[r].pop_front();
            return;
        }
        let c = self.rng.random_range(0..self.clients.len());
        let (process, step) = self.clients[c].clone();
        match step {
            None if may_invoke => {
                let call = if self.rng.random_bool(0.5) {
                    self.next_value += 1;
                    self.history
                        .invoke(process, "write", json!(self.next_value));
                    Call::Write(self.next_value)
                } else {
                    self.history.invoke(process, "read", Value::Null);
                    Call::Read
                };
                self.clients[c].1 = Some(Step::Sent(call));
            }
            None => {}
            Some(Step::Sent(call)) => {
                let answer = self.serve(call);
                self.clients[c].1 = Some(Step::Answered(answer));
            }
            Some(Step::Answered(value)) => {
                if self.rng.random_bool(0.05) {
                    // The answer is lost: the op happened, but the client cannot know.
                    self.history.info(process);
                    self.clients[c].0 += CLIENTS;
                } else {
                    self.history.ok(process, value);
                }
                self.clients[c].1 = None;
            }
        }
    }

    /// A replica serves `call`; the op takes effect here.
    fn serve(&mut self, call: Call) -> Value {
        match call {
            Call::Write(v) => {
                self.replicas[0] = Some(v);
                for r in 1..REPLICAS {
                    self.inbox[r].push_back(v);
                }
                json!(v)
            }
            Call::Read => {
                let r = if self.stale_reads {
                    self.rng.random_range(0..REPLICAS)
                } else {
                    0
                };
                self.replicas[r].map_or(Value::Null, |v| json!(v))
            }
        }
    }
}

/// Run `ops` client operations under `seed` and return the recorded history.
pub fn simulate(seed: u64, stale_reads: bool, ops: usize) -> History {
    let mut sim = Sim {
        rng: ChaCha8Rng::seed_from_u64(seed),
        replicas: [None; REPLICAS],
        inbox: Default::default(),
        clients: (0..CLIENTS).map(|p| (p, None)).collect(),
        stale_reads,
        next_value: 0,
        history: HistoryBuilder::new(),
    };
    let mut invoked = 0;
    while invoked < ops {
        let before = sim.clients.iter().filter(|c| c.1.is_some()).count();
        sim.step(true);
        let after = sim.clients.iter().filter(|c| c.1.is_some()).count();
        invoked += usize::from(after > before);
    }
    // Let every op in flight finish.
    while sim.clients.iter().any(|c| c.1.is_some()) {
        sim.step(false);
    }
    sim.history
        .build()
        .expect("the simulation runs one op per client at a time")
}

/// Check a simulated history against a read/write register.
pub fn check_register(history: &History) -> CheckReport {
    let opts = CheckOptions {
        model: ModelKind::Register,
        time_limit: Some(Duration::from_secs(30)),
        ..CheckOptions::default()
    };
    check(history, &opts).expect("a simulated history fits the register model")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bug = args.iter().any(|a| a == "--bug");
    let seed = args
        .iter()
        .position(|a| a == "--seed")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let history = simulate(seed, bug, 200);
    println!(
        "seed {seed}, {} ops, reads from {}",
        history.ops.len(),
        if bug {
            "any replica (bug)"
        } else {
            "the primary"
        }
    );
    print!("{}", render_text(&check_register(&history)));
}
