//! The JSONL fast path: read a history at disk speed straight into a [`CompactHistory`].
//!
//! The input is read in blocks of [`BLOCK_BYTES`] cut after their last newline; a block is split
//! into pieces at newlines, the pieces are parsed in parallel (rayon) with typed, borrowed
//! deserialisation (strings and values are not copied; each piece interns them locally), then
//! stitched in file order: local ids become global ids, piece-relative line numbers become file
//! lines, missing indices become positions. Input of one small piece is parsed in the calling
//! thread, so a short history never starts the thread pool. The first error in file order wins
//! and is reported with its line, in the words of the sequential reader ([`super::jsonl`]),
//! which stays the reference this path is tested against.

use std::borrow::Cow;
use std::io::Read;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::compact::{CompactHistory, CompactOp, Tables, NONE, NULL};
use super::jsonl::{diagnose, trim_ascii};
use super::jsonl_scan::{scan, Scanned};
use super::key::KeyRef;
use super::{HistoryError, OpType, Process};

/// Bytes read per block (a block's pieces are parsed in parallel).
pub const BLOCK_BYTES: usize = 8 << 20;
/// Target size of one piece: big enough to amortise its tables, small enough to balance.
const PIECE_BYTES: usize = 512 << 10;

/// One line, borrowed from the input.
#[derive(Deserialize)]
struct WireLine<'a> {
    #[serde(default)]
    index: Option<u64>,
    #[serde(default)]
    time: Option<i64>,
    process: Process,
    #[serde(rename = "type")]
    kind: OpType,
    #[serde(borrow)]
    f: Cow<'a, str>,
    #[serde(default, borrow)]
    key: Option<KeyRef<'a>>,
    #[serde(default, borrow)]
    value: Option<&'a RawValue>,
    #[serde(default, borrow)]
    node: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    error: Option<Cow<'a, str>>,
}

/// Items of one kind seen in a piece, with piece-local ids and the line each first appeared on.
struct Local<K> {
    ids: FxHashMap<K, u32>,
    items: Vec<(K, u32)>,
}

impl<K: std::hash::Hash + Eq + Clone> Local<K> {
    fn new() -> Self {
        Local {
            ids: FxHashMap::default(),
            items: Vec::new(),
        }
    }

    fn id(&mut self, k: K, line: u32) -> u32 {
        let next = self.items.len() as u32;
        *self.ids.entry(k).or_insert_with_key(|k| {
            self.items.push((k.clone(), line));
            next
        })
    }
}

/// A parsed piece: ops with local ids and piece-relative lines.
struct Piece<'a> {
    ops: Vec<CompactOp>,
    values: Local<&'a [u8]>,
    keys: Local<KeyRef<'a>>,
    fs: Local<Cow<'a, str>>,
    strings: Local<Cow<'a, str>>,
    processes: Local<Process>,
    /// Lines in the piece (a last line without newline counts).
    lines: u64,
    /// The first bad line (piece-relative), what is wrong with it, and whether it starts with
    /// `[` before any op of the piece (a JSON array, if no op came before it in the file).
    error: Option<(u64, String, bool)>,
}

/// Read a JSONL history from `reader` into compact form; `source` names it in errors. Lines
/// longer than `max_line` bytes are refused.
pub fn read_jsonl_compact<R: Read + Send>(
    reader: R,
    source: &str,
    max_line: usize,
) -> Result<CompactHistory, HistoryError> {
    let sizes = Sizes {
        max_line,
        block: BLOCK_BYTES,
        piece: PIECE_BYTES,
    };
    read_with(reader, source, sizes)
}

/// How the input is cut (tests use tiny blocks and pieces to exercise every boundary).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    /// Longest line accepted.
    pub max_line: usize,
    /// Bytes read per block.
    pub block: usize,
    /// Target bytes per piece.
    pub piece: usize,
}

/// [`read_jsonl_compact`] with explicit sizes.
pub(crate) fn read_with<R: Read + Send>(
    mut reader: R,
    source: &str,
    sizes: Sizes,
) -> Result<CompactHistory, HistoryError> {
    let fail = |e: HistoryError| e.in_file_if(source);
    let mut st = Stitch {
        tables: Tables::default(),
        ops: Vec::new(),
        lines: 0,
    };
    let mut cur: Vec<u8> = Vec::new();
    let eof = fill(&mut reader, &mut cur, sizes.block, 0)?;
    if eof && cur.len() <= sizes.piece {
        // One small piece: no thread pool.
        st.block(&cur, sizes).map_err(fail)?;
    } else {
        // In the pool, so pieces are parsed by work stealing from this thread rather than handed
        // over and waited for; the next block is read while this one is parsed.
        rayon::scope(|_| pipeline(&mut reader, &mut st, cur, eof, sizes)).map_err(fail)?;
    }
    if st.ops.is_empty() {
        return Err(fail(HistoryError::Empty {
            at: Default::default(),
        }));
    }
    st.ops.shrink_to_fit();
    Ok(CompactHistory::new(source, st.tables, st.ops))
}

/// Read until `buf` holds `target` bytes or the input ends; true at the end of input. Errors
/// name `line` (the first line not parsed yet).
fn fill<R: Read>(
    r: &mut R,
    buf: &mut Vec<u8>,
    target: usize,
    line: u64,
) -> Result<bool, HistoryError> {
    if buf.len() >= target {
        return Ok(false);
    }
    let want = (target - buf.len()) as u64;
    let got = r
        .by_ref()
        .take(want)
        .read_to_end(buf)
        .map_err(|e| HistoryError::syntax(Some(line + 1), format!("cannot read: {e}")))?;
    Ok((got as u64) < want)
}

/// Parse block after block: `cur` holds the bytes read so far.
fn pipeline<R: Read + Send>(
    reader: &mut R,
    st: &mut Stitch,
    mut cur: Vec<u8>,
    mut eof: bool,
    sizes: Sizes,
) -> Result<(), HistoryError> {
    let mut spare: Vec<u8> = Vec::new();
    while !(eof && cur.is_empty()) {
        // Cut after the last newline, reading on while a line is longer than the block.
        let cut = loop {
            if eof {
                break cur.len();
            }
            if let Some(i) = memchr::memrchr(b'\n', &cur) {
                break i + 1;
            }
            if cur.len() > sizes.max_line {
                return Err(too_long(st.lines + 1, sizes.max_line));
            }
            let target = cur.len() * 2;
            eof = fill(reader, &mut cur, target, st.lines)?;
        };
        spare.clear();
        spare.extend_from_slice(&cur[cut..]);
        let target = sizes.block.max(spare.len() + 1);
        let lines = st.lines;
        let (parsed, read) = rayon::join(
            || st.block(&cur[..cut], sizes),
            || {
                if eof {
                    Ok(true)
                } else {
                    fill(reader, &mut spare, target, lines)
                }
            },
        );
        parsed?;
        eof = read?;
        std::mem::swap(&mut cur, &mut spare);
    }
    Ok(())
}

fn too_long(line: u64, max_line: usize) -> HistoryError {
    HistoryError::syntax(Some(line), too_long_message(max_line))
}

fn too_long_message(max_line: usize) -> String {
    format!(
        "line is longer than the {max_line}-byte cap ({} MiB); one op per line is expected. Is \
         this really a JSONL history?",
        max_line as f64 / (1 << 20) as f64
    )
}

/// The history so far.
struct Stitch {
    tables: Tables,
    ops: Vec<CompactOp>,
    /// Lines consumed so far.
    lines: u64,
}

impl Stitch {
    /// Parse one block (whole lines) and append its ops.
    fn block(&mut self, block: &[u8], sizes: Sizes) -> Result<(), HistoryError> {
        let max_line = sizes.max_line;
        if block.len() <= sizes.piece {
            return self.append(parse_piece(block, max_line));
        }
        let mut cuts = vec![0];
        while let Some(&last) = cuts.last() {
            let want = last + sizes.piece;
            if want >= block.len() {
                break;
            }
            match memchr::memchr(b'\n', &block[want..]) {
                Some(i) if want + i + 1 < block.len() => cuts.push(want + i + 1),
                _ => break,
            }
        }
        cuts.push(block.len());
        let pieces: Vec<Piece> = cuts
            .par_windows(2)
            .map(|w| parse_piece(&block[w[0]..w[1]], max_line))
            .collect();
        for p in pieces {
            self.append(p)?;
        }
        Ok(())
    }

    /// Give a piece's ids, lines and indices their global meaning and append its ops.
    fn append(&mut self, p: Piece) -> Result<(), HistoryError> {
        let base = self.lines;
        if let Some((line, message, array)) = p.error {
            let message = if array && self.ops.is_empty() {
                format!(
                    "{message}; this looks like a JSON array, but histories are JSON Lines (one \
                     op object per line), or EDN (pass --format edn)"
                )
            } else {
                message
            };
            return Err(HistoryError::syntax(Some(base + line), message));
        }

        let at = |local: u32| Some(base + u64::from(local));
        let t = &mut self.tables;
        let mut values = Vec::with_capacity(p.values.items.len());
        for (raw, line) in &p.values.items {
            values.push(
                t.value_raw(raw)
                    .map_err(|m| HistoryError::syntax(at(*line), m))?,
            );
        }
        let keys: Vec<u32> = (p.keys.items.iter())
            .map(|(k, _)| t.key(&k.clone().into_owned()))
            .collect();
        let mut fs = Vec::with_capacity(p.fs.items.len());
        for (f, line) in &p.fs.items {
            fs.push(t.f(f).map_err(|m| HistoryError::syntax(at(*line), m))?);
        }
        let strings: Vec<u32> = p.strings.items.iter().map(|(s, _)| t.string(s)).collect();
        let procs: Vec<u32> = (p.processes.items.iter())
            .map(|(q, _)| t.process(*q))
            .collect();
        let map = |ids: &[u32], id: u32| if id == NONE { NONE } else { ids[id as usize] };
        let last_line = base + p.lines;
        if last_line > u64::from(u32::MAX) {
            return Err(HistoryError::syntax(
                Some(last_line),
                "history has more than 4,294,967,295 lines; split it",
            ));
        }
        self.ops.reserve(p.ops.len());
        for mut op in p.ops {
            if !op.has_index {
                op.index = self.ops.len() as u64;
            }
            op.line += base as u32;
            op.value = if op.value == NONE {
                NULL
            } else {
                values[op.value as usize]
            };
            op.key = map(&keys, op.key);
            op.f = fs[op.f as usize];
            op.node = map(&strings, op.node);
            op.error = map(&strings, op.error);
            op.process = procs[op.process as usize];
            self.ops.push(op);
        }
        self.lines = last_line;
        Ok(())
    }
}

/// Parse the whole lines of `text`; stops at the first bad line.
fn parse_piece(text: &[u8], max_line: usize) -> Piece<'_> {
    let mut p = Piece {
        ops: Vec::with_capacity(text.len() / 64 + 1),
        values: Local::new(),
        keys: Local::new(),
        fs: Local::new(),
        strings: Local::new(),
        processes: Local::new(),
        lines: 0,
        error: None,
    };
    let mut start = 0;
    while start < text.len() {
        let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
        let raw = &text[start..end];
        start = end + 1;
        p.lines += 1;
        if raw.len() > max_line {
            p.error = Some((p.lines, too_long_message(max_line), false));
            return p;
        }
        let line = trim_ascii(raw);
        if line.is_empty() {
            continue;
        }
        if let Err(m) = p.push(line) {
            let array = p.ops.is_empty() && line.first() == Some(&b'[');
            p.error = Some((p.lines, m, array));
            return p;
        }
    }
    p
}

impl<'a> Piece<'a> {
    /// Parse one non-blank line (the scanner's fast path, else serde) and append it.
    fn push(&mut self, line: &'a [u8]) -> Result<(), String> {
        let s = match scan(line) {
            Some(s) => s,
            None => {
                let w: WireLine<'a> =
                    serde_json::from_slice(line).map_err(|e| diagnose(line, &e))?;
                Scanned {
                    index: w.index,
                    time: w.time,
                    process: w.process,
                    kind: w.kind,
                    f: w.f,
                    key: w.key,
                    value: w.value.map(|r| r.get().as_bytes()),
                    node: w.node,
                    error: w.error,
                }
            }
        };
        let at = self.lines as u32;
        // Piece-local value ids; null is NONE here (local ids start at 0) and NULL once stitched.
        let value = match s.value {
            None | Some(b"null") => NONE,
            Some(raw) => {
                let seen = self.values.items.len();
                let id = self.values.id(raw, at);
                // A new value text must be JSON that converts (`1e999` is no f64; the scanner
                // only found its extent).
                if id as usize == seen {
                    if let Err(e) = serde_json::from_slice::<serde_json::Value>(raw) {
                        return Err(diagnose(line, &e));
                    }
                }
                id
            }
        };
        let f = u16::try_from(self.fs.id(s.f, at))
            .map_err(|_| "more than 65,535 distinct \"f\" names".to_string())?;
        self.ops.push(CompactOp {
            index: s.index.unwrap_or(0),
            has_index: s.index.is_some(),
            time: s.time.unwrap_or(0),
            has_time: s.time.is_some(),
            line: at,
            process: self.processes.id(s.process, at),
            key: s.key.map_or(NONE, |k| self.keys.id(k, at)),
            value,
            node: s.node.map_or(NONE, |n| self.strings.id(n, at)),
            error: s.error.map_or(NONE, |e| self.strings.id(e, at)),
            f,
            kind: s.kind,
        });
        Ok(())
    }
}

#[cfg(test)]
#[path = "jsonl_fast_tests.rs"]
mod tests;
