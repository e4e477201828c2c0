//! Filling [`Txns`] from a stream of ops: pairing invokes with completions and enforcing the
//! history rules (one op at a time per process, no invoke after `info`, an `ok` completion
//! with the same micro-ops as its invoke), interning keys, and storing list reads as prefixes
//! of each key's canonical list when they are (most are).

use rustc_hash::FxHashMap;

use super::atom::{Atom, Atoms};
use super::txns::{Mop, MopKind, Status, Txn, Txns, CANON, NONE, UNKNOWN};
use super::TxnModel;
use crate::history::OpType;

/// A micro-op as a reader produced it, before keys get ids. List elements live in
/// `Builder::scratch_elems`.
#[derive(Debug, Clone, Copy)]
struct RawMop {
    kind: MopKind,
    key: Atom,
    value: Atom,
    start: u32,
    len: u32,
}

/// Fills [`Txns`] from a stream of ops. Readers push an op's micro-ops with [`Builder::mop`]
/// and then call [`Builder::invoke`] or [`Builder::complete`]; errors are messages for the
/// reader to place (file, line, op index).
#[derive(Debug)]
pub(crate) struct Builder {
    out: Txns,
    key_ids: FxHashMap<Atom, u32>,
    scratch: Vec<RawMop>,
    scratch_elems: Vec<Atom>,
    /// Process -> its pending transaction.
    open: FxHashMap<u64, u32>,
    /// Process -> index of the `info` completion that crashed it.
    crashed: FxHashMap<u64, u64>,
}

impl Builder {
    /// An empty builder for `model`.
    pub(crate) fn new(model: TxnModel) -> Self {
        Builder {
            out: Txns {
                model,
                txns: Vec::new(),
                mops: Vec::new(),
                elems: Vec::new(),
                canon: Vec::new(),
                atoms: Atoms::default(),
                keys: Vec::new(),
                oks_by_completion: Vec::new(),
            },
            key_ids: FxHashMap::default(),
            scratch: Vec::new(),
            scratch_elems: Vec::new(),
            open: FxHashMap::default(),
            crashed: FxHashMap::default(),
        }
    }

    /// The model being built.
    pub(crate) fn model(&self) -> TxnModel {
        self.out.model
    }

    /// The atom table (readers intern keys and values here).
    pub(crate) fn atoms(&mut self) -> &mut Atoms {
        &mut self.out.atoms
    }

    /// Forget a half-pushed op (the reader found an error in it).
    pub(crate) fn clear_scratch(&mut self) {
        self.scratch.clear();
        self.scratch_elems.clear();
    }

    /// The micro-op kind for `f`, or why `f` does not belong to this model.
    pub(crate) fn kind(&self, f: &str) -> Result<MopKind, String> {
        match (self.out.model, f) {
            (_, "r") => Ok(MopKind::Read),
            (TxnModel::ListAppend, "append") => Ok(MopKind::Append),
            (TxnModel::RwRegister, "w") => Ok(MopKind::Write),
            (m, f) => Err(format!(
                "micro-op {f:?} is not part of the {} model, which has {}",
                m.name(),
                match m {
                    TxnModel::ListAppend =>
                        "[\"append\", k, v] and [\"r\", k, [v1, v2, ...]]; \
                                             for [\"w\", k, v] use --model rw-register",
                    TxnModel::RwRegister =>
                        "[\"w\", k, v] and [\"r\", k, v]; for \
                                             [\"append\", k, v] use --model list-append",
                }
            )),
        }
    }

    /// Push a write (append or register write) of `value`.
    pub(crate) fn write(&mut self, kind: MopKind, key: Atom, value: Atom) {
        self.scratch.push(RawMop {
            kind,
            key,
            value,
            start: 0,
            len: 0,
        });
    }

    /// Push a read whose result is unknown (`null` in an invoke).
    pub(crate) fn unknown_read(&mut self, key: Atom) {
        self.scratch.push(RawMop {
            kind: MopKind::Read,
            key,
            value: Atom::NULL,
            start: 0,
            len: UNKNOWN,
        });
    }

    /// Push a register read of `value` (`Atom::NULL` = nothing there).
    pub(crate) fn register_read(&mut self, key: Atom, value: Atom) {
        self.scratch.push(RawMop {
            kind: MopKind::Read,
            key,
            value,
            start: 0,
            len: 0,
        });
    }

    /// Start a list read; push its elements with [`Builder::element`].
    pub(crate) fn list_read(&mut self, key: Atom) {
        self.scratch.push(RawMop {
            kind: MopKind::Read,
            key,
            value: Atom::NULL,
            start: self.scratch_elems.len() as u32,
            len: 0,
        });
    }

    /// Append one element to the list read pushed last.
    pub(crate) fn element(&mut self, e: Atom) {
        self.scratch_elems.push(e);
        if let Some(m) = self.scratch.last_mut() {
            m.len += 1;
        }
    }

    /// A client invoked the micro-ops pushed since the last call.
    pub(crate) fn invoke(
        &mut self,
        index: u64,
        process: u64,
        time: Option<i64>,
    ) -> Result<(), String> {
        if let Some(&t) = self.open.get(&process) {
            self.clear_scratch();
            return Err(format!(
                "process {process} invokes while its op {} is still pending; a process runs one \
                 op at a time",
                self.out.txns[t as usize].invoke
            ));
        }
        if let Some(&j) = self.crashed.get(&process) {
            self.clear_scratch();
            return Err(format!(
                "process {process} invokes again after its op {j} ended with info; a crashed \
                 process must use a new process id"
            ));
        }
        let id = u32::try_from(self.out.txns.len())
            .map_err(|_| "more than 4 billion transactions".to_string())?;
        let start = self.out.mops.len() as u32;
        let raw = std::mem::take(&mut self.scratch);
        for m in &raw {
            let key = self.key_id(m.key);
            // Reads of an invoke are never known; list elements are not kept.
            let len = if m.kind == MopKind::Read { UNKNOWN } else { 0 };
            self.out.mops.push(Mop {
                kind: m.kind,
                key,
                value: m.value,
                start: 0,
                len,
            });
        }
        self.scratch = raw;
        self.clear_scratch();
        self.out.txns.push(Txn {
            status: Status::Info,
            process,
            invoke: index,
            complete: NONE,
            invoke_time: time,
            complete_time: None,
            mops: start,
            nmops: self.out.mops.len() as u32 - start,
        });
        self.open.insert(process, id);
        Ok(())
    }

    /// The pending transaction of `process` completed as `kind` with the micro-ops pushed since
    /// the last call (only an `ok` completion's are used: its reads carry the results).
    pub(crate) fn complete(
        &mut self,
        index: u64,
        process: u64,
        kind: OpType,
        time: Option<i64>,
    ) -> Result<(), String> {
        let Some(t) = self.open.remove(&process) else {
            self.clear_scratch();
            return Err(format!(
                "completion ({}) for process {process} has no pending invoke",
                type_name(kind)
            ));
        };
        let result = match kind {
            OpType::Ok => self.fill_reads(t),
            _ => Ok(()),
        };
        self.clear_scratch();
        let txn = &mut self.out.txns[t as usize];
        txn.complete = index;
        txn.complete_time = time;
        txn.status = match kind {
            OpType::Ok => Status::Ok,
            OpType::Fail => Status::Fail,
            _ => Status::Info,
        };
        if kind == OpType::Info {
            self.crashed.insert(process, index);
        }
        if kind == OpType::Ok {
            self.out.oks_by_completion.push(t);
        }
        result
    }

    /// Copy an ok completion's read results into transaction `t`, checking that the completion
    /// has the same micro-ops as the invoke.
    fn fill_reads(&mut self, t: u32) -> Result<(), String> {
        let txn = self.out.txns[t as usize];
        let invoke = txn.invoke;
        if self.scratch.len() != txn.nmops as usize {
            return Err(format!(
                "the ok completion has {} micro-ops but its invoke (op {invoke}) has {}; an ok \
                 transaction repeats its invoke's micro-ops with the read results filled in",
                self.scratch.len(),
                txn.nmops
            ));
        }
        for i in 0..self.scratch.len() {
            let raw = self.scratch[i];
            let slot = (txn.mops as usize) + i;
            let m = self.out.mops[slot];
            let key = m.key;
            if m.kind != raw.kind
                || self.out.keys[key as usize] != raw.key
                || (m.kind != MopKind::Read && m.value != raw.value)
            {
                return Err(format!(
                    "micro-op {} of the ok completion differs from its invoke (op {invoke}); only \
                     read results may change between invoke and completion",
                    i + 1
                ));
            }
            if raw.kind == MopKind::Read {
                let range = raw.start as usize..(raw.start + raw.len) as usize;
                let start = self.store_list(key, range);
                self.out.mops[slot] = Mop {
                    value: raw.value,
                    start,
                    len: raw.len,
                    ..m
                };
            }
        }
        Ok(())
    }

    /// Store a list read of `key` (scratch elements `range`): as a prefix of the key's
    /// canonical list when it is one or extends it ([`CANON`]), else in the arena.
    fn store_list(&mut self, key: u32, range: std::ops::Range<usize>) -> u32 {
        if self.out.model != TxnModel::ListAppend {
            return 0;
        }
        let l = &self.scratch_elems[range];
        if self.out.canon.len() <= key as usize {
            self.out.canon.resize_with(key as usize + 1, Vec::new);
        }
        let c = &mut self.out.canon[key as usize];
        let n = c.len().min(l.len());
        if c[..n] == l[..n] {
            if l.len() > c.len() {
                c.extend_from_slice(&l[n..]);
            }
            return CANON;
        }
        let start = self.out.elems.len() as u32;
        self.out.elems.extend_from_slice(l);
        start
    }

    fn key_id(&mut self, key: Atom) -> u32 {
        let next = self.out.keys.len() as u32;
        let id = *self.key_ids.entry(key).or_insert(next);
        if id == next {
            self.out.keys.push(key);
        }
        id
    }

    /// Approximate heap bytes held so far.
    pub(crate) fn bytes(&self) -> usize {
        self.out.bytes() + self.key_ids.capacity() * 16
    }

    /// The finished store; transactions still pending count as `info`.
    pub(crate) fn finish(self) -> Txns {
        self.out
    }
}

fn type_name(kind: OpType) -> &'static str {
    match kind {
        OpType::Invoke => "invoke",
        OpType::Ok => "ok",
        OpType::Fail => "fail",
        OpType::Info => "info",
    }
}
