//! `CompactHistory`: the checker's input form of a history. Every op is a fixed 48-byte record of
//! interned ids (key, value, f, process, node, error) plus its index, time and source line; the
//! distinct keys, values and strings are stored once. The JSONL fast path parses straight into
//! it; [`History`] converts to and from it losslessly, so `Op`s can always be had back for
//! reports and counterexamples.
//!
//! Invariants: `ops`, in file order, is the real-time order; ids index the tables; after
//! [`CompactHistory::validate`] indices are unique, every client completion carries its invoke's
//! key, and `partner` pairs each invoke with its completion.

use rustc_hash::FxHashMap;
use serde_json::Value;

use super::{History, HistoryError, Key, Op, OpType, Process};

/// "No id": no key, no node, no error, no partner.
pub(crate) const NONE: u32 = u32::MAX;
/// The value id of `null`.
pub(crate) const NULL: u32 = 0;

/// One op, compact. Ids point into the [`Tables`] of its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CompactOp {
    /// The op's own index (the file's, or its position when the file gave none).
    pub index: u64,
    /// Nanoseconds, valid when `has_time`.
    pub time: i64,
    /// 1-based source line; 0 when unknown.
    pub line: u32,
    /// Interned [`Process`].
    pub process: u32,
    /// Interned [`Key`], or [`NONE`].
    pub key: u32,
    /// Interned value ([`NULL`] = null).
    pub value: u32,
    /// Interned node name, or [`NONE`].
    pub node: u32,
    /// Interned error text, or [`NONE`].
    pub error: u32,
    /// Interned `f`.
    pub f: u16,
    /// invoke / ok / fail / info.
    pub kind: OpType,
    /// Whether `time` is set.
    pub has_time: bool,
    /// Whether the file gave `index` (while parsing; positions fill in the rest).
    pub has_index: bool,
}

/// A table of distinct items, each with a dense id.
#[derive(Debug, Clone)]
pub(crate) struct Table<K, V> {
    ids: FxHashMap<K, u32>,
    items: Vec<V>,
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table {
            ids: FxHashMap::default(),
            items: Vec::new(),
        }
    }
}

impl<K: std::hash::Hash + Eq, V> Table<K, V> {
    /// The id of the item looked up by `lookup`, making it (and its id key) on first sight.
    pub(crate) fn id<Q>(&mut self, lookup: &Q, make: impl FnOnce() -> (K, V)) -> u32
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        if let Some(&id) = self.ids.get(lookup) {
            return id;
        }
        let id = self.items.len() as u32;
        let (k, v) = make();
        self.items.push(v);
        self.ids.insert(k, id);
        id
    }

    /// The item behind `id`.
    pub(crate) fn get(&self, id: u32) -> Option<&V> {
        self.items.get(id as usize)
    }

    /// Number of items.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

/// The distinct keys, values and strings of a history.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    /// Keys, by value.
    pub keys: Table<Key, Key>,
    /// Values, by their JSON text (two spellings of one value may get two ids; models intern
    /// values again by content, so this only costs a cache entry).
    pub values: Table<Box<[u8]>, Value>,
    /// `f` names.
    pub fs: Table<Box<str>, Box<str>>,
    /// Node names and error texts.
    pub strings: Table<Box<str>, Box<str>>,
    /// Processes.
    pub processes: Table<Process, Process>,
}

impl Default for Tables {
    fn default() -> Self {
        let mut values = Table::default();
        values.id(b"null".as_slice(), || (Box::from(*b"null"), Value::Null));
        Tables {
            keys: Table::default(),
            values,
            fs: Table::default(),
            strings: Table::default(),
            processes: Table::default(),
        }
    }
}

impl Tables {
    /// The id of a value given as JSON text (parsed on first sight).
    pub(crate) fn value_raw(&mut self, raw: &[u8]) -> Result<u32, String> {
        if let Some(&id) = self.values.ids.get(raw) {
            return Ok(id);
        }
        let v: Value = serde_json::from_slice(raw).map_err(|e| format!("bad value: {e}"))?;
        if v.is_null() {
            return Ok(NULL);
        }
        Ok(self.values.id(raw, || (Box::from(raw), v)))
    }

    /// The id of a value.
    pub(crate) fn value(&mut self, v: &Value) -> u32 {
        if v.is_null() {
            return NULL;
        }
        let raw = v.to_string().into_bytes();
        self.values
            .id(raw.as_slice(), || (raw.clone().into(), v.clone()))
    }

    /// The id of a key.
    pub(crate) fn key(&mut self, k: &Key) -> u32 {
        self.keys.id(k, || (k.clone(), k.clone()))
    }

    /// The id of an `f` name; an error past 65,535 distinct names.
    pub(crate) fn f(&mut self, f: &str) -> Result<u16, String> {
        let id = self.fs.id(f, || (Box::from(f), Box::from(f)));
        u16::try_from(id).map_err(|_| "more than 65,535 distinct \"f\" names".to_string())
    }

    /// The id of a node name or error text.
    pub(crate) fn string(&mut self, s: &str) -> u32 {
        self.strings.id(s, || (Box::from(s), Box::from(s)))
    }

    /// The id of a process.
    pub(crate) fn process(&mut self, p: Process) -> u32 {
        self.processes.id(&p, || (p, p))
    }
}

/// A history in compact form. See the module documentation.
#[derive(Debug, Clone)]
pub struct CompactHistory {
    pub(crate) ops: Vec<CompactOp>,
    pub(crate) tables: Tables,
    /// For each op: its invoke's or completion's position, else [`NONE`]. Set by `validate`.
    pub(crate) partner: Vec<u32>,
    /// The file it was read from (`<stdin>`), empty when built in memory.
    pub(crate) source: String,
    pub(crate) validated: bool,
}

impl CompactHistory {
    /// An empty history read from `source`.
    pub(crate) fn new(source: &str, tables: Tables, ops: Vec<CompactOp>) -> Self {
        CompactHistory {
            ops,
            tables,
            partner: Vec::new(),
            source: source.to_string(),
            validated: false,
        }
    }

    /// Name the file and the line of each op (`lines[i]` for op `i`).
    pub(crate) fn set_source(&mut self, source: &str, lines: &[u64]) {
        self.source = source.to_string();
        for (op, &l) in self.ops.iter_mut().zip(lines) {
            op.line = u32::try_from(l).unwrap_or(0);
        }
    }

    /// The compact form of `history` (lines unknown).
    pub fn from_history(history: &History) -> Result<Self, HistoryError> {
        let mut t = Tables::default();
        let mut ops = Vec::with_capacity(history.ops.len());
        for (i, op) in history.ops.iter().enumerate() {
            let f = t.f(&op.f).map_err(|m| HistoryError::syntax(None, m))?;
            ops.push(CompactOp {
                index: op.index,
                has_index: true,
                time: op.time.unwrap_or(0),
                has_time: op.time.is_some(),
                line: 0,
                process: t.process(op.process),
                key: op.key.as_ref().map_or(NONE, |k| t.key(k)),
                value: t.value(&op.value),
                node: op.node.as_deref().map_or(NONE, |s| t.string(s)),
                error: op.error.as_deref().map_or(NONE, |s| t.string(s)),
                f,
                kind: op.kind,
            });
            debug_assert_eq!(ops.len(), i + 1);
        }
        Ok(Self::new("", t, ops))
    }

    /// Every op, as [`Op`]s.
    pub fn to_history(&self) -> History {
        History {
            ops: (0..self.ops.len()).map(|p| self.op(p)).collect(),
        }
    }

    /// Number of ops.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True if there are no ops.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The file it was read from (`<stdin>` for standard input; empty when built in memory).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The op at position `pos`, as an [`Op`]. Panics if `pos` is out of range.
    pub fn op(&self, pos: usize) -> Op {
        let o = &self.ops[pos];
        let string = |id: u32| self.tables.strings.get(id).map(|s| s.to_string());
        Op {
            index: o.index,
            time: o.has_time.then_some(o.time),
            process: self.process(pos),
            kind: o.kind,
            f: self.f(pos).to_string(),
            key: self.key(pos).cloned(),
            value: self.value_of(o.value).clone(),
            node: string(o.node),
            error: string(o.error),
        }
    }

    /// The op's own index.
    pub fn index(&self, pos: usize) -> u64 {
        self.ops[pos].index
    }

    /// The 1-based line the op at `pos` came from, when known.
    pub fn line(&self, pos: usize) -> Option<u64> {
        self.ops
            .get(pos)
            .and_then(|o| (o.line > 0).then_some(u64::from(o.line)))
    }

    /// The op's process.
    pub fn process(&self, pos: usize) -> Process {
        self.tables
            .processes
            .get(self.ops[pos].process)
            .copied()
            .unwrap_or(Process::Nemesis)
    }

    /// The op's key, if any.
    pub fn key(&self, pos: usize) -> Option<&Key> {
        self.key_of(self.ops[pos].key)
    }

    /// The op's `f`.
    pub fn f(&self, pos: usize) -> &str {
        self.f_of(self.ops[pos].f)
    }

    /// The op's value.
    pub fn value(&self, pos: usize) -> &Value {
        self.value_of(self.ops[pos].value)
    }

    pub(crate) fn key_of(&self, id: u32) -> Option<&Key> {
        self.tables.keys.get(id)
    }

    pub(crate) fn value_of(&self, id: u32) -> &Value {
        self.tables.values.get(id).unwrap_or(&Value::Null)
    }

    pub(crate) fn f_of(&self, id: u16) -> &str {
        self.tables.fs.get(u32::from(id)).map_or("", |s| s)
    }

    /// True for client (non-nemesis) ops.
    pub(crate) fn is_client(&self, pos: usize) -> bool {
        self.process(pos) != Process::Nemesis
    }

    /// Check well-formedness and pair invokes with completions (see `validate.rs`): indices are
    /// unique, each client process runs one op at a time, completions carry their invoke's key
    /// (a missing one is filled in), and a keyed history has a key on every client op. Errors
    /// name `file:line` where known. Idempotent.
    pub fn validate(&mut self) -> Result<(), HistoryError> {
        if self.validated {
            return Ok(());
        }
        let partner =
            super::validate::validate_compact(self).map_err(|e| e.in_file_if(&self.source))?;
        self.partner = partner;
        self.validated = true;
        Ok(())
    }

    /// True once [`Self::validate`] succeeded.
    pub fn is_validated(&self) -> bool {
        self.validated
    }

    /// Position of the completion of the invoke at `pos` (after validation), if it has one.
    pub(crate) fn completion(&self, pos: usize) -> Option<usize> {
        match self.partner.get(pos) {
            Some(&p) if p != NONE && self.ops[pos].kind == OpType::Invoke => Some(p as usize),
            _ => None,
        }
    }

    /// Approximate bytes held (ops, pairing and tables' items), for the benchmark.
    pub fn heap_bytes(&self) -> usize {
        self.ops.capacity() * std::mem::size_of::<CompactOp>()
            + self.partner.capacity() * 4
            + self.tables.values.len() * 64
            + self.tables.keys.len() * 48
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::parse_edn;

    #[test]
    fn compact_ops_are_at_most_48_bytes() {
        assert!(std::mem::size_of::<CompactOp>() <= 48);
    }

    #[test]
    fn round_trips_every_field() {
        let h = parse_edn(
            "{:index 3 :time 5 :process 0 :type :invoke :f :write :key 7 :value [1 {:a nil}]}
             {:index 9 :process :nemesis :type :info :f :kill :value \"n1\" :error :boom}
             {:index 11 :process 0 :type :ok :f :write :key 7 :value nil :node :n2}",
        )
        .expect("parse");
        let c = CompactHistory::from_history(&h).expect("compact");
        assert_eq!(c.to_history(), h);
        assert_eq!(c.key(0), Some(&Key::from(7i64)));
        assert_eq!(c.index(2), 11);
    }
}
