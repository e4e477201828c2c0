//! The simulation as tests: thousands of seeds against the correct core, and proof that it can
//! fail: with a seeded bug switched on, it finds a violation and names the seed to replay.

use super::{run_seed, seeds_from_env, sweep, Seeds, Stats, Sweep};
use crate::bugs::{Bug, Bugs};

/// Seeds per node count in the default test run (`FAULTLINE_SIM_SEEDS` overrides).
const DEFAULT_SEEDS: u64 = 3000;
/// Most seeds a bug hunt may take before the test gives up on finding the bug.
const HUNT_SEEDS: u64 = 3000;

fn seeds(default: u64) -> Seeds {
    seeds_from_env(default).unwrap_or_else(|e| panic!("{e}"))
}

/// Run one seed with its trace and fail with the trace if it breaks a property.
fn replay(nodes: usize, seed: u64, bugs: &Bugs, test: &str) {
    let (stats, failure) = run_seed(nodes, seed, bugs, true);
    eprintln!("sim {test}: seed {seed} on {nodes} nodes: {stats:?}");
    if let Some((v, trace)) = failure {
        for line in trace {
            eprintln!("  {line}");
        }
        panic!("seed {seed}: {v}");
    }
}

fn summary(test: &str, nodes: usize, s: &Sweep) {
    let st = &s.stats;
    eprintln!(
        "sim {test}: {} seeds on {nodes} nodes, {} rounds, {} steps in {:.1?}: {} elections, {} \
         entries committed, {} writes acked, {} reads, {} crashes ({} while persisting), {} \
         restarts, {} partitions, {} snapshots taken, {} installed ({} kept a suffix), {} \
         truncations",
        st.seeds,
        st.rounds,
        st.steps,
        s.elapsed,
        st.elections,
        st.committed,
        st.acked,
        st.reads,
        st.crashes,
        st.torn_readies,
        st.restarts,
        st.partitions,
        st.snapshots,
        st.installs,
        st.kept_suffix,
        st.truncations
    );
}

/// The runs exercised what they are meant to (a simulation that never crashes a node or installs
/// a snapshot would pass vacuously).
fn assert_exercised(st: &Stats) {
    let per_seed = |x: u64| x as f64 / st.seeds.max(1) as f64;
    assert!(per_seed(st.committed) >= 20.0, "too few commits: {st:?}");
    assert!(per_seed(st.elections) >= 2.0, "too few elections: {st:?}");
    for (what, n) in [
        ("acknowledged writes", st.acked),
        ("reads", st.reads),
        ("crashes", st.crashes),
        ("crashes while persisting", st.torn_readies),
        ("restarts", st.restarts),
        ("partitions", st.partitions),
        ("snapshots", st.snapshots),
        ("snapshot installs", st.installs),
        ("installs keeping a suffix", st.kept_suffix),
        ("truncations", st.truncations),
    ] {
        assert!(n > 0, "no {what} in {} seeds: {st:?}", st.seeds);
    }
}

fn keeps_raft_safety(nodes: usize, test: &str) {
    let first = match seeds(DEFAULT_SEEDS) {
        Seeds::One(seed) => return replay(nodes, seed, &Bugs::none(), test),
        Seeds::First(n) => n,
    };
    let s = sweep(nodes, &Bugs::none(), 0..first, false);
    summary(test, nodes, &s);
    if let Some((seed, v)) = s.failures.first() {
        panic!(
            "the {nodes}-node simulation broke Raft at seed {seed} ({} of {} seeds failed): {v}\n\
             replay: FAULTLINE_SIM_SEED={seed} cargo test -p faultline-raft {test} -- --nocapture",
            s.failures.len(),
            s.stats.seeds
        );
    }
    if first >= 100 {
        assert_exercised(&s.stats);
    }
}

#[test]
fn sim_three_nodes_keep_raft_safety() {
    keeps_raft_safety(3, "sim_three_nodes_keep_raft_safety");
}

#[test]
fn sim_five_nodes_keep_raft_safety() {
    keeps_raft_safety(5, "sim_five_nodes_keep_raft_safety");
}

/// Each seeded bug the core simulates breaks the property it is about, and the simulation finds
/// it within a bounded number of seeds. (`stale-read`, `stale-leader`, `split-cas` and
/// `memory-log` live in the driver, not the core: the integration tests cover them.) `FAULTLINE_SIM_BUG=<name>` hunts one bug only; with
/// `FAULTLINE_SIM_SEED` that seed is replayed with its trace.
#[test]
fn sim_finds_each_seeded_bug_the_core_simulates() {
    let only = std::env::var("FAULTLINE_SIM_BUG").ok();
    let hunts = [
        (Bug::ForgetVote, "election safety"),
        (Bug::NoTruncate, "log matching"),
        (Bug::EarlyAck, ""),
    ];
    for (bug, property) in hunts {
        if only.as_deref().is_some_and(|b| b != bug.name()) {
            continue;
        }
        let bugs = Bugs::of(vec![bug]);
        let test = "sim_finds_each_seeded_bug_the_core_simulates";
        let limit = match seeds(HUNT_SEEDS) {
            Seeds::One(seed) => {
                let (_, failure) = run_seed(3, seed, &bugs, true);
                if let Some((v, trace)) = failure {
                    trace.iter().for_each(|l| eprintln!("  {l}"));
                    eprintln!("sim {test}: {bug} at seed {seed}: {v}");
                }
                continue;
            }
            Seeds::First(n) => n,
        };
        let s = sweep(3, &bugs, 0..limit, true);
        let Some((seed, v)) = s.failures.first() else {
            panic!(
                "the simulation did not find bug {bug} in {} seeds",
                s.stats.seeds
            );
        };
        eprintln!(
            "sim {test}: bug {bug} found at seed {seed} ({} seeds, {:.1?}): {v}\n  replay: \
             FAULTLINE_SIM_BUG={bug} FAULTLINE_SIM_SEED={seed} cargo test -p faultline-raft {test} \
             -- --nocapture",
            s.stats.seeds, s.elapsed
        );
        assert!(v.what.contains(property), "{bug} broke something else: {v}");
    }
}
