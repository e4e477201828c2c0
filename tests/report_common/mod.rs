//! Shared helpers for the `report_*` integration tests: synthetic histories, hand-built check
//! reports and a headless-Chromium runner.
#![allow(dead_code)]

pub mod browser;

use std::collections::BTreeMap;

use faultline::checker::{CheckReport, Counterexample, KeyResult, ModelKind, PathStep, Verdict};
use faultline::history::{History, Op, OpType, Process};
use faultline::report::results::{FaultRecord, Latency, Outcomes, RunResults};
use serde_json::{json, Value};

/// Build an op.
pub fn op(index: u64, time_ms: f64, p: Process, kind: OpType, f: &str, value: Value) -> Op {
    Op {
        index,
        time: Some((time_ms * 1e6) as i64),
        process: p,
        kind,
        f: f.into(),
        key: None,
        value,
        node: None,
        error: None,
    }
}

/// A deterministic synthetic history: `calls` client ops over `procs` processes (optionally keyed),
/// a partition from 30% to 50% of the run and a kill from 60% to 70% during which ops slow down
/// and some fail or time out. Crashed processes are renumbered p + procs, as Jepsen does.
pub fn synthetic(calls: usize, procs: u64, keys: usize) -> History {
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let total_ms = (calls as f64 / procs as f64) * 4.0;
    let mut ops: Vec<Op> = Vec::with_capacity(calls * 2 + 4);
    // (time_ms, seq, op) events, sorted at the end so file order = time order.
    let mut events: Vec<(f64, usize, Op)> = Vec::new();
    let mut seq = 0;
    let mut push = |t: f64, o: Op, events: &mut Vec<(f64, usize, Op)>| {
        seq += 1;
        events.push((t, seq, o));
    };
    let n = Process::Nemesis;
    let nem = [
        (0.3, "partition", json!("[n1 n2] [n3 n4 n5]")),
        (0.5, "heal", Value::Null),
        (0.6, "kill", json!("n3")),
        (0.7, "restart", json!("n3")),
    ];
    for (frac, f, v) in nem {
        push(
            total_ms * frac,
            op(0, 0.0, n, OpType::Info, f, v),
            &mut events,
        );
    }
    let per = calls / procs as usize;
    for thread in 0..procs {
        let mut pid = thread;
        let mut t = (next() % 1000) as f64 / 1000.0;
        for _ in 0..per {
            let r = next();
            let (f, v) = match r % 3 {
                0 => ("read", Value::Null),
                1 => ("write", json!(r % 5)),
                _ => ("cas", json!([r % 5, (r >> 8) % 5])),
            };
            let frac = t / total_ms;
            let faulty = (0.3..0.5).contains(&frac) || (0.6..0.7).contains(&frac);
            let lat = if faulty {
                1.0 + (r >> 16) as f64 % 400.0 / 10.0
            } else {
                0.3 + (r >> 16) as f64 % 300.0 / 100.0
            };
            let mut inv = op(0, 0.0, Process::Client(pid), OpType::Invoke, f, v.clone());
            let mut done = op(
                0,
                0.0,
                Process::Client(pid),
                OpType::Ok,
                f,
                if f == "read" { json!(r % 5) } else { v },
            );
            if keys > 0 {
                let k = format!("k{}", (r >> 24) % keys as u64);
                inv.key = Some(k.clone().into());
                done.key = Some(k.into());
            }
            done.node = Some(format!("n{}", 1 + (r >> 32) % 5));
            let roll = (r >> 40) % 100;
            let crashed = faulty && roll < 4;
            if faulty && roll < 12 && !crashed {
                done.kind = OpType::Fail;
                done.error = Some("409 cas mismatch or 503 no leader".into());
            } else if crashed {
                done.kind = OpType::Info;
                done.error = Some("timeout".into());
            }
            push(t, inv, &mut events);
            push(t + lat, done, &mut events);
            t += lat + 0.5 + (r >> 48) as f64 % 100.0 / 50.0;
            if crashed {
                pid += procs;
            }
        }
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (i, (t, _, mut o)) in events.into_iter().enumerate() {
        o.index = i as u64;
        o.time = Some((t * 1e6) as i64);
        ops.push(o);
    }
    History { ops }
}

/// A valid check report for `h` (per key when keyed).
pub fn valid_check(h: &History) -> CheckReport {
    let mut per_key: BTreeMap<Option<faultline::history::Key>, usize> = BTreeMap::new();
    for o in h.ops.iter().filter(|o| o.kind == OpType::Invoke) {
        *per_key.entry(o.key.clone()).or_default() += 1;
    }
    CheckReport {
        model: ModelKind::CasRegister,
        verdict: Verdict::Valid,
        keys: per_key
            .into_iter()
            .map(|(key, ops)| KeyResult {
                key,
                ops,
                verdict: Verdict::Valid,
            })
            .collect(),
        elapsed_ms: 42,
    }
}

/// `results.json` contents consistent with `h`.
pub fn run_results(h: &History, check: CheckReport) -> RunResults {
    let mut outcomes: BTreeMap<String, Outcomes> = BTreeMap::new();
    for o in h
        .ops
        .iter()
        .filter(|o| matches!(o.process, Process::Client(_)) && o.kind != OpType::Invoke)
    {
        for f in [o.f.as_str(), "all"] {
            let e = outcomes.entry(f.into()).or_default();
            match o.kind {
                OpType::Ok => e.ok += 1,
                OpType::Fail => e.fail += 1,
                _ => e.info += 1,
            }
        }
    }
    let mut config = BTreeMap::new();
    for (k, v) in [
        ("cluster", "clusters/raft.toml"),
        ("workload", "workloads/cas-register.toml"),
        ("nemesis", "nemesis/mixed.toml"),
        ("nodes", "5"),
        ("clients", "5"),
    ] {
        config.insert(k.to_string(), v.to_string());
    }
    let lat = Latency {
        count: 10,
        p50_us: 1200,
        p95_us: 9000,
        p99_us: 31000,
        max_us: 40000,
    };
    let end = h.ops.last().and_then(|o| o.time).unwrap_or(0);
    RunResults {
        name: "cas-register-mixed".into(),
        started_at: "2026-11-25T13:00:00Z".into(),
        seed: 7,
        rerun: "faultline test --workload workloads/cas-register.toml --nemesis nemesis/mixed.toml --seed 7".into(),
        config,
        duration_s: end as f64 / 1e9,
        throughput: outcomes.get("all").map(|o| o.ok).unwrap_or(0) as f64 / (end as f64 / 1e9).max(1e-9),
        outcomes,
        latency: [("all".to_string(), lat.clone()), ("read".to_string(), lat)].into_iter().collect(),
        faults: vec![FaultRecord { f: "partition".into(), value: "[n1 n2] [n3 n4 n5]".into(), start_ns: 0, end_ns: Some(end / 2) }],
        check,
        aborted: None,
        coverage: faultline::nemesis::coverage::Coverage::from_history(h),
    }
}

/// Text planted in an invalid history to prove it is escaped everywhere.
pub const EVIL: &str = r#"</title><script>document.title='pwned'</script><img src=x onerror="document.body.setAttribute('data-xss','1')">"#;

/// A small hand-built invalid cas-register history (p2 reads 0 although only 1, 2 and 3 were
/// ever written) and its counterexample, as the checker reports it.
pub fn invalid_case() -> (History, CheckReport) {
    let c = |p| Process::Client(p);
    let mut ops = vec![
        op(0, 0.0, c(0), OpType::Invoke, "write", json!(1)),
        op(1, 2.0, c(0), OpType::Ok, "write", json!(1)),
        op(2, 3.0, c(1), OpType::Invoke, "write", json!(2)),
        op(
            3,
            3.5,
            Process::Nemesis,
            OpType::Info,
            "partition",
            json!(EVIL),
        ),
        op(4, 4.0, c(2), OpType::Invoke, "read", Value::Null),
        op(5, 4.5, c(3), OpType::Invoke, "cas", json!([1, 3])),
        op(6, 6.0, c(2), OpType::Ok, "read", json!(0)),
        op(7, 7.0, c(1), OpType::Ok, "write", json!(2)),
        op(8, 9.0, c(3), OpType::Info, "cas", json!([1, 3])),
        op(9, 9.5, c(4), OpType::Invoke, "write", json!(EVIL)),
        op(10, 10.0, c(4), OpType::Fail, "write", json!(EVIL)),
        op(
            11,
            11.0,
            Process::Nemesis,
            OpType::Info,
            "heal",
            Value::Null,
        ),
    ];
    ops[8].error = Some(EVIL.into());
    let h = History { ops };
    let step = |i: usize, state: &str, legal: bool| PathStep {
        op: h.ops[i].clone(),
        state: state.into(),
        legal,
    };
    let ce = Counterexample {
        key: None,
        op: h.ops[6].clone(),
        previous_ok: Some(h.ops[1].clone()),
        longest_prefix: vec![0],
        states: vec!["1".into()],
        final_paths: vec![
            vec![
                step(1, "1", true),
                step(6, "can't read 0 from register 1", false),
            ],
            vec![
                step(1, "1", true),
                step(7, "2", true),
                step(6, "can't read 0 from register 2", false),
            ],
            vec![
                step(1, "1", true),
                step(5, "3", true),
                step(6, "can't read 0 from register 3", false),
            ],
            vec![
                step(1, "1", true),
                step(7, "2", true),
                step(5, "can't CAS 2 from 1 to 3", false),
            ],
        ],
    };
    let verdict = Verdict::Invalid {
        counterexample: Box::new(ce),
    };
    let check = CheckReport {
        model: ModelKind::CasRegister,
        verdict: verdict.clone(),
        keys: vec![KeyResult {
            key: None,
            ops: 5,
            verdict,
        }],
        elapsed_ms: 3,
    };
    (h, check)
}
