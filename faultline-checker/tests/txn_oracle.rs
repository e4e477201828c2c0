//! The transaction checker agrees with a brute-force oracle (every serial order of the committed
//! transactions, optionally respecting process or real-time order) on thousands of random small
//! histories, for both data models:
//!
//! - sound: whenever the checker says a history violates serializable, strong session
//!   serializable or strict serializable, no such serial order exists;
//! - complete for list-append histories whose reads are consistent with one order of appends:
//!   whenever no forbidden anomaly is found, such an order exists.
//!
//! `FAULTLINE_TXN_ORACLE_CASES=20000 cargo test --release -p faultline-checker --test txn_oracle` runs deeper.

use faultline_checker::history::{History, Op, OpType, Process};
use faultline_checker::txn::oracle::{self, Order};
use faultline_checker::txn::{check, TxnModel, TxnOptions, TxnVerdict};
use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

#[derive(Clone)]
struct T {
    process: u64,
    kind: OpType,
    /// (write?, key, value written)
    mops: Vec<(bool, u64, u64)>,
}

/// A random history: up to six transactions over two keys, unique writes, reads returning
/// prefixes of one global order of appends (so a version order always exists), taken at a
/// random point of it. `garbage` also lets reads see aborted writes and reordered lists.
fn history(seed: u64, model: TxnModel, garbage: bool) -> History {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = rng.random_range(2..=6usize);
    let mut next = [0u64; 2];
    let mut txns: Vec<T> = (0..n)
        .map(|i| {
            let kind = match rng.random_range(0..10) {
                0 => OpType::Info,
                1 => OpType::Fail,
                _ => OpType::Ok,
            };
            let mops = (0..rng.random_range(1..=3))
                .map(|_| {
                    let k = rng.random_range(0..2u64);
                    let w = rng.random_bool(0.5);
                    if w {
                        next[k as usize] += 1;
                    }
                    (w, k, next[k as usize])
                })
                .collect();
            // Sometimes two transactions share a process, one after the other.
            let process = if i > 0 && rng.random_bool(0.25) {
                i as u64 - 1
            } else {
                i as u64
            };
            T {
                process,
                kind,
                mops,
            }
        })
        .collect();
    // Same-process transactions must not overlap and must not follow an info one.
    for i in 1..n {
        if txns[i].process == txns[i - 1].process && txns[i - 1].kind == OpType::Info {
            txns[i].process = i as u64;
        }
    }
    // One global order of the applied transactions defines every key's final list.
    let mut applied: Vec<usize> = (0..n)
        .filter(|&i| match txns[i].kind {
            OpType::Ok => true,
            OpType::Info => rng.random_bool(0.5),
            _ => garbage && rng.random_bool(0.3),
        })
        .collect();
    applied.shuffle(&mut rng);
    let mut lists: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
    let mut at: Vec<[usize; 2]> = vec![[0, 0]; n];
    for &i in &applied {
        at[i] = [lists[0].len(), lists[1].len()];
        for &(w, k, v) in &txns[i].mops {
            if w {
                lists[k as usize].push(v);
            }
        }
    }
    // Reads: mostly the state at the transaction's own point (its own writes included),
    // otherwise a random prefix of the final list.
    let mut results: Vec<Vec<Value>> = Vec::new();
    for (i, t) in txns.iter().enumerate() {
        let mut own = at[i];
        let mut out = Vec::new();
        for &(w, k, v) in &t.mops {
            let k_ = k as usize;
            if w {
                own[k_] += 1;
                out.push(mop(model, true, k, json!(v)));
                continue;
            }
            let len = if rng.random_bool(0.7) {
                own[k_].min(lists[k_].len())
            } else {
                rng.random_range(0..=lists[k_].len())
            };
            let mut l = lists[k_][..len].to_vec();
            if garbage && l.len() > 1 && rng.random_bool(0.1) {
                l.swap(0, 1);
            }
            let r = match model {
                TxnModel::ListAppend => json!(l),
                TxnModel::RwRegister => l.last().map_or(Value::Null, |x| json!(x)),
            };
            out.push(mop(model, false, k, r));
        }
        results.push(out);
    }
    // Random interleaving: each transaction invoked before it completes, processes sequential.
    let mut events: Vec<(usize, bool)> = Vec::new();
    let mut pending: Vec<usize> = (0..n).collect();
    let mut open: Vec<usize> = Vec::new();
    while !pending.is_empty() || !open.is_empty() {
        let can_invoke: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|&i| !open.iter().any(|&o| txns[o].process == txns[i].process))
            .filter(|&i| {
                !pending
                    .iter()
                    .any(|&j| j < i && txns[j].process == txns[i].process)
            })
            .collect();
        if !can_invoke.is_empty() && (open.is_empty() || rng.random_bool(0.5)) {
            let i = can_invoke[rng.random_range(0..can_invoke.len())];
            pending.retain(|&x| x != i);
            open.push(i);
            events.push((i, false));
        } else {
            let j = rng.random_range(0..open.len());
            events.push((open.remove(j), true));
        }
    }
    let mut ops = Vec::new();
    for (i, done) in events {
        let t = &txns[i];
        let (kind, value) = if done {
            let v = if t.kind == OpType::Ok {
                results[i].clone()
            } else {
                invoke_value(model, t)
            };
            (t.kind, Value::Array(v))
        } else {
            (OpType::Invoke, Value::Array(invoke_value(model, t)))
        };
        ops.push(Op {
            index: ops.len() as u64,
            time: None,
            process: Process::Client(t.process),
            kind,
            f: "txn".into(),
            key: None,
            value,
            node: None,
            error: None,
        });
    }
    History { ops }
}

fn mop(model: TxnModel, write: bool, k: u64, v: Value) -> Value {
    match (write, model) {
        (true, TxnModel::ListAppend) => json!(["append", k, v]),
        (true, TxnModel::RwRegister) => json!(["w", k, v]),
        (false, _) => json!(["r", k, v]),
    }
}

fn invoke_value(model: TxnModel, t: &T) -> Vec<Value> {
    t.mops
        .iter()
        .map(|&(w, k, v)| {
            if w {
                mop(model, true, k, json!(v))
            } else {
                mop(model, false, k, Value::Null)
            }
        })
        .collect()
}

fn verdict(h: &History, model: TxnModel, consistency: &str, assume_keys: bool) -> TxnVerdict {
    let opts = TxnOptions {
        model,
        consistency_models: vec![consistency.parse().expect("model")],
        sequential_keys: assume_keys && consistency != "serializable",
        linearizable_keys: assume_keys && consistency == "strict-serializable",
        ..TxnOptions::default()
    };
    check(h, &opts).expect("well-formed").valid
}

const ORDERS: [(Order, &str); 3] = [
    (Order::Any, "serializable"),
    (Order::Session, "strong-session-serializable"),
    (Order::RealTime, "strict-serializable"),
];

fn agree(seed: u64, model: TxnModel, garbage: bool) -> Result<(), TestCaseError> {
    let h = history(seed, model, garbage);
    for (order, name) in ORDERS {
        let Some(exists) = oracle::serializable(&h, model, order) else {
            continue;
        };
        for assume in [false, true] {
            let v = verdict(&h, model, name, assume);
            if v == TxnVerdict::Invalid && exists {
                return Err(TestCaseError::fail(format!(
                    "unsound: {name} (key assumptions {assume}) says invalid but a serial order \
                     exists; seed {seed}; history {:#?}",
                    h.ops
                )));
            }
            let complete = model == TxnModel::ListAppend && !garbage && !assume;
            if complete && v == TxnVerdict::Valid && !exists {
                return Err(TestCaseError::fail(format!(
                    "incomplete: {name} says valid but no serial order exists; seed {seed}; \
                     history {:#?}",
                    h.ops
                )));
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("FAULTLINE_TXN_ORACLE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn list_append_agrees_with_brute_force(seed in any::<u64>()) {
        agree(seed, TxnModel::ListAppend, false)?;
    }

    #[test]
    fn list_append_with_garbage_reads_is_sound(seed in any::<u64>()) {
        agree(seed, TxnModel::ListAppend, true)?;
    }

    #[test]
    fn rw_register_is_sound(seed in any::<u64>()) {
        agree(seed, TxnModel::RwRegister, false)?;
    }

    #[test]
    fn rw_register_with_garbage_reads_is_sound(seed in any::<u64>()) {
        agree(seed, TxnModel::RwRegister, true)?;
    }
}

/// The random histories exercise both verdicts under every order, so agreement means something.
#[test]
fn generated_histories_cover_both_verdicts() {
    for model in [TxnModel::ListAppend, TxnModel::RwRegister] {
        for (order, name) in ORDERS {
            let (mut valid, mut invalid) = (0, 0);
            for seed in 0..400 {
                let h = history(seed, model, false);
                match (
                    oracle::serializable(&h, model, order),
                    verdict(&h, model, name, false),
                ) {
                    (Some(true), TxnVerdict::Valid) => valid += 1,
                    (Some(false), TxnVerdict::Invalid) => invalid += 1,
                    _ => {}
                }
            }
            assert!(
                valid > 40 && invalid > 40,
                "{model:?} {name}: {valid} valid, {invalid} invalid agreed"
            );
        }
    }
}
