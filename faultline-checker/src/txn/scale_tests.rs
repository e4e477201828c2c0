//! Large shapes: a witness cycle hidden among many others, and an edge blow-up that must end at
//! the memory budget (`unknown`) rather than in an OOM kill.

use serde_json::{json, Value};

use super::*;

/// Elle's `unfindable-g-single` test: one G-single cycle 1,000 transactions long in a sea of
/// G2-item cycles. Elle's search times out and falls back to "PL-SI-cycle-exists"; here the
/// witness search finds the cycle itself.
#[test]
fn g_single_hidden_among_g2_cycles_is_still_found() {
    let (n, noise) = (1000u64, 10u64);
    let mut h = H::new(TxnModel::ListAppend);
    let mut p = 0u64;
    let mut txn = |h: &mut H, value: Value| {
        h.push(p, OpType::Invoke, value.clone())
            .push(p, OpType::Ok, value);
        p += 1;
    };
    for i in 0..n {
        let second = match i {
            0 => json!(["append", "anti", "first"]),
            i if i == n - 1 => json!(["r", "anti", []]),
            i => json!(["append", i, 0]),
        };
        txn(&mut h, json!([["append", "ring", i], second]));
    }
    txn(&mut h, json!([["r", "ring", (0..n).collect::<Vec<_>>()]]));
    for i in 1..n - 1 {
        for j in 1..noise {
            let v = if j == noise - 2 {
                json!([
                    ["r", i, (0..noise - 2).collect::<Vec<_>>()],
                    ["r", format!("anti-{i}"), []]
                ])
            } else if j == noise - 1 {
                json!([["append", format!("anti-{i}"), 0], ["r", "ring", []]])
            } else {
                json!([["append", i, j]])
            };
            txn(&mut h, v);
        }
    }
    let r = h.check(&["snapshot-isolation"], &[]);
    assert_eq!(r.valid, TxnVerdict::Invalid);
    assert_eq!(types(&r), ["G-single-item"], "{:?}", r.anomaly_types);
    assert_eq!(r.not, ["consistent-view", "repeatable-read"]);
    let Witness::Cycle(c) = &r.anomalies.values().next().expect("cycle")[0] else {
        panic!("cycle")
    };
    assert_eq!(c.cycle.len() as u64, n);
}

/// Hundreds of readers of an empty list and hundreds of appends nobody read: every reader
/// anti-depends on every append. Past the memory budget that is `unknown`, not an OOM kill.
#[test]
fn quadratic_edges_stop_at_the_memory_budget() {
    let mut h = H::new(TxnModel::ListAppend);
    let n = 300u64;
    let value = |i: u64, done: bool| {
        if i < n {
            json!([["r", "x", if done { json!([]) } else { Value::Null }]])
        } else {
            json!([["append", "x", i]])
        }
    };
    for i in 0..2 * n {
        h.push(i, OpType::Invoke, value(i, false));
    }
    for i in 0..2 * n {
        h.push(i, OpType::Ok, value(i, true));
    }
    let hist = crate::history::History { ops: h.ops.clone() };
    let r = check(&hist, &TxnOptions::default()).expect("check");
    assert!(r.stats.edges >= (n * n) as usize, "{:?}", r.stats);
    let small = TxnOptions {
        memory_limit: 512 << 10,
        ..TxnOptions::default()
    };
    let r = check(&hist, &small).expect("check");
    assert_eq!(r.valid, TxnVerdict::Unknown, "{:?}", r.unknown_reason);
    let why = r.unknown_reason.unwrap_or_default();
    assert!(
        why.contains("memory limit") && why.contains("edges"),
        "{why}"
    );
}
