//! A brute-force oracle for small transactional histories: is there a serial order of the
//! committed transactions (every `ok` one, and any subset of the `info` ones) that explains
//! every committed read? Optionally the order must respect real time (strict
//! serializability) or each process's order (strong session serializability). Exponential;
//! for property tests against the checker only.

use rustc_hash::FxHashSet;
use serde_json::Value;

use super::TxnModel;
use crate::history::{History, OpType, Process};

/// Which orders the oracle may choose from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Any order (serializable).
    Any,
    /// Respecting each process's order (strong session serializable).
    Session,
    /// Respecting real time: a transaction that completed before another was invoked comes
    /// first (strict serializable).
    RealTime,
}

#[derive(Debug, Clone)]
struct Txn {
    status: OpType,
    process: u64,
    invoke: u64,
    complete: Option<u64>,
    /// (is write, key, value): a write's value, or a read's result (`None` if unknown).
    mops: Vec<(bool, Value, Option<Value>)>,
}

/// The largest history (in transactions) the oracle accepts.
pub const MAX_TXNS: usize = 9;

/// Some(true) if a serial order of `order` explains `history`, Some(false) if none does,
/// `None` if the history is too large or not a transaction history.
pub fn serializable(history: &History, model: TxnModel, order: Order) -> Option<bool> {
    let txns = txns(history)?;
    if txns.len() > MAX_TXNS {
        return None;
    }
    let mut seen = FxHashSet::default();
    let mut state: Vec<(Value, Vec<Value>)> = Vec::new();
    Some(search(&txns, model, order, 0, &mut state, &mut seen))
}

fn txns(history: &History) -> Option<Vec<Txn>> {
    let mut out: Vec<Txn> = Vec::new();
    let mut open: Vec<(u64, usize)> = Vec::new();
    for op in &history.ops {
        let Process::Client(p) = op.process else {
            continue;
        };
        if op.kind == OpType::Invoke {
            let mops = parse(&op.value, false)?;
            open.push((p, out.len()));
            out.push(Txn {
                status: OpType::Info,
                process: p,
                invoke: op.index,
                complete: None,
                mops,
            });
            continue;
        }
        let i = open.iter().position(|o| o.0 == p)?;
        let (_, t) = open.remove(i);
        out[t].status = op.kind;
        out[t].complete = Some(op.index);
        if op.kind == OpType::Ok {
            out[t].mops = parse(&op.value, true)?;
        }
    }
    out.retain(|t| t.status != OpType::Fail);
    Some(out)
}

fn parse(v: &Value, results: bool) -> Option<Vec<(bool, Value, Option<Value>)>> {
    v.as_array()?
        .iter()
        .map(|m| {
            let m = m.as_array()?;
            let f = m.first()?.as_str()?;
            let k = m.get(1)?.clone();
            let arg = m.get(2).cloned().unwrap_or(Value::Null);
            Some(match f {
                "append" | "w" => (true, k, Some(arg)),
                _ if results => (false, k, Some(arg)),
                _ => (false, k, None),
            })
        })
        .collect()
}

fn may_place(txns: &[Txn], order: Order, placed: u32, b: usize) -> bool {
    let tb = &txns[b];
    txns.iter().enumerate().all(|(a, ta)| {
        if a == b || placed & (1 << a) != 0 || ta.status != OpType::Ok {
            return true;
        }
        match order {
            Order::Any => true,
            Order::Session => !(ta.process == tb.process && ta.invoke < tb.invoke),
            Order::RealTime => ta.complete.is_none_or(|c| c >= tb.invoke),
        }
    })
}

fn search(
    txns: &[Txn],
    model: TxnModel,
    order: Order,
    placed: u32,
    state: &mut Vec<(Value, Vec<Value>)>,
    seen: &mut FxHashSet<(u32, String)>,
) -> bool {
    let all_ok = txns
        .iter()
        .enumerate()
        .all(|(i, t)| t.status != OpType::Ok || placed & (1 << i) != 0);
    if all_ok {
        return true;
    }
    if !seen.insert((placed, format!("{state:?}"))) {
        return false;
    }
    for b in 0..txns.len() {
        if placed & (1 << b) != 0 || !may_place(txns, order, placed, b) {
            continue;
        }
        let saved = state.clone();
        if apply(&txns[b], model, state)
            && search(txns, model, order, placed | (1 << b), state, seen)
        {
            return true;
        }
        *state = saved;
    }
    false
}

/// Apply one transaction; false if a committed read disagrees with the state.
fn apply(t: &Txn, model: TxnModel, state: &mut Vec<(Value, Vec<Value>)>) -> bool {
    for (write, k, v) in &t.mops {
        let slot = match state.iter().position(|(key, _)| key == k) {
            Some(i) => i,
            None => {
                state.push((k.clone(), Vec::new()));
                state.len() - 1
            }
        };
        let list = &mut state[slot].1;
        match (write, v) {
            (true, Some(v)) => list.push(v.clone()),
            (false, Some(r)) if t.status == OpType::Ok => {
                let ok = match model {
                    TxnModel::ListAppend => match r {
                        Value::Null => list.is_empty(),
                        Value::Array(items) => items == list,
                        _ => false,
                    },
                    TxnModel::RwRegister => list.last().unwrap_or(&Value::Null) == r,
                };
                if !ok {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}
