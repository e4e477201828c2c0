//! Stats from small histories and a snapshot of the table.

use super::*;
use crate::checker::{CheckReport, ModelKind};
use crate::history::Op;
use serde_json::{json, Value};

fn op(p: Process, kind: OpType, f: &str, t: i64, value: Value) -> Op {
    Op {
        index: 0,
        time: Some(t),
        process: p,
        kind,
        f: f.into(),
        key: None,
        value,
        node: None,
        error: None,
    }
}

fn history() -> History {
    use OpType::*;
    use Process::*;
    let mut ops = vec![
        op(Client(0), Invoke, "write", 0, json!(1)),
        op(Client(1), Invoke, "read", 1_000_000, Value::Null),
        op(Client(0), Ok, "write", 2_000_000, json!(1)),
        op(Nemesis, Info, "kill", 2_500_000, json!("[n1]")),
        op(Nemesis, Info, "kill", 2_600_000, json!("[n1]")),
        op(Client(1), Info, "read", 5_000_000, Value::Null),
        op(Client(0), Invoke, "cas", 6_000_000, json!([1, 2])),
        op(Client(0), Fail, "cas", 7_000_000, json!([1, 2])),
        op(Nemesis, Info, "restart", 8_000_000, json!("[n1]")),
        op(Nemesis, Info, "restart", 9_000_000, json!("[n1]")),
        op(Client(11), Invoke, "read", 9_500_000, Value::Null),
    ];
    for (i, o) in ops.iter_mut().enumerate() {
        o.index = i as u64;
    }
    History { ops }
}

#[test]
fn disk_faults_end_at_their_restart_or_disk_heal() {
    use OpType::Info;
    use Process::Nemesis;
    let mut ops = vec![
        op(Nemesis, Info, "lose-unfsynced", 1, json!("[n1 n2 n3]")),
        op(
            Nemesis,
            Info,
            "lose-unfsynced",
            2,
            json!("[n1 n2 n3] n1: lost 0 B"),
        ),
        op(Nemesis, Info, "restart", 3, json!("[n1 n2 n3]")),
        op(Nemesis, Info, "restart", 4, json!("[n1 n2 n3]")),
        op(Nemesis, Info, "disk-full", 5, json!("[n2]")),
        op(Nemesis, Info, "disk-full", 6, json!("[n2]")),
        op(Nemesis, Info, "disk-heal", 7, json!("[n2]")),
        op(Nemesis, Info, "disk-heal", 8, json!("[n2]")),
    ];
    for (i, o) in ops.iter_mut().enumerate() {
        o.index = i as u64;
    }
    let s = RunStats::from_history(&History { ops });
    let got: Vec<(&str, &str, i64, Option<i64>)> = s
        .faults
        .iter()
        .map(|f| (f.f.as_str(), f.value.as_str(), f.start_ns, f.end_ns))
        .collect();
    assert_eq!(
        got,
        [
            ("lose-unfsynced", "[n1 n2 n3]", 1, Some(4)),
            ("disk-full", "[n2]", 5, Some(8))
        ]
    );
}

#[test]
fn outcomes_latency_and_faults_from_history() {
    let s = RunStats::from_history(&history());
    let all = &s.outcomes["all"];
    assert_eq!((all.ok, all.fail, all.info), (1, 1, 2));
    assert_eq!(
        s.outcomes["read"].info, 2,
        "unfinished invoke counts as info"
    );
    assert_eq!(s.latency["write"].p50_us, 2000);
    assert_eq!(s.faults.len(), 1);
    assert_eq!(s.faults[0].f, "kill");
    assert_eq!(
        (s.faults[0].start_ns, s.faults[0].end_ns),
        (2_500_000, Some(9_000_000))
    );
}

#[test]
fn summary_table_snapshot() {
    let s = RunStats::from_history(&history());
    let r = RunResults {
        name: "t".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        seed: 7,
        rerun: String::new(),
        config: Default::default(),
        duration_s: 10.0,
        outcomes: s.outcomes,
        latency: s.latency,
        throughput: 0.1,
        faults: s.faults,
        check: CheckReport {
            model: ModelKind::CasRegister,
            verdict: Verdict::Valid,
            keys: vec![],
            elapsed_ms: 3,
        },
        aborted: None,
        coverage: Default::default(),
    };
    insta::assert_snapshot!(render_summary(&r, "results/t/x"));
}

#[test]
fn an_invalid_summary_names_the_failing_op_its_node_and_the_op_before_it() {
    let s = RunStats::from_history(&history());
    let mut stale = op(Process::Client(3), OpType::Ok, "read", 9, json!(0));
    (stale.index, stale.key, stale.node) = (479, Some("k0".into()), Some("n1".into()));
    let mut write = op(Process::Client(5), OpType::Ok, "cas", 8, json!([0, 1]));
    (write.index, write.key, write.node) = (477, Some("k0".into()), Some("n3".into()));
    let ce = crate::checker::Counterexample {
        key: Some("k0".into()),
        op: stale,
        previous_ok: Some(write),
        longest_prefix: vec![],
        states: vec!["1".into()],
        final_paths: vec![],
    };
    let r = RunResults {
        name: "t".into(),
        started_at: String::new(),
        seed: 7,
        rerun: String::new(),
        config: Default::default(),
        duration_s: 10.0,
        outcomes: s.outcomes,
        latency: s.latency,
        throughput: 0.1,
        faults: s.faults,
        coverage: Default::default(),
        check: CheckReport {
            model: ModelKind::CasRegister,
            verdict: Verdict::Invalid {
                counterexample: Box::new(ce),
            },
            keys: vec![],
            elapsed_ms: 3,
        },
        aborted: None,
    };
    let text = render_summary(&r, "results/t/x");
    assert!(
        text.contains("verdict     INVALID (key k0, op 479)"),
        "{text}"
    );
    assert!(
        text.contains("failing op  #479 p3 ok read 0 key=k0 node=n1\n"),
        "{text}"
    );
    assert!(
        text.contains("previous ok #477 p5 ok cas [0,1] key=k0 node=n3\n"),
        "{text}"
    );
    assert!(text.contains("states then 1\n"), "{text}");
}

#[test]
fn the_summary_says_what_the_faults_hit_and_what_was_left_out() {
    use crate::nemesis::coverage::{Coverage, LEFT_OUT};
    use OpType::*;
    use Process::*;
    let note = json!({"fault": "kill", "desc": "[n3]", "targets": {"n3": "follower"}});
    let mut h = History {
        ops: vec![
            op(
                Nemesis,
                Info,
                LEFT_OUT,
                0,
                json!({"loss": "needs root: run as root"}),
            ),
            op(Nemesis, Info, "kill", 1_000, note.clone()),
            op(Nemesis, Info, "kill", 2_000, note),
            op(Nemesis, Info, "restart", 3_000, json!("[n3]")),
            op(Nemesis, Info, "restart", 4_000, json!("[n3]")),
        ],
    };
    for (i, o) in h.ops.iter_mut().enumerate() {
        o.index = i as u64;
    }
    let s = RunStats::from_history(&h);
    assert_eq!(s.faults.len(), 1, "left-out is not a fault");
    assert_eq!(
        s.faults[0].value, "[n3]",
        "a note's desc is the fault's value"
    );
    let r = RunResults {
        name: "t".into(),
        started_at: String::new(),
        seed: 1,
        rerun: String::new(),
        config: Default::default(),
        duration_s: 1.0,
        outcomes: s.outcomes,
        latency: s.latency,
        throughput: 0.0,
        faults: s.faults,
        check: CheckReport {
            model: ModelKind::CasRegister,
            verdict: Verdict::Valid,
            keys: vec![],
            elapsed_ms: 0,
        },
        aborted: None,
        coverage: Coverage::from_history(&h),
    };
    let text = render_summary(&r, "x");
    assert!(
        text.contains("coverage    no fault hit the leader; follower: kill x1\n"),
        "{text}"
    );
    assert!(
        text.contains("left out    loss (needs root: run as root)\n"),
        "{text}"
    );
}
