//! The library API end to end, so the example cannot rot: a seeded simulation of a replicated
//! register (`examples/simulated_register.rs`) recorded with `HistoryBuilder` is linearizable
//! when reads go to the primary, and not when stale backups serve them.

#[path = "../examples/simulated_register.rs"]
#[allow(dead_code)]
mod simulated_register;

use faultline_checker::history::OpType;
use faultline_checker::Verdict;
use simulated_register::{check_register, simulate};

const SEEDS: u64 = 20;

#[test]
fn reads_from_the_primary_are_linearizable_for_every_seed() {
    for seed in 0..SEEDS {
        let history = simulate(seed, false, 200);
        assert!(
            history.ops.iter().any(|o| o.kind == OpType::Info),
            "seed {seed}: no timeouts"
        );
        let report = check_register(&history);
        assert_eq!(report.verdict, Verdict::Valid, "seed {seed}");
    }
}

#[test]
fn stale_reads_from_backups_are_caught_for_every_seed() {
    for seed in 0..SEEDS {
        let report = check_register(&simulate(seed, true, 200));
        let Verdict::Invalid { counterexample } = &report.verdict else {
            panic!("seed {seed}: expected invalid, got {:?}", report.verdict);
        };
        assert_eq!(
            counterexample.op.f, "read",
            "seed {seed}: {counterexample:?}"
        );
        assert_eq!(counterexample.op.kind, OpType::Ok);
    }
}

#[test]
fn the_same_seed_records_the_same_history() {
    assert_eq!(simulate(3, true, 100), simulate(3, true, 100));
    assert_ne!(simulate(3, true, 100), simulate(4, true, 100));
}
