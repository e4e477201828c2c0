//! The smallest history showing each anomaly class, most taken from Elle's own test suite
//! (`elle.list-append-test`, `elle.rw-register-test`), checked end to end through [`check`].

use serde_json::{json, Value};

use super::*;
use crate::history::{Op, OpType, Process};

/// Elle's op notation: `ax1` appends 1 to x, `ry12` reads y = [1 2], `ry` reads y = [];
/// `wx1` writes 1 to x, `rx1` (registers) reads x = 1, `rx` reads x = null. Keys are single
/// letters, values single digits.
fn mops(s: &str, model: TxnModel, invoke: bool) -> Value {
    let mut out: Vec<Value> = Vec::new();
    let mut cur: Option<(char, char, Vec<u64>)> = None;
    let flush = |c: Option<(char, char, Vec<u64>)>, out: &mut Vec<Value>| {
        if let Some((f, k, vs)) = c {
            let key = Value::String(k.to_string());
            out.push(match (f, model) {
                ('a', _) => json!(["append", key, vs[0]]),
                ('w', _) => json!(["w", key, vs[0]]),
                ('r', _) if invoke => json!(["r", key, null]),
                ('r', TxnModel::ListAppend) => json!(["r", key, vs]),
                _ => json!(["r", key, vs.first()]),
            });
        }
    };
    for ch in s.chars() {
        match ch {
            'a' | 'r' | 'w' => {
                flush(cur.take(), &mut out);
                cur = Some((ch, '?', Vec::new()));
            }
            d if d.is_ascii_digit() => {
                if let Some(c) = cur.as_mut() {
                    c.2.push(d.to_digit(10).unwrap_or(0) as u64);
                }
            }
            k => {
                if let Some(c) = cur.as_mut() {
                    c.1 = k;
                }
            }
        }
    }
    flush(cur, &mut out);
    Value::Array(out)
}

/// A history under construction.
pub(super) struct H {
    pub ops: Vec<Op>,
    pub model: TxnModel,
}

impl H {
    pub(super) fn new(model: TxnModel) -> Self {
        H {
            ops: Vec::new(),
            model,
        }
    }

    fn push(&mut self, p: u64, kind: OpType, value: Value) -> &mut Self {
        self.ops.push(Op {
            index: self.ops.len() as u64,
            time: None,
            process: Process::Client(p),
            kind,
            f: "txn".into(),
            key: None,
            value,
            node: None,
            error: None,
        });
        self
    }

    /// Invoke `s` on process `p`.
    pub(super) fn inv(&mut self, p: u64, s: &str) -> &mut Self {
        let v = mops(s, self.model, true);
        self.push(p, OpType::Invoke, v)
    }

    /// Complete `s` on process `p` as `kind`.
    pub(super) fn done(&mut self, p: u64, kind: OpType, s: &str) -> &mut Self {
        let v = mops(s, self.model, false);
        self.push(p, kind, v)
    }

    /// Invoke and complete `s` on process `p`.
    pub(super) fn txn(&mut self, p: u64, kind: OpType, s: &str) -> &mut Self {
        self.inv(p, s).done(p, kind, s)
    }

    /// Check against `models` (friendly names) plus `anomalies`.
    pub(super) fn check(&self, models: &[&str], anomalies: &[&str]) -> TxnReport {
        let opts = TxnOptions {
            model: self.model,
            consistency_models: models.iter().map(|m| m.parse().expect("model")).collect(),
            anomalies: anomalies
                .iter()
                .map(|a| a.parse().expect("anomaly"))
                .collect(),
            ..TxnOptions::default()
        };
        check(
            &crate::history::History {
                ops: self.ops.clone(),
            },
            &opts,
        )
        .expect("check")
    }
}

fn types(r: &TxnReport) -> Vec<&'static str> {
    r.anomaly_types.iter().map(|a| a.name()).collect()
}

use OpType::{Fail, Info, Ok as Okay};

/// Transactions on distinct processes, all concurrent: no process or real-time edges.
fn concurrent(model: TxnModel, txns: &[(OpType, &str)]) -> H {
    let mut h = H::new(model);
    for (p, (_, s)) in txns.iter().enumerate() {
        h.inv(p as u64, s);
    }
    for (p, (kind, s)) in txns.iter().enumerate() {
        h.done(p as u64, *kind, s);
    }
    h
}

fn la(txns: &[(OpType, &str)]) -> H {
    concurrent(TxnModel::ListAppend, txns)
}

#[test]
fn readme_example_is_g1c() {
    let h = la(&[(Okay, "ax1ry1"), (Okay, "ax2ay1"), (Okay, "rx12")]);
    let r = h.check(&[], &["G1"]);
    assert_eq!((r.valid, types(&r)), (TxnVerdict::Invalid, vec!["G1c"]));
    assert_eq!(r.not, ["read-committed"]);
    let Witness::Cycle(c) = &r.anomalies.values().next().expect("G1c")[0] else {
        panic!("not a cycle")
    };
    let rels: Vec<&str> = c.steps.iter().map(|s| s.rel.as_str()).collect();
    assert_eq!(c.cycle.len(), 2);
    assert!(rels.contains(&"wr") && rels.contains(&"ww"), "{rels:?}");
    assert!(c
        .explanation
        .last()
        .is_some_and(|l| l.ends_with("a contradiction!")));
    assert_eq!(h.check(&[], &["G0"]).valid, TxnVerdict::Valid);
    assert_eq!(h.check(&[], &["G2"]).valid, TxnVerdict::Valid);
}

#[test]
fn paper_example_is_g_single_item() {
    // Elle's paper, figure 1 (histories/paper-example.edn), one process each, sequential.
    let mut h = H::new(TxnModel::ListAppend);
    let t1 = r#"[["append",253,1],["append",253,3],["append",253,4],["append",255,2],["append",255,3],["append",255,4],["append",255,5],["append",256,1],["append",256,2]]"#;
    let t2 = r#"[["append",255,8],["r",253,[1,3,4]]]"#;
    let t3 = r#"[["append",256,4],["r",255,[2,3,4,5,8]],["r",256,[1,2,4]],["r",253,[1,3,4]]]"#;
    let t4 = r#"[["append",250,10],["r",253,[1,3,4]],["r",255,[2,3,4,5]],["append",256,3]]"#;
    for (p, t) in [t1, t2, t3, t4].iter().enumerate() {
        let v: Value = serde_json::from_str(t).expect("json");
        h.push(p as u64, OpType::Invoke, v.clone())
            .push(p as u64, OpType::Ok, v);
    }
    let r = h.check(&["serializable"], &[]);
    assert_eq!(
        (r.valid, types(&r)),
        (TxnVerdict::Invalid, vec!["G-single-item"])
    );
    assert_eq!(r.not, ["consistent-view", "repeatable-read"]);
    let Witness::Cycle(c) = &r.anomalies.values().next().expect("cycle")[0] else {
        panic!("not a cycle")
    };
    let idx: Vec<u64> = c.cycle.iter().map(|o| o.index).collect();
    assert_eq!(idx.len(), 3, "{idx:?}");
    for i in [3, 5, 7] {
        assert!(idx.contains(&i), "{idx:?}");
    }
}

#[test]
fn g0_write_cycle() {
    let h = la(&[(Okay, "ax1ay1"), (Okay, "ax2ay2"), (Okay, "rx12ry21")]);
    let r = h.check(&[], &["G0"]);
    assert_eq!((r.valid, types(&r)), (TxnVerdict::Invalid, vec!["G0"]));
    assert_eq!(r.not, ["read-uncommitted"]);
    assert_eq!(types(&h.check(&[], &["G1"])), ["G0"]);
    assert_eq!(h.check(&[], &["G2"]).valid, TxnVerdict::Valid);
}

#[test]
fn g1a_aborted_read() {
    let h = la(&[(Fail, "ax1"), (Okay, "rx1")]);
    let r = h.check(&["read-committed"], &[]);
    assert_eq!(types(&r), ["G1a", "empty-transaction-graph"]);
    assert_eq!(
        (r.valid, r.not.clone()),
        (TxnVerdict::Invalid, vec!["read-committed".to_string()])
    );
    let r = h.check(&["read-uncommitted"], &[]);
    assert_eq!(
        (r.valid, types(&r)),
        (TxnVerdict::Unknown, vec!["empty-transaction-graph"])
    );
}

#[test]
fn g1b_intermediate_read_is_also_g_single() {
    let h = la(&[(Okay, "ax1ax2"), (Okay, "rx1")]);
    let r = h.check(&["serializable"], &[]);
    assert_eq!(types(&r), ["G-single-item", "G1b"]);
    assert_eq!(types(&h.check(&[], &["G1"])), ["G1b"]);
}

#[test]
fn g_single_item_read_skew() {
    let h = la(&[(Okay, "ax1ay1"), (Okay, "ax2ry"), (Okay, "rx12")]);
    let r = h.check(&[], &["G-single"]);
    assert_eq!(
        (r.valid, types(&r)),
        (TxnVerdict::Invalid, vec!["G-single-item"])
    );
    assert_eq!(r.not, ["consistent-view", "repeatable-read"]);
    assert_eq!(h.check(&[], &["G1"]).valid, TxnVerdict::Valid);
}

#[test]
fn g2_item_write_skew() {
    let h = la(&[(Okay, "ax1ry"), (Okay, "ay1rx")]);
    let r = h.check(&["serializable"], &[]);
    assert_eq!((r.valid, types(&r)), (TxnVerdict::Invalid, vec!["G2-item"]));
    assert_eq!(r.not, ["repeatable-read"]);
    assert_eq!(h.check(&["read-committed"], &[]).valid, TxnVerdict::Valid);
    assert_eq!(
        h.check(&["snapshot-isolation"], &[]).valid,
        TxnVerdict::Valid
    );
}

#[test]
fn g_nonadjacent_item() {
    let h = la(&[
        (Okay, "ax1"),
        (Okay, "rx1ry"),
        (Okay, "ay1"),
        (Okay, "ry1rx"),
    ]);
    let r = h.check(&["serializable"], &[]);
    assert_eq!(types(&r), ["G-nonadjacent-item"]);
    assert_eq!(r.not, ["repeatable-read", "snapshot-isolation"]);
    // rw rw wr rw wr: two rw edges adjacent, so not an SI violation.
    let h = la(&[
        (Okay, "rx5ay1"),
        (Okay, "ryaz2"),
        (Okay, "rzat3"),
        (Okay, "rt3au4"),
        (Okay, "ruax5"),
    ]);
    assert_eq!(
        h.check(&["snapshot-isolation"], &[]).valid,
        TxnVerdict::Valid
    );
}

#[test]
fn realtime_and_process_variants() {
    // T1 appends 2 after T0's 1; T2 begins after T1 ends but reads only [1].
    let mut h = H::new(TxnModel::ListAppend);
    h.txn(0, Okay, "ax1")
        .txn(1, Okay, "ax2")
        .txn(2, Okay, "rx1")
        .txn(3, Okay, "rx12");
    assert_eq!(h.check(&["serializable"], &[]).valid, TxnVerdict::Valid);
    let r = h.check(&["strict-serializable"], &[]);
    assert_eq!(types(&r), ["G-single-item-realtime"]);
    assert_eq!(r.not, ["strong-snapshot-isolation"]);
    // The same, but T1 and T2 share a process: a session violation.
    let mut h = H::new(TxnModel::ListAppend);
    h.txn(0, Okay, "ax1")
        .txn(1, Okay, "ax2")
        .txn(1, Okay, "rx1")
        .txn(2, Okay, "rx12");
    let r = h.check(&["strong-session-snapshot-isolation"], &[]);
    assert_eq!(types(&r), ["G-single-item-process"]);
    assert_eq!(r.not, ["strong-session-snapshot-isolation"]);
}

#[test]
fn g_nonadjacent_item_process() {
    // Elle issue 17: process order plus two non-adjacent rw edges.
    let mut h = H::new(TxnModel::ListAppend);
    h.txn(0, Okay, "rxrz1")
        .txn(1, Okay, "ax1")
        .txn(1, Okay, "rz")
        .txn(2, Okay, "az1");
    assert_eq!(h.check(&["serializable"], &[]).valid, TxnVerdict::Valid);
    let r = h.check(&["strong-session-snapshot-isolation"], &[]);
    assert_eq!(types(&r), ["G-nonadjacent-item-process"]);
}

#[test]
fn g1c_process() {
    // Elle issue 21: t0 -wr-> t1 -process-> t2 -wr-> t0.
    let mut h = H::new(TxnModel::ListAppend);
    h.txn(1, Okay, "rx1ay1")
        .txn(2, Okay, "ry1")
        .txn(2, Okay, "ax1");
    let r = h.check(&["strong-session-snapshot-isolation"], &[]);
    assert_eq!(types(&r), ["G1c-process"]);
    assert_eq!(r.not, ["strong-session-read-committed"]);
}

#[test]
fn incompatible_orders_and_duplicates() {
    let h = la(&[
        (Okay, "ax1ry1"),
        (Okay, "ax2"),
        (Okay, "ax3ay1"),
        (Okay, "rx13"),
        (Okay, "rx123"),
    ]);
    let r = h.check(&[], &["G1"]);
    assert_eq!(types(&r), ["G1c", "incompatible-order"]);
    let Witness::IncompatibleOrder { values, .. } =
        &r.anomalies[&"incompatible-order".parse().expect("a")][0]
    else {
        panic!("wrong witness")
    };
    assert_eq!(values, &[json!([1, 3]), json!([1, 2, 3])]);
    let h = la(&[(Okay, "ax1ry1"), (Okay, "ax2ay1"), (Okay, "rx121")]);
    let r = h.check(&["read-committed"], &[]);
    assert_eq!(types(&r), ["G1c", "duplicate-elements"]);
    assert_eq!(r.not, ["read-uncommitted"]);
}

#[test]
fn dirty_updates() {
    let h = la(&[(Fail, "ax1"), (Okay, "ax2"), (Okay, "rx12")]);
    let r = h.check(&[], &["dirty-update"]);
    assert_eq!(
        (r.valid, types(&r)),
        (TxnVerdict::Invalid, vec!["dirty-update"])
    );
    assert_eq!(r.not, ["read-committed"]);
    let h = la(&[(Fail, "ax1"), (Info, "ax2"), (Okay, "ax3"), (Okay, "rx123")]);
    let r = h.check(&[], &["dirty-update"]);
    let Witness::DirtyUpdate { values, .. } = &r.anomalies[&"dirty-update".parse().expect("a")][0]
    else {
        panic!("wrong witness")
    };
    assert_eq!(values, &[json!(1), json!(2), json!(3)]);
}

#[test]
fn internal_and_future_reads() {
    let h = la(&[(Okay, "ax1ax2ax4"), (Okay, "ax3rx1234")]);
    let r = h.check(&[], &["internal"]);
    assert_eq!(types(&r), ["internal"]);
    let Witness::Op(o) = &r.anomalies[&"internal".parse().expect("a")][0] else {
        panic!("op")
    };
    assert_eq!(o.expected, Some(json!(["...", 3])));
    let h = la(&[(Okay, "rx1ax1")]);
    let r = h.check(&["read-committed"], &[]);
    assert_eq!(types(&r), ["empty-transaction-graph", "future-read"]);
    assert_eq!(r.not, ["read-committed"]);
}

#[test]
fn lost_update() {
    let h = la(&[(Okay, "ax0"), (Okay, "rx0ax1"), (Okay, "rx0ax2")]);
    let r = h.check(&["serializable"], &[]);
    assert_eq!(types(&r), ["G2-item", "lost-update"]);
    assert_eq!(r.not, ["cursor-stability", "update-atomic"]);
    // One transaction writing twice over its own read is fine.
    let h = la(&[(Okay, "rxax1ax2"), (Okay, "rx12")]);
    assert_eq!(h.check(&["serializable"], &[]).valid, TxnVerdict::Valid);
}

#[test]
fn crashed_reads_constrain_nothing() {
    // An info transaction's read of y is unknown: no rw edge from it.
    let h = la(&[(Info, "ax2ry"), (Okay, "ax1ay1"), (Okay, "rx12ry1")]);
    assert_eq!(h.check(&["serializable"], &[]).valid, TxnVerdict::Valid);
}

#[test]
fn valid_history_is_valid_under_every_model() {
    let mut h = H::new(TxnModel::ListAppend);
    h.txn(0, Okay, "ax1")
        .txn(1, Okay, "rx1ay1")
        .txn(0, Okay, "rx1ry1ax2")
        .txn(2, Okay, "rx12ry1");
    for m in lattice::MAIN_MODELS {
        let r = h.check(&[m], &[]);
        assert_eq!((r.valid, types(&r)), (TxnVerdict::Valid, vec![]), "{m}");
    }
}

#[test]
fn duplicate_appends_are_bad_input() {
    let h = la(&[(Okay, "ax1"), (Okay, "ax1")]);
    let opts = TxnOptions::default();
    let e = check(&crate::history::History { ops: h.ops.clone() }, &opts).expect_err("dup");
    assert!(e.to_string().contains("unique per key"), "{e}");
}

#[path = "register_tests.rs"]
mod register;

#[path = "jsonl_tests.rs"]
mod jsonl_io;

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
