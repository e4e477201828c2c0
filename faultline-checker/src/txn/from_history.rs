//! Reading transactions out of a loaded [`History`]: `f = "txn"` ops whose `value` is a list of
//! micro-ops (`["append", k, v]`, `["w", k, v]`, `["r", k, result]`; Jepsen EDN keywords arrive
//! as strings). Nemesis ops are skipped.

use serde_json::Value;

use super::builder::Builder;
use super::txns::{MopKind, Txns};
use super::{TxnError, TxnModel};
use crate::history::{History, Op, OpType, Process};

/// Convert `history` into compact transactions for `model`.
pub(crate) fn from_history(history: &History, model: TxnModel) -> Result<Txns, TxnError> {
    let mut b = Builder::new(model);
    feed(&mut b, &history.ops).map_err(|e| match e {
        Feed::Rule { index, message } | Feed::Model { index, message } => TxnError::BadOp {
            index,
            line: None,
            message,
        },
    })?;
    Ok(b.finish())
}

/// Why an op could not be fed.
pub(crate) enum Feed {
    /// It breaks the history rules (process discipline, completion matching its invoke).
    Rule { index: u64, message: String },
    /// It does not fit the transaction model.
    Model { index: u64, message: String },
}

/// Feed `ops` into `b`.
pub(crate) fn feed(b: &mut Builder, ops: &[Op]) -> Result<(), Feed> {
    for op in ops {
        let Process::Client(p) = op.process else {
            continue;
        };
        let index = op.index;
        if op.f != "txn" {
            return Err(Feed::Model {
                index,
                message: not_txn(&op.f, b.model()),
            });
        }
        let parsed = match op.kind {
            OpType::Invoke => mops(b, &op.value, false),
            OpType::Ok => mops(b, &op.value, true),
            OpType::Fail | OpType::Info => Ok(()),
        };
        if let Err(message) = parsed {
            b.clear_scratch();
            return Err(Feed::Model { index, message });
        }
        let done = match op.kind {
            OpType::Invoke => b.invoke(index, p, op.time),
            kind => b.complete(index, p, kind, op.time),
        };
        done.map_err(|message| Feed::Rule { index, message })?;
    }
    Ok(())
}

/// The message for a client op that is not a transaction.
pub(crate) fn not_txn(f: &str, model: TxnModel) -> String {
    format!(
        "f is {f:?}, but --model {} checks transactions: f \"txn\" with a list of micro-ops as \
         the value",
        model.name()
    )
}

/// Push the micro-ops of `value`; `results` is true for an ok completion, whose reads are known.
fn mops(b: &mut Builder, value: &Value, results: bool) -> Result<(), String> {
    let Value::Array(items) = value else {
        return Err(format!(
            "the value of a transaction must be a list of micro-ops like [[\"r\", \"x\", null]], \
             got {}",
            short(value)
        ));
    };
    for (i, item) in items.iter().enumerate() {
        mop(b, item, results).map_err(|m| format!("micro-op {} ({}): {m}", i + 1, short(item)))?;
    }
    Ok(())
}

fn mop(b: &mut Builder, item: &Value, results: bool) -> Result<(), String> {
    let parts = match item {
        Value::Array(p) if p.len() == 2 || p.len() == 3 => p,
        _ => return Err("expected [f, key, value]".into()),
    };
    let Some(f) = parts[0].as_str() else {
        return Err("f must be a string (\"r\", \"append\" or \"w\")".into());
    };
    let kind = b.kind(f)?;
    let key = b
        .atoms()
        .scalar(&parts[1])
        .ok_or("the key must be a JSON scalar (string, number, boolean or null)")?;
    let arg = parts.get(2).unwrap_or(&Value::Null);
    match kind {
        MopKind::Append | MopKind::Write => {
            if parts.len() != 3 {
                return Err("a write needs a value: [f, key, value]".into());
            }
            let v = b
                .atoms()
                .scalar(arg)
                .ok_or("the written value must be a JSON scalar")?;
            if kind == MopKind::Write && arg.is_null() {
                return Err(
                    "writing null is not allowed: it reads the same as the initial state".into(),
                );
            }
            b.write(kind, key, v);
        }
        MopKind::Read if !results => b.unknown_read(key),
        MopKind::Read => match (b.model(), arg) {
            (TxnModel::ListAppend, Value::Null) => b.list_read(key),
            (TxnModel::ListAppend, Value::Array(elems)) => {
                b.list_read(key);
                for e in elems {
                    let a = b
                        .atoms()
                        .scalar(e)
                        .ok_or("list elements must be JSON scalars")?;
                    b.element(a);
                }
            }
            (TxnModel::ListAppend, _) => {
                return Err("a list-append read returns a list (or null for an empty key)".into())
            }
            (TxnModel::RwRegister, v) => {
                let a = b
                    .atoms()
                    .scalar(v)
                    .ok_or("a register read returns a JSON scalar (null when the key is empty)")?;
                b.register_read(key, a);
            }
        },
    }
    Ok(())
}

/// A value cut to about 60 characters for messages.
pub(crate) fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() <= 60 {
        return s;
    }
    let cut = (0..=57).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    format!("{}...", &s[..cut])
}
