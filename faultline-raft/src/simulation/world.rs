//! One simulated run: the rounds of chaos (ticks, deliveries, client operations, crashes,
//! restarts, partitions), then a calm phase that heals everything and waits for the cluster to
//! converge, then the final checks. Everything random comes from the run's seed.

use std::collections::{HashMap, VecDeque};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::check::{Checker, Violation};
use super::net::Net;
use super::node::{name, SimNode};
use super::{Knobs, Stats};
use crate::core::{Config, Role};
use crate::types::{Command, Message};

/// What a node is asked to do in one step.
pub(super) enum Action {
    Tick,
    Deliver(Message),
    Propose(Command),
    Read(u64),
}

/// The clients' view: operations in flight and what was acknowledged.
#[derive(Default)]
pub(super) struct Clients {
    next_value: i64,
    pub next_ctx: u64,
    /// (node, index) → term of a proposal waiting to be applied there.
    pub writes: HashMap<(usize, u64), u64>,
    /// ctx → floor of a read waiting for its ReadIndex round.
    pub reads: HashMap<u64, u64>,
    /// Highest index acknowledged to a writer.
    pub acked: u64,
    /// Highest index a read was answered from.
    pub served: u64,
    /// Recently written values, for CAS to expect.
    recent: Vec<i64>,
}

/// Lines of trace kept for a replayed seed.
const TRACE_LINES: usize = 600;

/// The simulated cluster and everything around it.
pub(super) struct World {
    pub k: Knobs,
    pub rng: ChaCha8Rng,
    pub now: u64,
    pub nodes: Vec<SimNode>,
    pub net: Net,
    pub check: Checker,
    pub clients: Clients,
    pub stats: Stats,
    trace: Option<VecDeque<String>>,
}

impl World {
    /// A fresh cluster of `k.nodes` nodes; `trace` keeps the last events for a replay.
    pub(super) fn new(seed: u64, k: Knobs, trace: bool) -> Result<Self, Violation> {
        let n = k.nodes;
        let nodes = (0..n)
            .map(|i| {
                SimNode::new(Config {
                    id: name(i),
                    peers: (0..n).filter(|&j| j != i).map(name).collect(),
                    client_addr: format!("client-{}", name(i)),
                    election_ticks: k.election_ticks,
                    heartbeat_ticks: k.heartbeat_ticks,
                    pre_vote: k.pre_vote,
                    check_quorum: true,
                    max_batch: k.max_batch,
                    seed: 0,
                    bugs: k.bugs.clone(),
                })
            })
            .collect();
        let mut w = World {
            rng: ChaCha8Rng::seed_from_u64(seed),
            now: 0,
            nodes,
            net: Net::new(n),
            check: Checker::new(),
            clients: Clients::default(),
            stats: Stats::default(),
            trace: trace.then(VecDeque::new),
            k,
        };
        for i in 0..n {
            w.start(i)?;
        }
        Ok(w)
    }

    /// Chaos, then calm until the cluster converges, then the final checks.
    pub(super) fn run(&mut self) -> Result<(), Violation> {
        for _ in 0..self.k.rounds {
            self.round(true)?;
        }
        self.settle()
    }

    /// The last traced events (empty unless tracing).
    pub(super) fn trace(&self) -> Vec<String> {
        self.trace.iter().flatten().cloned().collect()
    }

    /// Is this run keeping a trace?
    pub(super) fn tracing(&self) -> bool {
        self.trace.is_some()
    }

    /// Record an event when tracing (the closure only runs then).
    pub(super) fn note(&mut self, what: impl FnOnce() -> String) {
        if let Some(t) = &mut self.trace {
            if t.len() == TRACE_LINES {
                t.pop_front();
            }
            t.push_back(format!("r{} {}", self.now, what()));
        }
    }

    pub(super) fn violation(&self, what: String) -> Violation {
        Violation {
            round: self.now,
            what,
        }
    }

    fn round(&mut self, chaos: bool) -> Result<(), Violation> {
        self.now += 1;
        self.check.round = self.now;
        self.stats.rounds += 1;
        if chaos {
            self.faults()?;
        }
        for i in self.shuffled() {
            // A node sometimes misses a tick: clocks drift apart.
            if self.nodes[i].is_up() && self.rng.random_bool(0.95) {
                self.act(i, Action::Tick)?;
            }
        }
        for m in self.net.due(&mut self.rng, self.now) {
            let to = super::net::index_of(&m.to);
            if self.nodes.get(to).is_some_and(SimNode::is_up) {
                self.act(to, Action::Deliver(m))?;
            }
        }
        if chaos {
            self.client_ops()?;
        }
        for i in 0..self.nodes.len() {
            self.flush(i)?;
        }
        Ok(())
    }

    fn shuffled(&mut self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.nodes.len()).collect();
        for j in (1..order.len()).rev() {
            order.swap(j, self.rng.random_range(0..=j));
        }
        order
    }

    fn pick(&mut self, up: bool) -> Option<usize> {
        let pool: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].is_up() == up)
            .collect();
        (!pool.is_empty()).then(|| pool[self.rng.random_range(0..pool.len())])
    }

    fn start(&mut self, i: usize) -> Result<(), Violation> {
        let seed = self.rng.random();
        self.nodes[i].start(seed).map_err(|e| self.violation(e))
    }

    /// Crash node `i`: it keeps only its disk; its clients get no answer.
    pub(super) fn crash(&mut self, i: usize, when: &'static str) {
        self.nodes[i].crash();
        self.clients.writes.retain(|(n, _), _| *n != i);
        self.stats.crashes += 1;
        self.note(|| format!("n{} crashes {when}", i + 1));
    }

    fn faults(&mut self) -> Result<(), Violation> {
        if self.rng.random_bool(self.k.crash) {
            if let Some(i) = self.pick(true) {
                self.crash(i, "between steps");
            }
        }
        if self.rng.random_bool(self.k.restart) {
            if let Some(i) = self.pick(false) {
                self.start(i)?;
                self.stats.restarts += 1;
                self.note(|| format!("n{} restarts", i + 1));
            }
        }
        if self.rng.random_bool(self.k.partition) {
            self.partition();
        }
        if self.rng.random_bool(self.k.heal) {
            self.net.heal();
            self.note(|| "heal".into());
        }
        Ok(())
    }

    fn partition(&mut self) {
        let n = self.nodes.len();
        self.stats.partitions += 1;
        match self.rng.random_range(0..3) {
            0 => {
                let side: Vec<usize> = (0..n).filter(|_| self.rng.random_bool(0.5)).collect();
                self.net.heal();
                self.net.partition(&side);
                self.note(|| format!("partition {side:?} from the rest"));
            }
            1 => {
                let lone = self.rng.random_range(0..n);
                self.net.heal();
                self.net.partition(&[lone]);
                self.note(|| format!("isolate n{}", lone + 1));
            }
            _ => {
                let (a, b) = (self.rng.random_range(0..n), self.rng.random_range(0..n));
                if a != b {
                    self.net.cut_one_way(a, b);
                    self.note(|| format!("cut n{} -> n{}", a + 1, b + 1));
                }
            }
        }
    }

    /// A node a client would talk to: usually one that believes it leads.
    fn client_target(&mut self) -> Option<usize> {
        let leaders: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| {
                self.nodes[i]
                    .core
                    .as_ref()
                    .is_some_and(|c| c.role() == Role::Leader)
            })
            .collect();
        if !leaders.is_empty() && self.rng.random_bool(0.85) {
            return Some(leaders[self.rng.random_range(0..leaders.len())]);
        }
        self.pick(true)
    }

    fn client_ops(&mut self) -> Result<(), Violation> {
        if self.rng.random_bool(self.k.propose) {
            if let Some(i) = self.client_target() {
                let cmd = self.command();
                self.act(i, Action::Propose(cmd))?;
            }
        }
        if self.rng.random_bool(self.k.read) {
            if let Some(i) = self.client_target() {
                let ctx = self.clients.next_ctx;
                self.clients.next_ctx += 1;
                self.act(i, Action::Read(ctx))?;
            }
        }
        Ok(())
    }

    /// A write of a fresh value to one of a few keys: a put, or a CAS from a recent value.
    fn command(&mut self) -> Command {
        let c = &mut self.clients;
        c.next_value += 1;
        let value = c.next_value;
        let key = format!("k{}", self.rng.random_range(0..3));
        let cmd = if c.recent.is_empty() || self.rng.random_bool(0.5) {
            Command::Put {
                key,
                value: value.into(),
            }
        } else {
            let from = c.recent[self.rng.random_range(0..c.recent.len())];
            Command::Cas {
                key,
                from: from.into(),
                to: value.into(),
            }
        };
        if c.recent.len() == 8 {
            c.recent.remove(0);
        }
        c.recent.push(value);
        cmd
    }

    /// Heal, restart everyone, stop losing messages, and wait for one leader whose every entry is
    /// applied everywhere; then compare every state machine. Not converging is a liveness bug.
    fn settle(&mut self) -> Result<(), Violation> {
        self.net.heal();
        for i in 0..self.nodes.len() {
            if !self.nodes[i].is_up() {
                self.start(i)?;
            }
        }
        self.k.drop = 0.0;
        self.k.duplicate = 0.0;
        self.k.long_delay = 0.0;
        self.k.crash_in_ready = 0.0;
        let limit = 60 * u64::from(self.k.election_ticks);
        for _ in 0..limit {
            self.round(false)?;
            if let Some(applied) = self.converged() {
                for i in 0..self.nodes.len() {
                    let kv = self.nodes[i].kv.clone();
                    self.check.state(i, applied, &kv)?;
                }
                self.stats.committed += applied;
                return Ok(());
            }
        }
        let view: Vec<String> = self
            .nodes
            .iter()
            .filter_map(|n| n.core.as_ref().map(|c| (n, c)))
            .map(|(n, c)| {
                format!(
                    "{} {:?} term {} commit {} last {} applied {}",
                    n.cfg.id,
                    c.role(),
                    c.term(),
                    c.commit(),
                    c.last_index(),
                    n.applied
                )
            })
            .collect();
        Err(self.violation(format!(
            "liveness: no convergence within {limit} calm rounds: {}",
            view.join("; ")
        )))
    }

    /// The applied index every node agrees on, once there is one leader whose whole log is
    /// committed and applied everywhere, covering everything ever seen committed.
    fn converged(&self) -> Option<u64> {
        let cores: Vec<_> = self
            .nodes
            .iter()
            .map(|n| n.core.as_ref())
            .collect::<Option<_>>()?;
        let leaders: Vec<_> = cores.iter().filter(|c| c.role() == Role::Leader).collect();
        let [leader] = leaders.as_slice() else {
            return None;
        };
        let done = leader.commit() == leader.last_index()
            && leader.commit() >= self.check.max_committed()
            && self.nodes.iter().all(|n| n.applied == leader.commit());
        done.then(|| leader.commit())
    }
}
