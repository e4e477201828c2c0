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
    };
    insta::assert_snapshot!(render_summary(&r, "results/t/x"));
}
