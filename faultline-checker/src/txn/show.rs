//! Turning compact transactions back into what people read: a transaction as a history [`Op`],
//! a micro-op as JSON, keys, values and lists as short text for explanations.

use serde_json::Value;

use super::atom::Atom;
use super::txns::{Mop, MopKind, Status, Txns, NONE};
use crate::history::{Op, OpType, Process};

/// Lists longer than this are shown with their head elided.
const SHOW_MAX: usize = 8;

/// The transaction as a history op: its completion (or its invoke if it never completed).
pub(crate) fn txn_op(t: &Txns, id: u32) -> Op {
    let x = &t.txns[id as usize];
    let kind = match (x.status, x.complete) {
        (_, NONE) => OpType::Invoke,
        (Status::Ok, _) => OpType::Ok,
        (Status::Fail, _) => OpType::Fail,
        (Status::Info, _) => OpType::Info,
    };
    Op {
        index: x.index(),
        time: if x.complete == NONE {
            x.invoke_time
        } else {
            x.complete_time
        },
        process: Process::Client(x.process),
        kind,
        f: "txn".into(),
        key: None,
        value: Value::Array(t.mops_of(id).iter().map(|m| mop_json(t, m)).collect()),
        node: None,
        error: None,
    }
}

/// A micro-op as JSON, e.g. `["append", "x", 1]` or `["r", "x", [1, 2]]`.
pub(crate) fn mop_json(t: &Txns, m: &Mop) -> Value {
    let key = t.atoms.json(t.keys[m.key as usize]);
    let (f, v) = match m.kind {
        MopKind::Append => ("append", t.atoms.json(m.value)),
        MopKind::Write => ("w", t.atoms.json(m.value)),
        MopKind::Read if !m.known_read() => ("r", Value::Null),
        MopKind::Read => match t.model {
            super::TxnModel::ListAppend => ("r", list_json(t, t.list(m))),
            super::TxnModel::RwRegister => ("r", t.atoms.json(m.value)),
        },
    };
    Value::Array(vec![Value::String(f.into()), key, v])
}

/// A list of atoms as JSON.
pub(crate) fn list_json(t: &Txns, l: &[Atom]) -> Value {
    Value::Array(l.iter().map(|a| t.atoms.json(*a)).collect())
}

/// A key for explanations.
pub(crate) fn key(t: &Txns, k: u32) -> String {
    t.atoms.show(t.keys[k as usize])
}

/// A value for explanations.
pub(crate) fn val(t: &Txns, a: Atom) -> String {
    t.atoms.show(a)
}

/// A list for explanations, e.g. `[1 2 3]`, or `[... 7 8 9]` when long.
pub(crate) fn list(t: &Txns, l: &[Atom]) -> String {
    let shown: Vec<String> = if l.len() > SHOW_MAX {
        std::iter::once("...".to_string())
            .chain(l[l.len() - SHOW_MAX + 1..].iter().map(|a| val(t, *a)))
            .collect()
    } else {
        l.iter().map(|a| val(t, *a)).collect()
    };
    format!("[{}]", shown.join(" "))
}

/// A micro-op for explanations, e.g. `[r x [1 2]]`.
pub(crate) fn mop(t: &Txns, m: &Mop) -> String {
    let k = key(t, m.key);
    match m.kind {
        MopKind::Append => format!("[append {k} {}]", val(t, m.value)),
        MopKind::Write => format!("[w {k} {}]", val(t, m.value)),
        MopKind::Read if !m.known_read() => format!("[r {k} ?]"),
        MopKind::Read => match t.model {
            super::TxnModel::ListAppend => format!("[r {k} {}]", list(t, t.list(m))),
            super::TxnModel::RwRegister => format!("[r {k} {}]", val(t, m.value)),
        },
    }
}

/// A transaction for explanations: `index 12 (process 3, ok): [append x 1] [r y [1]]`.
pub(crate) fn txn(t: &Txns, id: u32) -> String {
    let x = &t.txns[id as usize];
    let status = match (x.status, x.complete) {
        (_, NONE) => "never completed",
        (Status::Ok, _) => "ok",
        (Status::Fail, _) => "fail",
        (Status::Info, _) => "info",
    };
    let mops: Vec<String> = t.mops_of(id).iter().map(|m| mop(t, m)).collect();
    format!(
        "index {} (process {}, {status}): {}",
        x.index(),
        x.process,
        mops.join(" ")
    )
}

/// The transaction that owns global micro-op `m`.
pub(crate) fn owner(t: &Txns, m: u32) -> u32 {
    let i = t.txns.partition_point(|x| x.mops <= m);
    i.saturating_sub(1) as u32
}
