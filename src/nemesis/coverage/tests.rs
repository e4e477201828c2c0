use serde_json::json;

use super::*;
use crate::history::Op;

const S: i64 = 1_000_000_000;

fn op(time: i64, process: Process, kind: OpType, f: &str, value: Value) -> Op {
    Op {
        index: 0,
        time: Some(time),
        process,
        kind,
        f: f.into(),
        key: None,
        value,
        node: None,
        error: None,
    }
}

fn nemesis(time: i64, f: &str, value: Value) -> Op {
    op(time, Process::Nemesis, OpType::Info, f, value)
}

fn client(time: i64, p: u64, kind: OpType) -> Op {
    op(time, Process::Client(p), kind, "read", Value::Null)
}

fn note(fault: &str, desc: &str, targets: &[(&str, TargetRole)]) -> Value {
    FaultNote {
        fault: fault.into(),
        desc: desc.into(),
        targets: targets.iter().map(|(n, r)| (n.to_string(), *r)).collect(),
        offsets_ms: Default::default(),
        strobe_every_ms: None,
        id: None,
    }
    .to_value()
}

fn history(mut ops: Vec<Op>) -> History {
    for (i, o) in ops.iter_mut().enumerate() {
        o.index = i as u64;
    }
    History { ops }
}

#[test]
fn windows_roles_and_availability_come_from_the_nemesis_ops() {
    let iso = note(
        "partition-leader",
        "[n1] [n2 n3] (leader n1)",
        &[("n1", TargetRole::Leader)],
    );
    let kill = note("kill", "[n2]", &[("n2", TargetRole::Follower)]);
    let h = history(vec![
        nemesis(
            0,
            LEFT_OUT,
            json!({"loss": "needs the netns network backend: run with --net netns"}),
        ),
        nemesis(0, WARNING, json!("n1 is statically linked")),
        client(S / 2, 1, OpType::Invoke),
        client(S / 2 + 1, 1, OpType::Ok), // quiet
        nemesis(S, "partition", iso.clone()),
        nemesis(S, "partition", iso),
        client(2 * S, 1, OpType::Invoke),
        client(2 * S + 1, 1, OpType::Info), // in the partition window
        client(2 * S + 2, 2, OpType::Invoke),
        client(2 * S + 3, 2, OpType::Fail),
        nemesis(3 * S, "heal", json!("all links")),
        nemesis(3 * S, "heal", json!("all links")),
        client(4 * S, 3, OpType::Invoke),
        client(4 * S + 1, 3, OpType::Ok), // quiet again
        nemesis(5 * S, "kill", kill.clone()),
        nemesis(5 * S, "kill", kill),
        client(5 * S + 5, 3, OpType::Invoke),
        client(5 * S + 6, 3, OpType::Ok),
        nemesis(7 * S, "restart", json!("[n2]")),
        nemesis(8 * S, "restart", json!("[n2]")),
        client(9 * S, 3, OpType::Invoke),
        client(10 * S, 3, OpType::Ok),
    ]);
    let c = Coverage::from_history(&h);
    assert_eq!(c.windows.len(), 2);
    let (w0, w1) = (&c.windows[0], &c.windows[1]);
    assert_eq!(
        (w0.fault.as_str(), w0.start_ns, w0.end_ns),
        ("partition-leader", S, 3 * S)
    );
    assert_eq!((w0.ops.ok, w0.ops.fail, w0.ops.info), (0, 1, 1));
    assert_eq!(w0.ops.seconds, 2.0);
    assert_eq!(
        (w1.fault.as_str(), w1.start_ns, w1.end_ns),
        ("kill", 5 * S, 8 * S)
    );
    assert_eq!((w1.ops.ok, w1.ops.ok_per_s), (1, 1.0 / 3.0));
    assert_eq!((c.quiet.ok, c.quiet.fail, c.quiet.info), (3, 0, 0));
    assert_eq!(c.quiet.seconds, 10.0 - 5.0);
    assert!(c.hit_leader);
    assert_eq!(c.by_role.len(), 2);
    assert_eq!(c.by_role[0].fault, "kill");
    assert_eq!(c.by_role[0].role, TargetRole::Follower);
    assert_eq!(c.by_role[1].role, TargetRole::Leader);
    assert_eq!(c.by_role[1].total_s, 2.0);
    assert!(c.left_out["loss"].contains("--net netns"));
    assert_eq!(c.warnings, ["n1 is statically linked"]);
    assert_eq!(
        c.headline().unwrap(),
        "leader: partition-leader x1; follower: kill x1"
    );
}

#[test]
fn a_run_whose_faults_never_hit_the_leader_says_so() {
    let k = note("kill", "[n3]", &[("n3", TargetRole::Follower)]);
    let p = note(
        "partition-halves",
        "[n2 n3] [n1 n4 n5]",
        &[("n2", TargetRole::Follower), ("n3", TargetRole::Unknown)],
    );
    let h = history(vec![
        nemesis(S, "kill", k.clone()),
        nemesis(S, "kill", k),
        nemesis(2 * S, "restart", json!("[n3]")),
        nemesis(3 * S, "partition", p.clone()),
        nemesis(3 * S, "partition", p),
    ]);
    let c = Coverage::from_history(&h);
    assert!(!c.hit_leader);
    // The last window runs to the last nemesis op (its own start: zero length).
    assert_eq!(c.windows[1].end_ns, 3 * S);
    let line = c.headline().unwrap();
    assert!(line.starts_with("no fault hit the leader; "), "{line}");
    assert!(line.contains("unknown: partition-halves x1"), "{line}");
    assert_eq!(Coverage::from_history(&History::default()).headline(), None);
}

#[test]
fn histories_without_notes_have_no_windows() {
    // Older histories (and verbs called directly) record plain strings: no windows, no panic.
    let h = history(vec![
        nemesis(S, "kill", json!("[n1]")),
        nemesis(2 * S, "restart", json!("[n1]")),
        client(3 * S, 1, OpType::Invoke),
        client(3 * S + 1, 1, OpType::Ok),
    ]);
    let c = Coverage::from_history(&h);
    assert!(c.windows.is_empty() && c.by_role.is_empty() && !c.hit_leader);
    assert_eq!(c.quiet.ok, 1);
}

fn with_id(v: Value, id: u64) -> Value {
    let mut v = v;
    v["id"] = json!(id);
    v
}

/// Overlapping faults carry ids and close at their `fault-end`; an op inside both windows counts
/// for both, and the quiet time is what no window covers.
#[test]
fn overlapping_windows_close_at_their_own_end() {
    let kill = with_id(note("kill", "[n2]", &[("n2", TargetRole::Follower)]), 1);
    let part = with_id(
        note(
            "partition-halves",
            "[n1 n2] [n3]",
            &[("n3", TargetRole::Leader)],
        ),
        2,
    );
    let h = history(vec![
        nemesis(
            0,
            FAMILIES,
            json!({"process": ["kill"], "partition": ["partition-halves"], "link": ["delay"]}),
        ),
        nemesis(S, "kill", kill.clone()),
        nemesis(S, "kill", kill),
        nemesis(2 * S, "partition", part.clone()),
        nemesis(2 * S, "partition", part),
        client(3 * S, 1, OpType::Invoke),
        client(3 * S + 1, 1, OpType::Ok), // in both
        nemesis(4 * S, "restart", json!("[n2]")),
        nemesis(4 * S, FAULT_END, json!({"ends": 1, "fault": "kill"})),
        client(5 * S, 1, OpType::Invoke),
        client(5 * S + 1, 1, OpType::Ok), // in the partition only
        nemesis(6 * S, "heal", json!("all links")),
        nemesis(
            6 * S,
            FAULT_END,
            json!({"ends": 2, "fault": "partition-halves"}),
        ),
        client(7 * S, 1, OpType::Invoke),
        client(8 * S, 1, OpType::Ok), // quiet
    ]);
    let c = Coverage::from_history(&h);
    let spans: Vec<(&str, i64, i64, u64)> = c
        .windows
        .iter()
        .map(|w| (w.fault.as_str(), w.start_ns, w.end_ns, w.ops.ok))
        .collect();
    assert_eq!(
        spans,
        [("kill", S, 4 * S, 1), ("partition-halves", 2 * S, 6 * S, 2)]
    );
    assert_eq!(c.quiet.ok, 1);
    // 8 s of history, 5 s of it inside some window (1..6 s).
    assert_eq!(c.quiet.seconds, 3.0);
    let (hit, missed) = c.families_hit();
    assert_eq!(hit, ["process", "partition"]);
    assert_eq!(missed, ["link"]);
}

/// A family whose faults were all left out while running is neither hit nor missed.
#[test]
fn a_family_left_out_while_running_is_not_counted_as_missed() {
    let h = history(vec![
        nemesis(
            0,
            FAMILIES,
            json!({"vote": ["vote-twice"], "process": ["kill"]}),
        ),
        nemesis(S, LEFT_OUT, json!({"vote-twice": "the nodes run pre-vote"})),
    ]);
    let c = Coverage::from_history(&h);
    assert_eq!(c.families_hit(), (vec![], vec!["process".to_string()]));
    assert_eq!(c.families.len(), 2);
}
