//! The checker agrees with a brute-force oracle on thousands of random small histories for every
//! model: the oracle enumerates every order consistent with real time (crashed calls optional).
//! Every search is held to it, alone and in the race: the exact walk, WGL with exact bitsets and
//! with fingerprints, the relaxed walk (whose `invalid` must always be right), the race with its
//! size threshold lowered, and verify mode (where any disagreement is an error).

use faultline::checker::models::{
    CasRegister, Counter, FifoQueue, MultiRegister, Mutex, Register, Set,
};
use faultline::checker::{check_with, CheckOptions, Model, ModelKind, Strategy, Tuning, Verdict};
use faultline::history::{History, Op, OpType, Process};
use proptest::prelude::*;
use serde_json::{json, Value};

const THREADS: u64 = 3;
const MAX_CALLS: usize = 8;

/// Random op for `model` from two bytes: (f, invoke value, ok completion value).
fn random_op(model: ModelKind, b: u8, c: u8, d: u8) -> (&'static str, Value, Value) {
    let v = |x: u8, n: u8| json!(x % n);
    let maybe_nil = |x: u8, n: u8| {
        if x % (n + 1) == n {
            Value::Null
        } else {
            json!(x % n)
        }
    };
    match model {
        ModelKind::Register => match b % 2 {
            0 => ("read", Value::Null, maybe_nil(c, 3)),
            _ => ("write", v(c, 3), v(c, 3)),
        },
        ModelKind::CasRegister | ModelKind::Kv => match b % 3 {
            0 => ("read", Value::Null, maybe_nil(c, 3)),
            1 => ("write", v(c, 3), v(c, 3)),
            _ => ("cas", json!([c % 3, d % 3]), json!([c % 3, d % 3])),
        },
        ModelKind::MultiRegister => {
            let key = |x: u8| if x.is_multiple_of(2) { "x" } else { "y" };
            let mut inv = vec![];
            let mut done = vec![];
            for (i, x) in [c, d].into_iter().enumerate().take(1 + (b as usize % 2)) {
                let k = key(x >> (i + 1));
                if (x >> 3) % 2 == 0 {
                    inv.push(json!(["read", k, null]));
                    done.push(json!(["read", k, x % 2]));
                } else {
                    inv.push(json!(["write", k, x % 2]));
                    done.push(json!(["write", k, x % 2]));
                }
            }
            ("txn", Value::Array(inv), Value::Array(done))
        }
        ModelKind::Mutex => match b % 2 {
            0 => ("acquire", Value::Null, Value::Null),
            _ => ("release", Value::Null, Value::Null),
        },
        ModelKind::Set => match b % 2 {
            0 => ("add", v(c, 3), v(c, 3)),
            _ => {
                let elems: Vec<u8> = (0..3).filter(|i| c & (1 << i) != 0).collect();
                (
                    "read",
                    Value::Null,
                    if c & 8 != 0 {
                        Value::Null
                    } else {
                        json!(elems)
                    },
                )
            }
        },
        ModelKind::Counter => match b % 2 {
            0 => ("add", json!(1 + c % 2), json!(1 + c % 2)),
            _ => ("read", Value::Null, v(c, 5)),
        },
        ModelKind::FifoQueue => match b % 2 {
            0 => ("enqueue", json!(1 + c % 3), json!(1 + c % 3)),
            _ => (
                "dequeue",
                Value::Null,
                maybe_nil(c, 3)
                    .as_u64()
                    .map_or(Value::Null, |x| json!(x + 1)),
            ),
        },
    }
}

fn mk(index: usize, process: u64, kind: OpType, f: &str, value: Value, key: Option<String>) -> Op {
    Op {
        index: index as u64,
        time: None,
        process: Process::Client(process),
        kind,
        f: f.into(),
        key: key.map(Into::into),
        value,
        node: None,
        error: None,
    }
}

/// An invoked call: f, invoke value, ok value, key.
type OpenCall = (String, Value, Value, Option<String>);

/// Decode random bytes into a well-formed history of at most `MAX_CALLS` calls.
fn decode(model: ModelKind, bytes: &[(u8, u8, u8, u8)]) -> History {
    let mut ops: Vec<Op> = Vec::new();
    let mut proc_of = [0u64, 1, 2];
    let mut open: [Option<OpenCall>; THREADS as usize] = Default::default();
    let mut calls = 0;
    for &(a, b, c, d) in bytes {
        let t = (a % THREADS as u8) as usize;
        let p = proc_of[t];
        if let Some((f, inv, done, key)) = open[t].take() {
            let (kind, value) = match b % 8 {
                0..=4 => (OpType::Ok, done),
                5 => (OpType::Fail, inv),
                6 => (OpType::Info, inv),
                _ => {
                    open[t] = Some((f, inv, done, key));
                    continue;
                }
            };
            if kind == OpType::Info {
                proc_of[t] += THREADS;
            }
            ops.push(mk(ops.len(), p, kind, &f, value, key));
        } else if calls < MAX_CALLS {
            calls += 1;
            let (f, inv, done) = random_op(model, b, c, d);
            let key =
                (model == ModelKind::Kv).then(|| if a & 8 == 0 { "a" } else { "b" }.to_string());
            ops.push(mk(
                ops.len(),
                p,
                OpType::Invoke,
                f,
                inv.clone(),
                key.clone(),
            ));
            open[t] = Some((f.to_string(), inv, done, key));
        }
    }
    History { ops }
}

struct BruteCall<O> {
    op: O,
    inv: usize,
    ret: Option<usize>,
}

fn search<M: Model>(m: &M, calls: &[BruteCall<M::Op>], state: &M::State, done: u32) -> bool {
    if calls
        .iter()
        .enumerate()
        .all(|(i, c)| c.ret.is_none() || done & (1 << i) != 0)
    {
        return true;
    }
    for (i, c) in calls.iter().enumerate() {
        if done & (1 << i) != 0 {
            continue;
        }
        // c may go next unless some other pending ok call returned before c was invoked.
        let blocked = calls
            .iter()
            .enumerate()
            .any(|(j, o)| j != i && done & (1 << j) == 0 && o.ret.is_some_and(|r| r < c.inv));
        if blocked {
            continue;
        }
        if let Some(s) = m.try_step(state, &c.op) {
            if search(m, calls, &s, done | (1 << i)) {
                return true;
            }
        }
    }
    false
}

/// Brute force over one (sub-)history; `None` if a value does not fit the model.
fn brute<M: Model>(mut m: M, ops: &[&Op]) -> Option<bool> {
    let mut calls = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if op.kind != OpType::Invoke {
            continue;
        }
        let completion = ops[i + 1..]
            .iter()
            .position(|o| o.process == op.process)
            .map(|j| i + 1 + j);
        let (ret, value) = match completion.map(|j| (j, ops[j])) {
            Some((_, c)) if c.kind == OpType::Fail => continue,
            Some((j, c)) if c.kind == OpType::Ok => (Some(j), Some(&c.value)),
            _ => (None, None),
        };
        let compiled = m.compile(&op.f, &op.value, value).ok()?;
        calls.push(BruteCall {
            op: compiled,
            inv: i,
            ret,
        });
    }
    Some(search(&m, &calls, &m.init(), 0))
}

fn oracle(model: ModelKind, h: &History) -> Option<bool> {
    let init = if model == ModelKind::MultiRegister {
        json!({"x": 0, "y": 0})
    } else {
        Value::Null
    };
    let mut keys: Vec<Option<faultline::history::Key>> =
        h.ops.iter().map(|o| o.key.clone()).collect();
    keys.sort();
    keys.dedup();
    let mut valid = true;
    for k in keys {
        let ops: Vec<&Op> = h.ops.iter().filter(|o| o.key == k).collect();
        let r = match model {
            ModelKind::Register => brute(Register::new(&init), &ops),
            ModelKind::CasRegister | ModelKind::Kv => brute(CasRegister::new(&init), &ops),
            ModelKind::MultiRegister => brute(MultiRegister::new(&init).ok()?, &ops),
            ModelKind::Mutex => brute(Mutex, &ops),
            ModelKind::Set => brute(Set::new(&init).ok()?, &ops),
            ModelKind::Counter => brute(Counter::new(&init).ok()?, &ops),
            ModelKind::FifoQueue => brute(FifoQueue::default(), &ops),
        }?;
        valid &= r;
    }
    Some(valid)
}

/// What a search configuration may answer, given the brute-force verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Promise {
    /// Exactly the oracle's verdict.
    Exact,
    /// The oracle's verdict when valid; `unknown` when invalid (a fingerprint memo proves nothing).
    ValidOrUnknown,
    /// Never valid; `invalid` only when the oracle agrees, and always when nothing crashed (then
    /// the relaxed walk is the exact walk).
    InvalidOrUnknown,
}

/// Every search configuration under test: each search alone, both WGL memo modes, the race with
/// its size threshold lowered so that it really runs on these small histories, and verify mode.
fn configurations(base: &CheckOptions) -> Vec<(&'static str, Strategy, CheckOptions, Promise)> {
    let with = |min: usize, bits: usize, verify: bool| CheckOptions {
        verify,
        tuning: Tuning {
            compete_min_calls: min,
            wgl_exact_bits_max: bits,
        },
        ..base.clone()
    };
    let exact_bits = Tuning::default().wgl_exact_bits_max;
    vec![
        ("default", Strategy::Compete, base.clone(), Promise::Exact),
        (
            "race",
            Strategy::Compete,
            with(0, exact_bits, false),
            Promise::Exact,
        ),
        (
            "race, fingerprints",
            Strategy::Compete,
            with(0, 0, false),
            Promise::Exact,
        ),
        (
            "verify",
            Strategy::Compete,
            with(0, exact_bits, true),
            Promise::Exact,
        ),
        (
            "verify, fingerprints",
            Strategy::Compete,
            with(0, 0, true),
            Promise::Exact,
        ),
        ("walk", Strategy::Walk, base.clone(), Promise::Exact),
        (
            "wgl, exact bitsets",
            Strategy::Wgl,
            base.clone(),
            Promise::Exact,
        ),
        (
            "wgl, fingerprints",
            Strategy::Wgl,
            with(0, 0, false),
            Promise::ValidOrUnknown,
        ),
        (
            "relaxed walk",
            Strategy::RelaxedWalk,
            base.clone(),
            Promise::InvalidOrUnknown,
        ),
    ]
}

/// True if some invoke has no `ok`/`fail` completion (a crashed call).
fn has_crashed(h: &History) -> bool {
    h.ops.iter().enumerate().any(|(i, op)| {
        op.kind == OpType::Invoke
            && !h.ops[i + 1..]
                .iter()
                .find(|o| o.process == op.process)
                .is_some_and(|o| matches!(o.kind, OpType::Ok | OpType::Fail))
    })
}

fn agree(model: ModelKind, bytes: &[(u8, u8, u8, u8)]) -> Result<(), TestCaseError> {
    let h = decode(model, bytes);
    let init = if model == ModelKind::MultiRegister {
        json!({"x": 0, "y": 0})
    } else {
        Value::Null
    };
    let base = CheckOptions {
        model,
        init,
        ..CheckOptions::default()
    };
    let expected = oracle(model, &h).expect("generated values fit the model");
    let crashed = has_crashed(&h);
    for (name, strategy, opts, promise) in configurations(&base) {
        let report = check_with(&h, &opts, strategy)
            .map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
        let ok = match (&report.verdict, expected, promise) {
            (Verdict::Valid, true, Promise::Exact | Promise::ValidOrUnknown) => true,
            (
                Verdict::Invalid { counterexample },
                false,
                Promise::Exact | Promise::InvalidOrUnknown,
            ) => {
                prop_assert_eq!(counterexample.op.kind, OpType::Ok);
                true
            }
            (Verdict::Unknown { reason }, false, Promise::ValidOrUnknown) => {
                reason.contains("fingerprint")
            }
            (Verdict::Unknown { .. }, _, Promise::InvalidOrUnknown) => expected || crashed,
            _ => false,
        };
        if !ok {
            return Err(TestCaseError::fail(format!(
                "{name}: checker {:?}, oracle valid={expected}, history {:#?}",
                report.verdict, h.ops
            )));
        }
    }
    Ok(())
}

fn bytes() -> impl proptest::strategy::Strategy<Value = Vec<(u8, u8, u8, u8)>> {
    proptest::collection::vec(any::<(u8, u8, u8, u8)>(), 1..28)
}

macro_rules! oracle_test {
    ($name:ident, $model:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: std::env::var("FAULTLINE_ORACLE_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(3000), failure_persistence: None, ..ProptestConfig::default() })]
            #[test]
            fn $name(b in bytes()) {
                agree($model, &b)?;
            }
        }
    };
}

oracle_test!(register_agrees_with_brute_force, ModelKind::Register);
oracle_test!(cas_register_agrees_with_brute_force, ModelKind::CasRegister);
oracle_test!(
    multi_register_agrees_with_brute_force,
    ModelKind::MultiRegister
);
oracle_test!(mutex_agrees_with_brute_force, ModelKind::Mutex);
oracle_test!(set_agrees_with_brute_force, ModelKind::Set);
oracle_test!(counter_agrees_with_brute_force, ModelKind::Counter);
oracle_test!(fifo_queue_agrees_with_brute_force, ModelKind::FifoQueue);
oracle_test!(kv_agrees_with_brute_force, ModelKind::Kv);

/// The generator produces both verdicts often enough for the agreement to mean something.
#[test]
fn generated_histories_cover_both_verdicts() {
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for model in [
        ModelKind::CasRegister,
        ModelKind::Mutex,
        ModelKind::Set,
        ModelKind::FifoQueue,
        ModelKind::MultiRegister,
    ] {
        let (mut valid, mut invalid) = (0, 0);
        for _ in 0..300 {
            let b: Vec<(u8, u8, u8, u8)> = (0..20)
                .map(|_| {
                    let x = next().to_le_bytes();
                    (x[0], x[1], x[2], x[3])
                })
                .collect();
            match oracle(model, &decode(model, &b)) {
                Some(true) => valid += 1,
                _ => invalid += 1,
            }
        }
        assert!(
            valid > 20 && invalid > 20,
            "{model:?}: {valid} valid, {invalid} invalid"
        );
    }
}
