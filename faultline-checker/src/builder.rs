//! Recording a history from a test, call by call: the library's way in (see the crate docs).
//!
//! Each process runs one op at a time: `invoke`, then exactly one of `ok` (it happened, once,
//! between the two), `fail` (it certainly did not happen) or `info` (unknown: it may happen at
//! any later time, or never; the process must not invoke again). A completion takes its `f` and
//! key from the process's open invoke. [`HistoryBuilder::build`] checks these rules and numbers
//! the ops; breaking them is an error, not a verdict.

use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::history::{validate, History, HistoryError, Key, Op, OpType, Process};

/// Builds a [`History`] in real-time order from invokes and completions.
#[derive(Debug, Clone, Default)]
pub struct HistoryBuilder {
    ops: Vec<Op>,
    /// Per process: the `f`, key and value of its open invoke.
    open: FxHashMap<u64, (String, Option<Key>, Value)>,
}

impl HistoryBuilder {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// `process` invokes `f` (`read`, `write`, `cas`, `add`, ...) with `value` (`null` for a read).
    pub fn invoke(&mut self, process: u64, f: &str, value: Value) -> &mut Self {
        self.start(process, None, f, value)
    }

    /// Like [`Self::invoke`] on one key of a keyed history (checked per key).
    pub fn invoke_key(
        &mut self,
        process: u64,
        key: impl Into<Key>,
        f: &str,
        value: Value,
    ) -> &mut Self {
        self.start(process, Some(key.into()), f, value)
    }

    /// `process`'s open op took effect; `value` is what it returned (the value read, or the
    /// value written).
    pub fn ok(&mut self, process: u64, value: Value) -> &mut Self {
        self.complete(process, OpType::Ok, Some(value))
    }

    /// `process`'s open op certainly did not take effect.
    pub fn fail(&mut self, process: u64) -> &mut Self {
        self.complete(process, OpType::Fail, None)
    }

    /// `process`'s open op may or may not take effect (a timeout); the process is done.
    pub fn info(&mut self, process: u64) -> &mut Self {
        self.complete(process, OpType::Info, None)
    }

    /// Append a ready-made op (its `index` is renumbered).
    pub fn push(&mut self, op: Op) -> &mut Self {
        if let Process::Client(p) = op.process {
            if op.kind == OpType::Invoke {
                self.open
                    .insert(p, (op.f.clone(), op.key.clone(), op.value.clone()));
            } else {
                self.open.remove(&p);
            }
        }
        let index = self.ops.len() as u64;
        self.ops.push(Op { index, ..op });
        self
    }

    /// The history, if every process kept to one op at a time (invokes with no completion are
    /// fine: they count as `info`).
    pub fn build(self) -> Result<History, HistoryError> {
        let history = History { ops: self.ops };
        validate(&history)?;
        Ok(history)
    }

    fn start(&mut self, process: u64, key: Option<Key>, f: &str, value: Value) -> &mut Self {
        self.push(op(process, OpType::Invoke, f.to_string(), key, value))
    }

    fn complete(&mut self, process: u64, kind: OpType, value: Option<Value>) -> &mut Self {
        // With no open invoke the completion is still recorded, so `build` reports it.
        let (f, key, invoked) = self.open.get(&process).cloned().unwrap_or_default();
        self.push(op(process, kind, f, key, value.unwrap_or(invoked)))
    }
}

fn op(process: u64, kind: OpType, f: String, key: Option<Key>, value: Value) -> Op {
    Op {
        index: 0,
        time: None,
        process: Process::Client(process),
        kind,
        f,
        key,
        value,
        node: None,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn completions_take_f_and_key_from_the_invoke_and_ops_are_numbered() {
        let mut b = HistoryBuilder::new();
        b.invoke_key(0, "k", "write", json!(1))
            .invoke_key(1, "k", "read", Value::Null)
            .ok(0, json!(1))
            .info(1);
        let h = b.build().expect("well formed");
        assert_eq!(h.ops.len(), 4);
        assert_eq!((h.ops[2].index, h.ops[2].f.as_str()), (2, "write"));
        assert_eq!(h.ops[2].key, Some(Key::from("k")));
        assert_eq!((h.ops[3].kind, h.ops[3].f.as_str()), (OpType::Info, "read"));
    }

    #[test]
    fn a_history_mixing_keyed_and_unkeyed_ops_is_refused() {
        let mut b = HistoryBuilder::new();
        b.invoke_key(0, "k", "write", json!(1))
            .invoke(1, "read", Value::Null)
            .ok(0, json!(1))
            .info(1);
        assert!(b.build().is_err());
    }

    #[test]
    fn breaking_the_one_op_at_a_time_rule_is_an_error() {
        let mut b = HistoryBuilder::new();
        b.invoke(0, "read", Value::Null)
            .invoke(0, "read", Value::Null);
        assert!(b.build().is_err());
        let mut b = HistoryBuilder::new();
        b.ok(3, json!(1));
        let e = b.build().unwrap_err().to_string();
        assert!(e.contains("no pending invoke"), "{e}");
    }
}
