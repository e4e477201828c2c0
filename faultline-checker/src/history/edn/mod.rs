//! Jepsen / Knossos EDN import: turns a history written as a top-level vector, a list, or a bare
//! stream of op maps (modern Jepsen `history.edn`) into a [`History`].
//!
//! Mapping (see `shared/fixtures/knossos/README.md`): keywords become strings without the colon,
//! nil becomes null, vectors/lists/sets become arrays, maps become objects. `:process :nemesis` is
//! [`Process::Nemesis`]; a missing `:value` is null; a missing `:index` is the op's position in
//! the file (nemesis ops included), a given one is kept as the op's identifier (gaps allowed);
//! `:error` and `:node` are kept as compact strings; `:key` keeps its type (numbers stay numbers,
//! keywords and strings become string keys). Other keys are ignored.

mod reader;
#[cfg(test)]
mod tests;
mod value;

use serde_json::Value;

use super::{History, HistoryError, Key, Op, OpType, Process};
use reader::{ParseError, Reader};
use value::Edn;

/// Parse an EDN history. Errors carry the line (but no file name: see [`HistoryError::in_file`]).
pub fn parse_edn(text: &str) -> Result<History, HistoryError> {
    parse_edn_with_lines(text).map(|(history, _)| history)
}

/// Parse an EDN history and return, with it, the 1-based line on which each op starts.
pub(crate) fn parse_edn_with_lines(text: &str) -> Result<(History, Vec<u64>), HistoryError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut r = Reader::new(text);
    let mut lines = LineCounter::default();
    let mut ops = Vec::new();
    let mut op_lines = Vec::new();
    let fail = |r: &Reader, (pos, msg): ParseError| HistoryError::syntax(Some(r.line_of(pos)), msg);

    let close = match r.peek().map_err(|e| fail(&r, e))? {
        Some(b'[') => Some(b']'),
        Some(b'(') => Some(b')'),
        _ => None,
    };
    let open_pos = r.pos();
    if close.is_some() {
        r.bump();
    }
    loop {
        let next = r.peek().map_err(|e| fail(&r, e))?;
        match (next, close) {
            (None, None) => break,
            (None, Some(c)) => {
                let open = if c == b']' { '[' } else { '(' };
                let msg = format!("unbalanced EDN: `{open}` is never closed");
                return Err(fail(&r, (open_pos, msg)));
            }
            (Some(b), Some(c)) if b == c => {
                r.bump();
                if let Some(b) = r.peek().map_err(|e| fail(&r, e))? {
                    let msg = format!(
                        "unexpected `{}` after the end of the history collection",
                        b as char
                    );
                    return Err(fail(&r, (r.pos(), msg)));
                }
                break;
            }
            _ => {}
        }
        let start = r.pos();
        let line = lines.line_at(text.as_bytes(), start);
        let form = r.read().map_err(|e| fail(&r, e))?;
        let op =
            to_op(&form, ops.len() as u64).map_err(|msg| HistoryError::syntax(Some(line), msg))?;
        ops.push(op);
        op_lines.push(line);
    }
    if ops.is_empty() {
        return Err(HistoryError::Empty {
            at: Default::default(),
        });
    }
    Ok((History { ops }, op_lines))
}

/// Line numbers of increasing byte offsets in O(total length).
#[derive(Default)]
struct LineCounter {
    pos: usize,
    line: u64,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], pos: usize) -> u64 {
        let end = pos.min(bytes.len());
        if end >= self.pos {
            self.line += bytes[self.pos..end].iter().filter(|&&b| b == b'\n').count() as u64;
            self.pos = end;
        }
        self.line + 1
    }
}

/// Turn one op map into an [`Op`]; `position` is its index in the file.
fn to_op(form: &Edn, position: u64) -> Result<Op, String> {
    let Edn::Map(entries) = form.untagged() else {
        return Err(format!(
            "expected an op map like {{:process 0, :type :invoke, :f :read, :value nil}}, got {}",
            form.describe()
        ));
    };
    let (mut process, mut kind, mut f) = (None, None, None);
    let mut op = Op {
        index: position,
        time: None,
        process: Process::Nemesis,
        kind: OpType::Info,
        f: String::new(),
        key: None,
        value: Value::Null,
        node: None,
        error: None,
    };
    for (k, v) in entries {
        let Some(name) = k.as_name() else { continue };
        let v = v.untagged();
        match name {
            "process" => process = Some(to_process(v)?),
            "type" => kind = Some(to_type(v)?),
            "f" => {
                f = Some(
                    v.as_name()
                        .ok_or_else(|| format!(":f must be a keyword, got {}", v.describe()))?
                        .to_string(),
                )
            }
            "value" => op.value = v.to_json(),
            "index" => match v {
                Edn::Int(i) if *i >= 0 => op.index = *i as u64,
                Edn::Nil => {}
                _ => {
                    return Err(format!(
                        ":index must be a non-negative integer, got {}",
                        v.describe()
                    ))
                }
            },
            "time" => match v {
                Edn::Int(t) => op.time = Some(*t),
                Edn::Nil => {}
                _ => {
                    return Err(format!(
                        ":time must be an integer (nanoseconds), got {}",
                        v.describe()
                    ))
                }
            },
            "error" => op.error = stringify(v),
            "key" => op.key = to_key(v)?,
            "node" => op.node = stringify(v),
            _ => {}
        }
    }
    op.process = process.ok_or("op map has no :process")?;
    op.kind = kind.ok_or("op map has no :type (expected :invoke, :ok, :fail or :info)")?;
    op.f = f.ok_or("op map has no :f")?;
    Ok(op)
}

fn to_process(v: &Edn) -> Result<Process, String> {
    match v {
        Edn::Int(p) if *p >= 0 => Ok(Process::Client(*p as u64)),
        v if v.as_name() == Some("nemesis") => Ok(Process::Nemesis),
        _ => Err(format!(
            ":process must be a non-negative integer or :nemesis, got {}",
            v.describe()
        )),
    }
}

fn to_type(v: &Edn) -> Result<OpType, String> {
    match v.as_name() {
        Some("invoke") => Ok(OpType::Invoke),
        Some("ok") => Ok(OpType::Ok),
        Some("fail") => Ok(OpType::Fail),
        Some("info") => Ok(OpType::Info),
        _ => Err(format!(
            "unknown :type {}; expected :invoke, :ok, :fail or :info",
            v.describe()
        )),
    }
}

/// A `:key`: a scalar that keeps its type; nil is no key.
fn to_key(v: &Edn) -> Result<Option<Key>, String> {
    match v {
        Edn::Str(_) | Edn::Keyword(_) | Edn::Symbol(_) | Edn::Char(_) => {
            Ok(v.to_json().as_str().map(Key::from))
        }
        _ => Key::from_json(&v.to_json()).map_err(|_| {
            format!(
                ":key must be a keyword, string, number or boolean, got {}",
                v.describe()
            )
        }),
    }
}

/// A compact string for `:error` and `:node`: names as-is, nil as absent, anything else
/// as compact JSON (`["not-found","lease not found"]`).
fn stringify(v: &Edn) -> Option<String> {
    match v {
        Edn::Nil => None,
        Edn::Int(i) => Some(i.to_string()),
        v => Some(match v.as_name() {
            Some(name) => name.to_string(),
            None => v.to_json().to_string(),
        }),
    }
}
