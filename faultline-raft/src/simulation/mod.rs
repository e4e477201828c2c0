//! A randomized simulation of the pure Raft core, in the style of etcd/raft's and raft-rs's
//! multi-node tests: 3 or 5 [`crate::core::Core`]s on a seeded network that drops, duplicates,
//! delays and reorders messages and cuts links (partitions, one-way cuts); nodes crash (also in
//! the middle of persisting a `Ready`) and restart from exactly what they persisted; clients
//! propose writes and linearizable reads. After every step the checker verifies the properties
//! of Figure 3 (election safety, log matching, leader completeness, state machine safety), that
//! committed entries are never dropped from storage, and that reads are not stale. Each run ends
//! with a calm phase that must converge (one leader, every entry applied everywhere, equal state
//! machines).
//!
//! - `world`: the rounds, faults, clients and the calm phase; `step`: one step and its `Ready`;
//! - `net`: the network; `node`: a node's core, disk and state machine; `check`: the properties.
//!
//! Everything random comes from the seed, so a seed replays exactly: the tests print
//! `FAULTLINE_SIM_SEED=<seed> cargo test -p faultline-raft <test>` for a failing one, which runs
//! that seed alone and prints the last events before the violation. `FAULTLINE_SIM_SEEDS=<n>`
//! runs `n` seeds per test instead of the default (deep runs).

mod check;
mod net;
mod node;
mod step;
mod world;

#[cfg(test)]
mod tests;

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::bugs::Bugs;
pub(crate) use check::Violation;
use world::World;

/// The knobs of one run, drawn from its seed so that seeds explore different regimes.
#[derive(Debug, Clone)]
pub(crate) struct Knobs {
    pub nodes: usize,
    /// Rounds of chaos before the calm phase; every up node ticks about once per round.
    pub rounds: u64,
    pub pre_vote: bool,
    pub election_ticks: u32,
    pub heartbeat_ticks: u32,
    pub max_batch: usize,
    /// Compact once this many entries were applied since the last snapshot (0 = never).
    pub snapshot_every: u64,
    /// Per message: lost, sent twice, delayed by up to `4 × election_ticks` rounds.
    pub drop: f64,
    pub duplicate: f64,
    pub long_delay: f64,
    /// Usual delay: 1 to `max_delay` rounds.
    pub max_delay: u64,
    /// Per round: crash an up node, restart a down one, partition, heal.
    pub crash: f64,
    pub restart: f64,
    pub partition: f64,
    pub heal: f64,
    /// Per `Ready`: crash while persisting it.
    pub crash_in_ready: f64,
    /// Per round: a client write, a client read.
    pub propose: f64,
    pub read: f64,
    pub bugs: Bugs,
}

impl Knobs {
    /// Draw the knobs of seed `seed`.
    pub(crate) fn draw(nodes: usize, seed: u64, bugs: Bugs) -> Knobs {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_f00d_c4a0_5eed);
        let election_ticks = rng.random_range(6..=12);
        let mut pick = |xs: &[f64]| xs[rng.random_range(0..xs.len())];
        let (drop, duplicate, long_delay) = (
            pick(&[0.0, 0.02, 0.1, 0.25]),
            pick(&[0.0, 0.02, 0.1]),
            pick(&[0.0, 0.01, 0.05]),
        );
        let crash_in_ready = pick(&[0.0, 0.002, 0.01]);
        Knobs {
            nodes,
            rounds: 300,
            pre_vote: rng.random_bool(0.5),
            election_ticks,
            heartbeat_ticks: rng.random_range(1..=election_ticks / 3),
            max_batch: rng.random_range(1..=8),
            snapshot_every: if rng.random_bool(0.25) {
                0
            } else {
                rng.random_range(3..=25)
            },
            drop,
            duplicate,
            long_delay,
            max_delay: rng.random_range(1..=3),
            crash: rng.random_range(0.0..0.04),
            restart: rng.random_range(0.05..0.3),
            partition: rng.random_range(0.0..0.06),
            heal: rng.random_range(0.02..0.12),
            crash_in_ready,
            propose: rng.random_range(0.2..0.9),
            read: rng.random_range(0.1..0.6),
            bugs,
        }
    }
}

/// What the runs did, summed over seeds (so a test can show its runs exercised each path).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stats {
    pub seeds: u64,
    pub rounds: u64,
    pub steps: u64,
    pub elections: u64,
    /// Entries committed and applied everywhere by the end of each run.
    pub committed: u64,
    pub acked: u64,
    pub reads: u64,
    pub crashes: u64,
    /// Crashes while persisting a `Ready`.
    pub torn_readies: u64,
    pub restarts: u64,
    pub partitions: u64,
    pub snapshots: u64,
    pub installs: u64,
    /// Installed snapshots that kept a matching log suffix (§7).
    pub kept_suffix: u64,
    /// Stored suffixes replaced by a leader's entries.
    pub truncations: u64,
}

impl Stats {
    fn add(&mut self, o: &Stats) {
        self.seeds += o.seeds;
        self.rounds += o.rounds;
        self.steps += o.steps;
        self.elections += o.elections;
        self.committed += o.committed;
        self.acked += o.acked;
        self.reads += o.reads;
        self.crashes += o.crashes;
        self.torn_readies += o.torn_readies;
        self.restarts += o.restarts;
        self.partitions += o.partitions;
        self.snapshots += o.snapshots;
        self.installs += o.installs;
        self.kept_suffix += o.kept_suffix;
        self.truncations += o.truncations;
    }
}

/// One seed's run: its stats, and the violation with the trace before it if one was found.
pub(crate) fn run_seed(
    nodes: usize,
    seed: u64,
    bugs: &Bugs,
    trace: bool,
) -> (Stats, Option<(Violation, Vec<String>)>) {
    let knobs = Knobs::draw(nodes, seed, bugs.clone());
    let mut world = match World::new(seed, knobs, trace) {
        Ok(w) => w,
        Err(v) => return (Stats::default(), Some((v, Vec::new()))),
    };
    let outcome = world.run();
    world.stats.seeds = 1;
    (world.stats, outcome.err().map(|v| (v, world.trace())))
}

/// Many seeds, run in parallel.
#[derive(Debug)]
pub(crate) struct Sweep {
    pub stats: Stats,
    /// Failing seeds (the lowest first) and what broke.
    pub failures: Vec<(u64, Violation)>,
    pub elapsed: Duration,
}

/// Run `seeds` on `nodes` nodes with `bugs`; with `stop_at_first`, stop soon after a failure.
pub(crate) fn sweep(nodes: usize, bugs: &Bugs, seeds: Range<u64>, stop_at_first: bool) -> Sweep {
    let started = Instant::now();
    let next = AtomicU64::new(seeds.start);
    let stop = AtomicBool::new(false);
    let total = Mutex::new(Stats::default());
    let failures = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut mine = Stats::default();
                // Checking `stop` before taking a seed means every seed below a failing one
                // was taken, and runs: the lowest failing seed is the same on every machine.
                while !stop.load(Ordering::SeqCst) {
                    let seed = next.fetch_add(1, Ordering::SeqCst);
                    if seed >= seeds.end {
                        break;
                    }
                    let (stats, failure) = run_seed(nodes, seed, bugs, false);
                    mine.add(&stats);
                    if let Some((v, _)) = failure {
                        stop.store(stop_at_first, Ordering::SeqCst);
                        failures
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((seed, v));
                    }
                }
                total.lock().unwrap_or_else(|e| e.into_inner()).add(&mine);
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    failures.sort_by_key(|(seed, _)| *seed);
    Sweep {
        stats: total.into_inner().unwrap_or_else(|e| e.into_inner()),
        failures,
        elapsed: started.elapsed(),
    }
}

/// Which seeds a test runs, from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seeds {
    /// `FAULTLINE_SIM_SEED`: replay one seed, traced.
    One(u64),
    /// `0..FAULTLINE_SIM_SEEDS` (or the test's default).
    First(u64),
}

/// Read `FAULTLINE_SIM_SEED` / `FAULTLINE_SIM_SEEDS`; a value that is not a number is an error
/// naming the variable.
pub(crate) fn seeds_from_env(default: u64) -> Result<Seeds, String> {
    let var =
        |name: &str| -> Result<Option<u64>, String> {
            match std::env::var(name) {
                Ok(v) => v.trim().parse().map(Some).map_err(|_| {
                    format!("{name}={v:?} is not a number of seeds; e.g. {name}=5000")
                }),
                Err(_) => Ok(None),
            }
        };
    Ok(
        match (var("FAULTLINE_SIM_SEED")?, var("FAULTLINE_SIM_SEEDS")?) {
            (Some(seed), _) => Seeds::One(seed),
            (None, Some(n)) => Seeds::First(n),
            (None, None) => Seeds::First(default),
        },
    )
}
