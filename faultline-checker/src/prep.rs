//! Preprocessing: pair invokes with completions, drop what constrains nothing, compile values.
//!
//! Rules (DESIGN.md, Knossos `without-failures` / `with-synthetic-infos`): `fail` calls are
//! removed; an invoke with no completion is `info`; crashed (`info`) calls may take effect at any
//! time after their invoke or never, and crashed read-only calls are dropped; nemesis ops are never
//! checked. File order is real-time order.

use rustc_hash::FxHashMap;

use super::model::Model;
use super::CheckError;
use crate::history::{CompactHistory, History, OpType, NONE};

/// One call to check: an invoke and, when it completed `ok`, its completion.
#[derive(Debug, Clone)]
pub struct Call<O> {
    /// The compiled op.
    pub op: O,
    /// Position of the invoke in the history.
    pub invoke: usize,
    /// Position of the `ok` completion; `None` for crashed calls (no upper time bound).
    pub done: Option<usize>,
}

impl<O> Call<O> {
    /// Position of the op that best describes this call: the completion, else the invoke.
    pub fn shown(&self) -> usize {
        self.done.unwrap_or(self.invoke)
    }
}

/// A real-time event of a sub-history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Call `.0` was invoked.
    Invoke(u32),
    /// Call `.0` (always an `ok` call) returned.
    Return(u32),
}

/// A compiled sub-history, ready for the search.
#[derive(Debug, Clone)]
pub struct Problem<O> {
    /// The calls, in invoke order.
    pub calls: Vec<Call<O>>,
    /// Invokes and returns in real-time order; crashed calls have no return.
    pub events: Vec<Event>,
}

/// Compile the ops at `positions` (real-time order) of `history` for `model`. The history is
/// validated first; a malformed one is an error.
pub fn prepare<M: Model>(
    model: &mut M,
    history: &History,
    positions: &[usize],
) -> Result<Problem<M::Op>, CheckError> {
    let mut c = CompactHistory::from_history(history)?;
    c.validate()?;
    let positions: Vec<u32> = positions.iter().map(|&p| p as u32).collect();
    prepare_compact(model, &c, &positions)
}

/// [`prepare`] on a validated compact history. Each distinct (f, invoke value, `ok` value) is
/// compiled once: compiling is a pure function of those (models only intern), and histories
/// repeat a few values many times.
pub(crate) fn prepare_compact<M: Model>(
    model: &mut M,
    h: &CompactHistory,
    positions: &[u32],
) -> Result<Problem<M::Op>, CheckError> {
    let mut compiled: FxHashMap<(u16, u32, u32), M::Op> = FxHashMap::default();
    let mut calls = Vec::new();
    let mut events = Vec::with_capacity(positions.len());
    // Completion position -> call id, for calls whose `ok` has not been seen yet.
    let mut returns: FxHashMap<u32, u32> = FxHashMap::default();
    for &pos in positions {
        let p = pos as usize;
        if !h.is_client(p) {
            continue;
        }
        let op = &h.ops[p];
        if op.kind != OpType::Invoke {
            if let Some(id) = returns.remove(&pos) {
                events.push(Event::Return(id));
            }
            continue;
        }
        let ok_done = match h.completion(p).map(|d| (d, h.ops[d].kind)) {
            Some((_, OpType::Fail)) => continue,
            Some((d, OpType::Ok)) => Some(d),
            _ => None,
        };
        let result = ok_done.map_or(NONE, |d| h.ops[d].value);
        let cached = compiled.get(&(op.f, op.value, result)).cloned();
        let call_op = match cached {
            Some(c) => c,
            None => {
                let c = model
                    .compile(
                        h.f_of(op.f),
                        h.value_of(op.value),
                        ok_done.map(|d| h.value(d)),
                    )
                    .map_err(|message| CheckError::BadOp {
                        index: h.index(ok_done.unwrap_or(p)),
                        line: h.line(ok_done.unwrap_or(p)),
                        message,
                    })?;
                compiled.insert((op.f, op.value, result), c.clone());
                c
            }
        };
        if ok_done.is_none() && model.is_read_only(&call_op) {
            continue;
        }
        let id = calls.len() as u32;
        calls.push(Call {
            op: call_op,
            invoke: p,
            done: ok_done,
        });
        events.push(Event::Invoke(id));
        if let Some(d) = ok_done {
            returns.insert(d as u32, id);
        }
    }
    Ok(Problem { calls, events })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Op, Process};
    use crate::models::{CasRegister, RegOp};
    use serde_json::{json, Value};

    pub(crate) fn op(p: u64, kind: OpType, f: &str, value: Value) -> Op {
        Op {
            index: 0,
            time: None,
            process: Process::Client(p),
            kind,
            f: f.into(),
            key: None,
            value,
            node: None,
            error: None,
        }
    }

    #[test]
    fn fail_removed_crashed_read_dropped_open_write_kept() {
        use OpType::*;
        let mut ops = vec![
            op(1, Invoke, "write", json!(1)),
            op(2, Invoke, "read", Value::Null),
            op(3, Invoke, "write", json!(2)),
            op(1, Ok, "write", json!(1)),
            op(2, Info, "read", Value::Null),
            op(3, Fail, "write", json!(2)),
            op(4, Invoke, "write", json!(3)),
        ];
        for (i, o) in ops.iter_mut().enumerate() {
            o.index = i as u64;
        }
        let h = History { ops };
        let pos: Vec<usize> = (0..h.ops.len()).collect();
        let mut m = CasRegister::new(&Value::Null);
        let p = prepare(&mut m, &h, &pos).unwrap();
        assert_eq!(p.calls.len(), 2);
        assert_eq!(p.calls[0].done, Some(3));
        assert_eq!(p.calls[1].done, None);
        assert!(matches!(p.calls[1].op, RegOp::Write(_)));
        assert_eq!(
            p.events,
            vec![Event::Invoke(0), Event::Return(0), Event::Invoke(1)]
        );
    }

    #[test]
    fn double_invoke_is_bad_input() {
        let h = History {
            ops: vec![
                op(1, OpType::Invoke, "read", Value::Null),
                op(1, OpType::Invoke, "read", Value::Null),
            ],
        };
        let mut m = CasRegister::new(&Value::Null);
        assert!(prepare(&mut m, &h, &[0, 1]).is_err());
    }
}
