//! rw-register: the smallest history for each anomaly, and each version-order source.

use super::*;

fn rw(txns: &[(OpType, &str)]) -> H {
    concurrent(TxnModel::RwRegister, txns)
}

#[test]
fn g1a_g1b_internal() {
    let h = rw(&[(Fail, "wx1"), (Okay, "rx1")]);
    assert!(types(&h.check(&["read-committed"], &[])).contains(&"G1a"));
    let h = rw(&[(Okay, "wx1wx2"), (Okay, "rx1")]);
    assert!(types(&h.check(&["read-committed"], &[])).contains(&"G1b"));
    let h = rw(&[(Okay, "wx1rx2"), (Okay, "wx2")]);
    let r = h.check(&[], &["internal"]);
    assert_eq!(r.valid, TxnVerdict::Invalid);
    assert!(types(&r).contains(&"internal"));
    // A read of nothing followed by a read of something is a non-repeatable read.
    let h = rw(&[(Okay, "rxrx1"), (Okay, "wx1")]);
    assert_eq!(types(&h.check(&[], &["internal"])), ["internal"]);
}

#[test]
fn g0_from_writes_follow_reads() {
    let h = rw(&[(Okay, "ry2wx1wy1"), (Okay, "rx1wx2wy2")]);
    let r = h.check(&["serializable"], &[]);
    assert_eq!(types(&r), ["G0"]);
    let opts = TxnOptions {
        model: TxnModel::RwRegister,
        wfr_keys: false,
        ..TxnOptions::default()
    };
    let r = check(&crate::history::History { ops: h.ops.clone() }, &opts).expect("check");
    assert_eq!(types(&r), ["G1c"]);
}

#[test]
fn g1c_g_single_g2() {
    let h = rw(&[(Okay, "wx1ry2"), (Okay, "wy2rx1")]);
    assert_eq!(types(&h.check(&["serializable"], &[])), ["G1c"]);
    let h = rw(&[(Okay, "wx1wy1"), (Okay, "rxry1")]);
    let r = h.check(&["serializable"], &[]);
    assert_eq!(types(&r), ["G-single-item"]);
    let h = rw(&[(Okay, "rxwy1"), (Okay, "rywx1")]);
    let r = h.check(&["serializable"], &[]);
    assert_eq!(
        (types(&r), r.not.clone()),
        (vec!["G2-item"], vec!["repeatable-read".to_string()])
    );
    assert_eq!(
        h.check(&["snapshot-isolation"], &[]).valid,
        TxnVerdict::Valid
    );
}

#[test]
fn lost_update_and_cyclic_versions() {
    let h = rw(&[(Okay, "wx0"), (Okay, "rx0wx1"), (Okay, "rx0wx2")]);
    assert_eq!(
        types(&h.check(&["serializable"], &[])),
        ["G2-item", "lost-update"]
    );
    let h = rw(&[(Okay, "rx1wx2"), (Okay, "rx2wx1")]);
    let r = h.check(&["serializable"], &[]);
    assert!(types(&r).contains(&"cyclic-versions"), "{:?}", types(&r));
    let Witness::CyclicVersions { sources, .. } =
        &r.anomalies[&"cyclic-versions".parse().expect("a")][0]
    else {
        panic!("wrong witness")
    };
    assert_eq!(sources, &["initial-state", "wfr-keys"]);
}

#[test]
fn sequential_keys_read_your_writes() {
    let mut h = H::new(TxnModel::RwRegister);
    h.txn(0, Okay, "wx1").txn(0, Okay, "rx");
    let opts = |sequential| TxnOptions {
        model: TxnModel::RwRegister,
        consistency_models: vec!["strong-session-snapshot-isolation".parse().expect("m")],
        sequential_keys: sequential,
        ..TxnOptions::default()
    };
    let hist = crate::history::History { ops: h.ops.clone() };
    let r = check(&hist, &opts(false)).expect("check");
    assert_eq!(types(&r), ["G-single-item-process"]);
    let r = check(&hist, &opts(true)).expect("check");
    assert_eq!(types(&r), ["G-single-item-process", "cyclic-versions"]);
}

#[test]
fn linearizable_keys_order_versions_by_real_time() {
    // x1 completes before x2 begins; a concurrent reader sees x = 1 and y = 2 (read skew),
    // which only a real-time version order can prove.
    let mut h = H::new(TxnModel::RwRegister);
    h.txn(0, Okay, "wx1")
        .inv(1, "wx2wy2")
        .inv(2, "rxry")
        .done(1, Okay, "wx2wy2");
    h.done(2, Okay, "rx1ry2");
    let hist = crate::history::History { ops: h.ops.clone() };
    let opts = |lin| TxnOptions {
        model: TxnModel::RwRegister,
        consistency_models: vec!["serializable".parse().expect("m")],
        linearizable_keys: lin,
        ..TxnOptions::default()
    };
    assert_eq!(
        check(&hist, &opts(false)).expect("check").valid,
        TxnVerdict::Valid
    );
    let r = check(&hist, &opts(true)).expect("check");
    assert_eq!(types(&r), ["G-single-item"], "{:?}", r.anomalies);
    // A read of x = 1 after x = 2 completed contradicts real-time version order outright.
    let mut h = H::new(TxnModel::RwRegister);
    h.txn(0, Okay, "wx1")
        .txn(1, Okay, "wx2")
        .txn(2, Okay, "rx1");
    let r = check(&crate::history::History { ops: h.ops.clone() }, &opts(true)).expect("check");
    assert_eq!(types(&r), ["cyclic-versions"]);
}

#[test]
fn duplicate_writes_are_bad_input() {
    let h = rw(&[(Okay, "wx1"), (Okay, "wx1")]);
    let opts = TxnOptions {
        model: TxnModel::RwRegister,
        ..TxnOptions::default()
    };
    let e = check(&crate::history::History { ops: h.ops.clone() }, &opts).expect_err("dup");
    assert!(e.to_string().contains("unique per key"), "{e}");
}
