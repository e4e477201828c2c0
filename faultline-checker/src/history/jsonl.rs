//! JSON Lines read/write (DESIGN.md, "History format"): one op object per line, file order is
//! real-time order. Reading is streaming (one reused line buffer), caps the line length, skips
//! blank lines and reports the line number and the field that is wrong.

use std::io::{BufRead, ErrorKind, Write};

use serde::Deserialize;
use serde_json::Value;

use super::{History, HistoryError, Key, Op, OpType, Process};

/// The longest line accepted by default (1 MiB). A longer line is an error, not an allocation.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Wire form of one line: like [`Op`], but `index` may be omitted (it then defaults to the op's
/// position). Parsing into this directly is the fast path; errors are diagnosed separately.
#[derive(Deserialize)]
struct WireOp {
    #[serde(default)]
    index: Option<u64>,
    #[serde(default)]
    time: Option<i64>,
    process: Process,
    #[serde(rename = "type")]
    kind: OpType,
    f: String,
    #[serde(default)]
    key: Option<Key>,
    #[serde(default)]
    value: Value,
    #[serde(default)]
    node: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// Read a JSONL history, capping lines at [`MAX_LINE_BYTES`]. Errors carry the line number but no
/// file name (see [`HistoryError::in_file`]).
pub fn read_jsonl<R: BufRead>(reader: R) -> Result<History, HistoryError> {
    read_jsonl_with_lines(reader, MAX_LINE_BYTES).map(|(h, _)| h)
}

/// Read a JSONL history with a line-length cap; also returns the 1-based line of each op.
pub fn read_jsonl_with_lines<R: BufRead>(
    mut reader: R,
    max_line: usize,
) -> Result<(History, Vec<u64>), HistoryError> {
    let mut buf = Vec::with_capacity(256);
    let mut ops = Vec::new();
    let mut lines = Vec::new();
    let mut line_no = 0u64;
    loop {
        line_no += 1;
        match next_line(&mut reader, &mut buf, max_line) {
            Err(e) => {
                return Err(HistoryError::syntax(
                    Some(line_no),
                    format!("cannot read: {e}"),
                ))
            }
            Ok(Line::Eof) => break,
            Ok(Line::TooLong) => {
                return Err(HistoryError::syntax(
                    Some(line_no),
                    format!(
                        "line is longer than the {max_line}-byte cap ({} MiB); one op per line \
                         is expected. Is this really a JSONL history?",
                        max_line as f64 / (1 << 20) as f64
                    ),
                ))
            }
            Ok(Line::Read) => {}
        }
        let line = trim_ascii(&buf);
        if line.is_empty() {
            continue;
        }
        let position = ops.len() as u64;
        let op = parse_line(line, position).map_err(|m| {
            let m = if position == 0 && line.first() == Some(&b'[') {
                format!(
                    "{m}; this looks like a JSON array, but histories are JSON Lines (one op \
                     object per line), or EDN (pass --format edn)"
                )
            } else {
                m
            };
            HistoryError::syntax(Some(line_no), m)
        })?;
        ops.push(op);
        lines.push(line_no);
    }
    if ops.is_empty() {
        return Err(HistoryError::Empty {
            at: Default::default(),
        });
    }
    Ok((History { ops }, lines))
}

/// Parse one non-blank line into an op at `position`.
pub(crate) fn parse_line(line: &[u8], position: u64) -> Result<Op, String> {
    match serde_json::from_slice::<WireOp>(line) {
        Ok(w) => Ok(Op {
            index: w.index.unwrap_or(position),
            time: w.time,
            process: w.process,
            kind: w.kind,
            f: w.f,
            key: w.key,
            value: w.value,
            node: w.node,
            error: w.error,
        }),
        Err(e) => Err(diagnose(line, &e)),
    }
}

/// Say precisely what is wrong with a line the fast path rejected.
pub(crate) fn diagnose(line: &[u8], err: &serde_json::Error) -> String {
    let text = match std::str::from_utf8(line) {
        Ok(t) => t,
        Err(e) => {
            return format!(
                "not valid UTF-8 at byte {} of the line (is this a binary file?)",
                e.valid_up_to() + 1
            )
        }
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return format!("bad JSON at column {}: {}", e.column(), strip_position(&e)),
    };
    let Value::Object(map) = &value else {
        return format!(
            "expected a JSON object (one op per line), got {}",
            kind_of(&value)
        );
    };
    let field = |name: &str| map.get(name).filter(|v| !v.is_null());
    for name in ["process", "type", "f"] {
        if field(name).is_none() {
            return format!("missing field \"{name}\"");
        }
    }
    if let Some(v) = field("index") {
        if v.as_u64().is_none() {
            return wrong("index", "a non-negative integer", v);
        }
    }
    if let Some(v) = field("time") {
        if v.as_i64().is_none() {
            return wrong("time", "an integer (nanoseconds)", v);
        }
    }
    if let Some(v) = field("process") {
        if v.as_u64().is_none() && v.as_str() != Some("nemesis") {
            return wrong("process", "a non-negative integer or \"nemesis\"", v);
        }
    }
    if let Some(v) = field("type") {
        match v.as_str() {
            Some("invoke" | "ok" | "fail" | "info") => {}
            Some(other) => {
                return format!(
                    "unknown type {other:?}; expected \"invoke\", \"ok\", \"fail\" or \"info\""
                )
            }
            None => return wrong("type", "a string", v),
        }
    }
    if let Some(v) = field("key") {
        if v.is_array() || v.is_object() {
            return wrong("key", "a string, number or boolean", v);
        }
    }
    for name in ["f", "node", "error"] {
        if let Some(v) = field(name) {
            if !v.is_string() {
                return wrong(name, "a string", v);
            }
        }
    }
    format!("bad op: {}", strip_position(err))
}

fn wrong(field: &str, expected: &str, got: &Value) -> String {
    let mut shown = got.to_string();
    if shown.len() > 40 {
        let cut = (0..=37)
            .rev()
            .find(|&i| shown.is_char_boundary(i))
            .unwrap_or(0);
        shown.truncate(cut);
        shown.push_str("...");
    }
    format!("field \"{field}\" must be {expected}, got {shown}")
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// serde_json's message without its " at line L column C" suffix (we print our own position).
fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

pub(crate) fn trim_ascii(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    b
}

enum Line {
    Read,
    TooLong,
    Eof,
}

/// Read the next line (without its `\n`) into `buf`, refusing to buffer more than `cap` bytes.
fn next_line<R: BufRead>(r: &mut R, buf: &mut Vec<u8>, cap: usize) -> std::io::Result<Line> {
    buf.clear();
    let mut any = false;
    loop {
        let available = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(if any { Line::Read } else { Line::Eof });
        }
        any = true;
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i, true),
            None => (available.len(), false),
        };
        if buf.len() + take > cap {
            return Ok(Line::TooLong);
        }
        buf.extend_from_slice(&available[..take]);
        r.consume(if done { take + 1 } else { take });
        if done {
            return Ok(Line::Read);
        }
    }
}

/// Write `history` as JSONL, one op per line.
pub fn write_jsonl<W: Write>(history: &History, writer: W) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(writer);
    for op in &history.ops {
        serde_json::to_writer(&mut w, op)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

#[cfg(test)]
#[path = "jsonl_tests.rs"]
mod tests;
