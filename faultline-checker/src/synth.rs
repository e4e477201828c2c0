//! Seeded generators of cas-register histories for tests and benchmarks: linearizable by
//! construction (a simulated atomic register per key, each op taking effect at one instant between
//! its invoke and completion), with crashed (`info`) ops that may or may not have taken effect,
//! failed cas ops, and a mutation that makes a history invalid.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use serde_json::{json, Value};

use crate::history::{History, Key, Op, OpType, Process};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// RNG seed: the same config always yields the same history.
    pub seed: u64,
    /// Number of client calls (invokes); the history has about twice as many ops.
    pub calls: usize,
    /// Concurrent client threads (each is one process at a time; a crash starts a new process).
    pub processes: usize,
    /// Number of keys; `None` = an un-keyed single register.
    pub keys: Option<usize>,
    /// Probability that a call ends `info` (crashed).
    pub info_rate: f64,
    /// Values are drawn from `0..values`.
    pub values: u64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seed: 0,
            calls: 1000,
            processes: 10,
            keys: None,
            info_rate: 0.05,
            values: 5,
        }
    }
}

#[derive(Clone)]
enum Phase {
    Idle,
    /// Invoked; the op has not taken effect yet.
    Invoked {
        f: &'static str,
        key: Option<Key>,
        value: Value,
    },
    /// The op took effect; `result` is what the client will be told.
    Applied {
        f: &'static str,
        key: Option<Key>,
        result: Value,
        ok: bool,
    },
}

/// Generate a linearizable cas-register history.
pub fn generate(cfg: &SynthConfig) -> History {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let threads = cfg.processes.max(1);
    let mut process: Vec<u64> = (0..threads as u64).collect();
    let mut next_process = threads as u64;
    let mut phase = vec![Phase::Idle; threads];
    let mut regs: FxHashMap<Option<Key>, Value> = FxHashMap::default();
    let mut ops: Vec<Op> = Vec::with_capacity(cfg.calls * 2 + threads);
    let mut invoked = 0usize;
    let push =
        |ops: &mut Vec<Op>, p: u64, kind: OpType, f: &str, key: &Option<Key>, value: Value| {
            let index = ops.len() as u64;
            ops.push(Op {
                index,
                time: Some(index as i64 * 1000),
                process: Process::Client(p),
                kind,
                f: f.to_string(),
                key: key.clone(),
                value,
                node: None,
                error: None,
            });
        };
    loop {
        let t = rng.random_range(0..threads);
        match phase[t].clone() {
            Phase::Idle if invoked < cfg.calls => {
                invoked += 1;
                let key = cfg
                    .keys
                    .map(|k| Key::Str(format!("k{}", rng.random_range(0..k.max(1)))));
                let (f, value) = match rng.random_range(0..10) {
                    0..=4 => ("read", Value::Null),
                    5..=7 => ("write", json!(rng.random_range(0..cfg.values))),
                    _ => (
                        "cas",
                        json!([
                            rng.random_range(0..cfg.values),
                            rng.random_range(0..cfg.values)
                        ]),
                    ),
                };
                push(&mut ops, process[t], OpType::Invoke, f, &key, value.clone());
                phase[t] = Phase::Invoked { f, key, value };
            }
            Phase::Idle => {
                if phase.iter().all(|p| matches!(p, Phase::Idle)) {
                    break;
                }
            }
            Phase::Invoked { f, key, value } => {
                if rng.random_bool(cfg.info_rate / 2.0) {
                    // Crash before taking effect.
                    let shown = if f == "read" { Value::Null } else { value };
                    push(&mut ops, process[t], OpType::Info, f, &key, shown);
                    process[t] = next_process;
                    next_process += 1;
                    phase[t] = Phase::Idle;
                    continue;
                }
                let reg = regs.entry(key.clone()).or_insert(Value::Null);
                let (result, ok) = match f {
                    "read" => (reg.clone(), true),
                    "write" => {
                        *reg = value.clone();
                        (value, true)
                    }
                    _ => {
                        let matches = value.get(0) == Some(&*reg)
                            || (reg.is_null() && value.get(0).is_some_and(Value::is_null));
                        if matches {
                            *reg = value.get(1).cloned().unwrap_or(Value::Null);
                        }
                        (value, matches)
                    }
                };
                phase[t] = Phase::Applied { f, key, result, ok };
            }
            Phase::Applied { f, key, result, ok } => {
                if rng.random_bool(cfg.info_rate / 2.0) {
                    // Crash after taking effect: the client never learns the outcome.
                    let shown = if f == "read" { Value::Null } else { result };
                    push(&mut ops, process[t], OpType::Info, f, &key, shown);
                    process[t] = next_process;
                    next_process += 1;
                } else {
                    let kind = if ok { OpType::Ok } else { OpType::Fail };
                    push(&mut ops, process[t], kind, f, &key, result);
                }
                phase[t] = Phase::Idle;
            }
        }
    }
    History { ops }
}

/// A copy of `history` made non-linearizable: its last `ok` read returns a value no op ever
/// wrote. Returns `None` when the history has no `ok` read.
pub fn mutate(history: &History) -> Option<History> {
    let mut h = history.clone();
    let pos = h
        .ops
        .iter()
        .rposition(|o| o.kind == OpType::Ok && o.f == "read")?;
    h.ops[pos].value = json!(-424242);
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{check, CheckOptions, ModelKind, Verdict};

    #[test]
    fn generated_histories_are_valid_and_mutants_invalid() {
        for (seed, keys) in [(1, None), (2, Some(4)), (3, None)] {
            let cfg = SynthConfig {
                seed,
                calls: 400,
                processes: 8,
                keys,
                info_rate: 0.1,
                values: 3,
            };
            let h = generate(&cfg);
            assert_eq!(h, generate(&cfg), "same seed, same history");
            let opts = CheckOptions {
                model: ModelKind::Kv,
                ..CheckOptions::default()
            };
            assert_eq!(check(&h, &opts).unwrap().verdict, Verdict::Valid);
            let bad = mutate(&h).unwrap();
            assert!(matches!(
                check(&bad, &opts).unwrap().verdict,
                Verdict::Invalid { .. }
            ));
        }
    }

    #[test]
    fn relaxed_walk_never_rejects_a_valid_history_and_catches_mutants() {
        use crate::budget::Budget;
        use crate::linear::{Walk, WalkResult};
        use crate::models::CasRegister;
        use crate::prep::prepare;
        use std::sync::atomic::AtomicBool;
        for seed in 0..20 {
            let cfg = SynthConfig {
                seed,
                calls: 300,
                processes: 6,
                keys: None,
                info_rate: 0.2,
                values: 3,
            };
            let h = generate(&cfg);
            for (hist, valid) in [(h.clone(), true), (mutate(&h).unwrap(), false)] {
                let mut m = CasRegister::new(&Value::Null);
                let pos: Vec<usize> = (0..hist.ops.len()).collect();
                let p = prepare(&mut m, &hist, &pos).unwrap();
                let b = Budget::new(None, usize::MAX);
                let r = Walk::relaxed(&m, &p).run(&b, &AtomicBool::new(false));
                assert_eq!(matches!(r, WalkResult::Valid), valid, "seed {seed}");
            }
        }
    }
}
