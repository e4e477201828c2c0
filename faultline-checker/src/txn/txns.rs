//! The compact form every transaction check runs on: one [`Txn`] per invoked transaction (in
//! invoke order), its micro-ops as fixed-size [`Mop`]s, list reads shared as prefixes of each
//! key's canonical list (or in an arena), keys and values as [`Atom`]s. `builder.rs` fills it
//! from either reader (a `History` or raw JSONL bytes).

use super::atom::{Atom, Atoms};
use super::TxnModel;

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Committed.
    Ok,
    /// Unknown: may or may not have committed (also: never completed).
    Info,
    /// Aborted: its writes must never be seen.
    Fail,
}

/// What a micro-op does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MopKind {
    /// list-append `["append", k, v]`.
    Append,
    /// rw-register `["w", k, v]`.
    Write,
    /// `["r", k, result]`.
    Read,
}

/// `Mop::len` of a read whose result is unknown (an invoke's `null`, or any read of a
/// transaction that did not end `ok`).
pub(crate) const UNKNOWN: u32 = u32::MAX;

/// One micro-op. Invariant: `key` indexes `Txns::keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mop {
    pub kind: MopKind,
    pub key: u32,
    /// The appended / written value, or a register read's result (`Atom::NULL` = nothing).
    pub value: Atom,
    /// A list read's first element in `Txns::elems`.
    pub start: u32,
    /// A list read's length; for any read, [`UNKNOWN`] when the result is not known.
    pub len: u32,
}

impl Mop {
    /// True for a read whose result is known.
    pub(crate) fn known_read(&self) -> bool {
        self.kind == MopKind::Read && self.len != UNKNOWN
    }
}

/// `Mop::start` of a list read stored as a prefix of its key's canonical list
/// (`Txns::canon`): most reads are, and sharing the list saves most of the memory.
pub(crate) const CANON: u32 = u32::MAX;

/// Sentinel for "no completion" / "no time".
pub(crate) const NONE: u64 = u64::MAX;

/// One transaction. Invariant: `mops..mops + nmops` indexes `Txns::mops`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Txn {
    pub status: Status,
    pub process: u64,
    /// History index of the invoke.
    pub invoke: u64,
    /// History index of the completion, or [`NONE`].
    pub complete: u64,
    pub invoke_time: Option<i64>,
    pub complete_time: Option<i64>,
    pub mops: u32,
    pub nmops: u32,
}

impl Txn {
    /// The history index shown for this transaction: its completion's, else its invoke's.
    pub(crate) fn index(&self) -> u64 {
        if self.complete == NONE {
            self.invoke
        } else {
            self.complete
        }
    }

    /// Ok and info transactions may have happened; failed ones certainly did not.
    pub(crate) fn possible(&self) -> bool {
        self.status != Status::Fail
    }
}

/// A whole transactional history in compact form.
#[derive(Debug)]
pub(crate) struct Txns {
    pub model: TxnModel,
    pub txns: Vec<Txn>,
    pub mops: Vec<Mop>,
    /// List-read elements of reads that are not prefixes of their key's canonical list.
    pub elems: Vec<Atom>,
    /// Key -> the longest list read so far of which every earlier read was a prefix.
    pub canon: Vec<Vec<Atom>>,
    pub atoms: Atoms,
    /// Key id -> key.
    pub keys: Vec<Atom>,
    /// Ok transactions in the order they completed.
    pub oks_by_completion: Vec<u32>,
}

impl Txns {
    /// The micro-ops of transaction `t`.
    pub(crate) fn mops_of(&self, t: u32) -> &[Mop] {
        let x = &self.txns[t as usize];
        &self.mops[x.mops as usize..(x.mops + x.nmops) as usize]
    }

    /// The elements of a list read.
    pub(crate) fn list(&self, m: &Mop) -> &[Atom] {
        if m.len == UNKNOWN {
            return &[];
        }
        if m.start == CANON {
            return &self.canon[m.key as usize][..m.len as usize];
        }
        &self.elems[m.start as usize..(m.start + m.len) as usize]
    }

    /// Approximate heap bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.txns.capacity() * std::mem::size_of::<Txn>()
            + self.mops.capacity() * std::mem::size_of::<Mop>()
            + self.elems.capacity() * 8
            + self
                .canon
                .iter()
                .map(|c| c.capacity() * 8 + 24)
                .sum::<usize>()
            + self.keys.capacity() * 24
            + self.oks_by_completion.capacity() * 4
            + self.atoms.bytes()
    }
}
