//! The fast path from JSONL bytes to compact transactions: no `History`, no `serde_json::Value`
//! per op. Each line is walked by a small scanner; anything the scanner does not handle (string
//! escapes, a malformed line) goes through the same `serde_json` code as the slow path, so
//! both paths accept the same files and report the same errors, with line numbers.

use std::io::Read;
use std::time::Instant;

use super::builder::Builder;
use super::from_history::{not_txn, Feed};
use super::jsonl_fields::{end, fields, mops, ValueField};
use super::scan::{Odd, Scanner};
use super::txns::Txns;
use super::{TxnError, TxnModel};
use crate::history::{parse_line, HistoryError, Location, OpType, Process, MAX_LINE_BYTES};

/// What reading produced.
pub(crate) enum Parsed {
    /// The whole history.
    Done(Box<Txns>),
    /// The memory budget ran out while reading; the reason.
    OverBudget(String),
}

/// The budgets reading must respect.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Bytes the compact form may grow to.
    pub memory: usize,
    /// When time is up.
    pub deadline: Option<Instant>,
}

impl Limits {
    /// No limits (tests).
    #[cfg(test)]
    pub(crate) fn none() -> Self {
        Limits {
            memory: usize::MAX,
            deadline: None,
        }
    }
}

/// Bytes read from a stream at a time.
const CHUNK: usize = 4 << 20;

/// Reading state carried across chunks.
struct Lines {
    b: Builder,
    position: u64,
    line_no: u64,
    memory_limit: usize,
    deadline: Option<Instant>,
}

impl Lines {
    /// Read every line of `data` (complete lines; the last may lack its newline).
    fn feed(&mut self, data: &[u8]) -> Result<Option<String>, TxnError> {
        let mut rest = data;
        while !rest.is_empty() {
            let (raw, next) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = next;
            self.line_no += 1;
            let line = raw.trim_ascii();
            if line.is_empty() {
                continue;
            }
            if line.len() > MAX_LINE_BYTES {
                return Err(too_long(self.line_no));
            }
            op(&mut self.b, line, self.position, self.line_no)?;
            self.position += 1;
            if self.position.is_multiple_of(65_536) {
                if self.b.bytes() > self.memory_limit {
                    return Ok(Some(format!(
                        "memory limit of {} MiB reached while reading the history (line {})",
                        self.memory_limit >> 20,
                        self.line_no
                    )));
                }
                if self.deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(Some(format!(
                        "time limit reached while reading the history (line {})",
                        self.line_no
                    )));
                }
            }
        }
        Ok(None)
    }

    fn finish(self) -> Result<Parsed, TxnError> {
        if self.position == 0 {
            return Err(HistoryError::Empty {
                at: Location::default(),
            }
            .into());
        }
        Ok(Parsed::Done(Box::new(self.b.finish())))
    }
}

fn too_long(line_no: u64) -> TxnError {
    HistoryError::syntax(
        Some(line_no),
        format!(
            "line is longer than the {MAX_LINE_BYTES}-byte cap (1 MiB); one op per line is \
             expected. Is this really a JSONL history?"
        ),
    )
    .into()
}

/// Read a whole JSONL history held in memory.
pub(crate) fn read(bytes: &[u8], model: TxnModel, budget: Limits) -> Result<Parsed, TxnError> {
    let mut l = Lines {
        b: Builder::new(model),
        position: 0,
        line_no: 0,
        memory_limit: budget.memory,
        deadline: budget.deadline,
    };
    if let Some(reason) = l.feed(bytes)? {
        return Ok(Parsed::OverBudget(reason));
    }
    l.finish()
}

/// Read a JSONL history from a stream, a few MiB at a time (the file is never held whole).
pub(crate) fn read_stream<R: Read>(
    r: R,
    model: TxnModel,
    budget: Limits,
) -> Result<Parsed, TxnError> {
    read_chunked(r, model, budget, CHUNK)
}

/// [`read_stream`] with a given chunk size (tests use tiny ones).
pub(crate) fn read_chunked<R: Read>(
    mut r: R,
    model: TxnModel,
    budget: Limits,
    chunk: usize,
) -> Result<Parsed, TxnError> {
    let mut l = Lines {
        b: Builder::new(model),
        position: 0,
        line_no: 0,
        memory_limit: budget.memory,
        deadline: budget.deadline,
    };
    let mut buf = vec![0u8; chunk.max(1)];
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            if buf.len() > MAX_LINE_BYTES + chunk {
                return Err(too_long(l.line_no + 1));
            }
            buf.resize(buf.len() * 2, 0);
        }
        let n = match r.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(
                    HistoryError::syntax(Some(l.line_no + 1), format!("cannot read: {e}")).into(),
                )
            }
        };
        filled += n;
        let eof = n == 0;
        let complete = if eof {
            filled
        } else {
            match memchr::memrchr(b'\n', &buf[..filled]) {
                Some(i) => i + 1,
                None => continue,
            }
        };
        if let Some(reason) = l.feed(&buf[..complete])? {
            return Ok(Parsed::OverBudget(reason));
        }
        buf.copy_within(complete..filled, 0);
        filled -= complete;
        if eof {
            return l.finish();
        }
    }
}

/// Read one op into the builder.
fn op(b: &mut Builder, line: &[u8], position: u64, line_no: u64) -> Result<(), TxnError> {
    let walked = std::str::from_utf8(line)
        .map_err(|_| Odd)
        .and_then(|text| fields(b, text));
    let fields = match walked {
        Ok(f) => f,
        // The slow path either explains what is wrong or reads what the scanner would not.
        Err(Odd) => {
            b.clear_scratch();
            return slow(b, line, position, line_no);
        }
    };
    let malformed = |message: String| -> TxnError {
        HistoryError::Malformed {
            at: Location::line(line_no),
            index: position,
            message,
        }
        .into()
    };
    let index = fields.index.unwrap_or(position);
    if index != position {
        return Err(malformed(format!(
            "index is {index} but the op is at position {position}; indices must count ops \
             from 0 in file order (or be omitted)"
        )));
    }
    let Process::Client(p) = fields.process else {
        return Ok(());
    };
    let bad = |message: String| TxnError::BadOp {
        index,
        line: Some(line_no),
        message,
    };
    if fields.f != "txn" {
        b.clear_scratch();
        return Err(bad(not_txn(fields.f, b.model())));
    }
    let results = fields.kind == OpType::Ok;
    if matches!(fields.kind, OpType::Invoke | OpType::Ok) {
        let parsed = match fields.value {
            ValueField::Pushed => Ok(()),
            ValueField::Absent => Err(Odd),
            ValueField::Later(v) => mops(b, &mut Scanner::new(v), results).and_then(|_| end(v)),
        };
        if parsed.is_err() {
            b.clear_scratch();
            return slow(b, line, position, line_no);
        }
    } else {
        b.clear_scratch();
    }
    let r = match fields.kind {
        OpType::Invoke => b.invoke(index, p, fields.time),
        kind => b.complete(index, p, kind, fields.time),
    };
    r.map_err(malformed)
}

/// The slow path for one line: `serde_json` into an op, then the value path.
fn slow(b: &mut Builder, line: &[u8], position: u64, line_no: u64) -> Result<(), TxnError> {
    let op = parse_line(line, position).map_err(|m| HistoryError::syntax(Some(line_no), m))?;
    if op.index != position {
        return Err(HistoryError::Malformed {
            at: Location::line(line_no),
            index: position,
            message: format!(
                "index is {} but the op is at position {position}; indices must count ops \
                 from 0 in file order (or be omitted)",
                op.index
            ),
        }
        .into());
    }
    super::from_history::feed(b, std::slice::from_ref(&op)).map_err(|e| match e {
        Feed::Rule { index, message } => HistoryError::Malformed {
            at: Location::line(line_no),
            index,
            message,
        }
        .into(),
        Feed::Model { index, message } => TxnError::BadOp {
            index,
            line: Some(line_no),
            message,
        },
    })
}
