//! Unit tests of the whole checker on small hand-built histories.

use serde_json::{json, Value};

use super::*;
use crate::history::{OpType, Process};

/// Build a history from `(process, type, f, value)` rows.
pub(crate) fn hist(rows: &[(u64, &str, &str, Value)]) -> History {
    let ops = rows
        .iter()
        .enumerate()
        .map(|(i, (p, t, f, v))| Op {
            index: i as u64,
            time: None,
            process: if *p == u64::MAX {
                Process::Nemesis
            } else {
                Process::Client(*p)
            },
            kind: match *t {
                "invoke" => OpType::Invoke,
                "ok" => OpType::Ok,
                "fail" => OpType::Fail,
                _ => OpType::Info,
            },
            f: f.to_string(),
            key: None,
            value: v.clone(),
            node: None,
            error: None,
        })
        .collect();
    History { ops }
}

fn verdict(h: &History, model: ModelKind, init: Value) -> Verdict {
    let opts = CheckOptions {
        model,
        init,
        ..CheckOptions::default()
    };
    check(h, &opts).unwrap().verdict
}

#[test]
fn sequential_write_read_is_valid_and_stale_read_is_invalid() {
    let mut h = hist(&[
        (1, "invoke", "write", json!(1)),
        (1, "ok", "write", json!(1)),
        (2, "invoke", "read", Value::Null),
        (2, "ok", "read", json!(1)),
    ]);
    assert_eq!(
        verdict(&h, ModelKind::CasRegister, Value::Null),
        Verdict::Valid
    );
    h.ops[3].value = Value::Null;
    let Verdict::Invalid { counterexample } = verdict(&h, ModelKind::CasRegister, Value::Null)
    else {
        panic!("expected invalid");
    };
    assert_eq!(counterexample.op.index, 3);
    assert_eq!(counterexample.previous_ok.map(|o| o.index), Some(1));
    assert_eq!(counterexample.states, vec!["1".to_string()]);
    assert_eq!(counterexample.longest_prefix, vec![1]);
}

#[test]
fn concurrent_read_may_see_either_value_and_crashed_write_may_apply_later() {
    let h = hist(&[
        (1, "invoke", "write", json!(1)),
        (2, "invoke", "read", Value::Null),
        (2, "ok", "read", Value::Null),
        (1, "info", "write", json!(1)),
        (3, "invoke", "read", Value::Null),
        (3, "ok", "read", Value::Null),
        (4, "invoke", "read", Value::Null),
        (4, "ok", "read", json!(1)),
    ]);
    assert_eq!(
        verdict(&h, ModelKind::CasRegister, Value::Null),
        Verdict::Valid
    );
}

#[test]
fn failed_write_must_not_be_visible() {
    let h = hist(&[
        (1, "invoke", "write", json!(1)),
        (1, "fail", "write", json!(1)),
        (2, "invoke", "read", Value::Null),
        (2, "ok", "read", json!(1)),
    ]);
    assert!(matches!(
        verdict(&h, ModelKind::CasRegister, Value::Null),
        Verdict::Invalid { .. }
    ));
    assert!(matches!(
        verdict(&h, ModelKind::CasRegister, json!(1)),
        Verdict::Valid
    ));
}

#[test]
fn nemesis_ops_are_ignored_and_keys_checked_separately() {
    let mut h = hist(&[
        (u64::MAX, "info", "kill", json!("n1")),
        (1, "invoke", "write", json!(1)),
        (1, "ok", "write", json!(1)),
        (2, "invoke", "read", Value::Null),
        (2, "ok", "read", Value::Null),
    ]);
    h.ops[1].key = Some("a".into());
    h.ops[2].key = Some("a".into());
    h.ops[3].key = Some("b".into());
    h.ops[4].key = Some("b".into());
    let opts = CheckOptions {
        model: ModelKind::Kv,
        ..CheckOptions::default()
    };
    let r = check(&h, &opts).unwrap();
    assert_eq!(r.verdict, Verdict::Valid);
    assert_eq!(r.keys.len(), 2);
    h.ops[3].key = Some("a".into());
    h.ops[4].key = Some("a".into());
    let r = check(&h, &opts).unwrap();
    assert!(matches!(r.verdict, Verdict::Invalid { .. }));
    assert!(render_text(&r).contains("key: a"));
}

#[test]
fn bad_values_are_errors_not_verdicts() {
    let h = hist(&[(1, "invoke", "cas", json!(3)), (1, "ok", "cas", json!(3))]);
    let opts = CheckOptions::default();
    match check(&h, &opts) {
        Err(CheckError::BadOp { index, .. }) => assert_eq!(index, 1),
        other => panic!("expected BadOp, got {other:?}"),
    }
}

#[test]
fn zero_time_limit_gives_unknown_never_valid() {
    // A long history that cannot finish instantly.
    let mut rows = Vec::new();
    for i in 0..400u64 {
        rows.push((i % 7, "invoke", "write", json!(i % 3)));
        rows.push((i % 7, "ok", "write", json!(i % 3)));
    }
    let h = hist(&rows);
    let opts = CheckOptions {
        time_limit: Some(std::time::Duration::ZERO),
        ..CheckOptions::default()
    };
    let v = check(&h, &opts).unwrap().verdict;
    assert!(matches!(v, Verdict::Unknown { .. }), "{v:?}");
}

#[test]
fn final_paths_show_each_failing_order() {
    // write 2 completes; a cas [1 1] is pending; a read of 0 then cannot be linearized.
    let h = hist(&[
        (1, "invoke", "write", json!(2)),
        (1, "ok", "write", json!(2)),
        (2, "invoke", "cas", json!([1, 1])),
        (3, "invoke", "read", Value::Null),
        (3, "ok", "read", json!(0)),
        (2, "ok", "cas", json!([1, 1])),
    ]);
    let opts = CheckOptions::default();
    let r = check(&h, &opts).unwrap();
    let Verdict::Invalid { counterexample } = &r.verdict else {
        panic!("expected invalid")
    };
    assert_eq!(counterexample.op.index, 4);
    let text = render_text(&r);
    assert!(
        text.contains("write 2 -> 2; cas [1 1] -> can't CAS 2 from 1 to 1"),
        "{text}"
    );
    assert!(
        text.contains("write 2 -> 2; read 0 -> can't read 0 from register 2"),
        "{text}"
    );
    assert_eq!(counterexample.final_paths.len(), 2, "{text}");
}

/// WGL's reductions keep every strategy exact: a crashed rewrite of the current value is not
/// "read-only" (it may have happened later, after another write), and equal crashed writes are
/// interchangeable. Valid: write 1, write 2, the crashed write 1, then cas 1→0.
#[test]
fn a_crashed_rewrite_may_still_happen_later_for_every_strategy() {
    let h = hist(&[
        (0, "invoke", "write", json!(1)),
        (1, "invoke", "write", json!(1)),
        (0, "ok", "write", json!(1)),
        (0, "invoke", "write", json!(2)),
        (0, "ok", "write", json!(2)),
        (0, "invoke", "cas", json!([1, 0])),
        (0, "ok", "cas", json!([1, 0])),
    ]);
    let opts = CheckOptions {
        model: ModelKind::CasRegister,
        ..CheckOptions::default()
    };
    for s in [Strategy::Compete, Strategy::Walk, Strategy::Wgl] {
        assert_eq!(
            check_with(&h, &opts, s).unwrap().verdict,
            Verdict::Valid,
            "{s:?}"
        );
    }
    // Without the crashed write the cas cannot succeed.
    let mut h2 = h.clone();
    h2.ops.remove(1);
    for s in [Strategy::Compete, Strategy::Walk, Strategy::Wgl] {
        let v = check_with(&h2, &opts, s).unwrap().verdict;
        assert!(matches!(v, Verdict::Invalid { .. }), "{s:?}: {v:?}");
    }
}

/// Regression: the relaxed walk (crashed calls may happen again and again) ran until the memory
/// budget on counters and queues, whose states never repeat. It now applies at most as many
/// crashed ops between two returns as there are crashed calls, which also keeps it a proof.
#[test]
fn the_relaxed_walk_alone_ends_on_a_counter_and_proves_an_impossible_read() {
    let h = |read: i64| {
        hist(&[
            (1, "invoke", "add", json!(1)),
            (1, "info", "add", json!(1)),
            (2, "invoke", "read", Value::Null),
            (2, "ok", "read", json!(read)),
        ])
    };
    let opts = CheckOptions {
        model: ModelKind::Counter,
        memory_limit: 64 << 20,
        time_limit: Some(std::time::Duration::from_secs(60)),
        ..CheckOptions::default()
    };
    let five = check_with(&h(5), &opts, Strategy::RelaxedWalk).unwrap();
    assert!(matches!(five.verdict, Verdict::Invalid { .. }), "{five:?}");
    let one = check_with(&h(1), &opts, Strategy::RelaxedWalk).unwrap();
    assert!(
        matches!(&one.verdict, Verdict::Unknown { reason } if reason.contains("proves nothing")),
        "{one:?}"
    );
    assert_eq!(check(&h(1), &opts).unwrap().verdict, Verdict::Valid);
}
