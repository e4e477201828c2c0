//! Walking one JSONL op line for the fast path: the op's fields without allocating, and its
//! micro-ops straight into the builder when `type` and `f` come first (as they do in files
//! faultline writes). Anything unusual returns `Err(Odd)` and the line goes to `serde_json`.

use serde_json::Number;

use super::atom::Atom;
use super::builder::Builder;
use super::scan::{as_i64, as_u64, Odd, Scanner, Token};
use super::txns::MopKind;
use super::TxnModel;
use crate::history::{OpType, Process};

/// The fields of one op line the checker needs.
pub(crate) struct Line<'a> {
    pub index: Option<u64>,
    pub time: Option<i64>,
    pub process: Process,
    pub kind: OpType,
    pub f: &'a str,
    pub value: ValueField<'a>,
}

/// Where the `value` field stands after the line was walked.
pub(crate) enum ValueField<'a> {
    /// No `value` field.
    Absent,
    /// Its micro-ops are already in the builder (type and f came first, as usual).
    Pushed,
    /// Its text, to parse once type and f are known.
    Later(&'a str),
}

/// True when only blanks follow a value's text.
pub(crate) fn end(v: &str) -> Result<(), Odd> {
    let mut s = Scanner::new(v);
    s.skip()?;
    if s.at_end() {
        Ok(())
    } else {
        Err(Odd)
    }
}

/// Walk one op object; when `type` and `f` come before `value`, its micro-ops go straight into
/// the builder.
pub(crate) fn fields<'a>(b: &mut Builder, line: &'a str) -> Result<Line<'a>, Odd> {
    let mut s = Scanner::new(line);
    s.eat(b'{')?;
    let (mut index, mut time, mut process, mut kind, mut f) = (None, None, None, None, None);
    let mut value = ValueField::Absent;
    // serde_json rejects a repeated field; so does the scanner (the slow path explains).
    let mut seen = 0u16;
    if !s.eat_if(b'}') {
        loop {
            let key = s.string()?;
            s.eat(b':')?;
            let bit = match key {
                "index" => 1,
                "time" => 2,
                "process" => 4,
                "type" => 8,
                "f" => 16,
                "value" => 32,
                "key" => 64,
                "node" => 128,
                "error" => 256,
                _ => 0,
            };
            if seen & bit != 0 {
                return Err(Odd);
            }
            seen |= bit;
            match key {
                "index" => index = Some(uint(&mut s)?),
                "time" => {
                    time = match s.scalar()? {
                        Token::Null => None,
                        Token::Int(i) => Some(i),
                        Token::Num(n) => Some(as_i64(n).ok_or(Odd)?),
                        _ => return Err(Odd),
                    }
                }
                "process" => {
                    process = Some(match s.scalar()? {
                        Token::Int(i) => Process::Client(u64::try_from(i).map_err(|_| Odd)?),
                        Token::Num(n) => Process::Client(as_u64(n).ok_or(Odd)?),
                        Token::Str("nemesis") => Process::Nemesis,
                        _ => return Err(Odd),
                    })
                }
                "type" => {
                    kind = Some(match s.string()? {
                        "invoke" => OpType::Invoke,
                        "ok" => OpType::Ok,
                        "fail" => OpType::Fail,
                        "info" => OpType::Info,
                        _ => return Err(Odd),
                    })
                }
                "f" => f = Some(s.string()?),
                "value" => {
                    s.ws();
                    let start = s.i;
                    let client = matches!(process, Some(Process::Client(_)));
                    match kind {
                        Some(k @ (OpType::Invoke | OpType::Ok)) if client && f == Some("txn") => {
                            mops(b, &mut s, k == OpType::Ok)?;
                            value = ValueField::Pushed;
                        }
                        _ => {
                            s.skip()?;
                            value = ValueField::Later(&line[start..s.i]);
                        }
                    }
                }
                // These must be strings (or null) for serde too.
                "key" | "node" | "error" => match s.scalar()? {
                    Token::Str(_) | Token::Null => {}
                    _ => return Err(Odd),
                },
                _ => s.skip()?,
            }
            if s.eat_if(b'}') {
                break;
            }
            s.eat(b',')?;
        }
    }
    if !s.at_end() {
        return Err(Odd);
    }
    Ok(Line {
        index,
        time,
        process: process.ok_or(Odd)?,
        kind: kind.ok_or(Odd)?,
        f: f.ok_or(Odd)?,
        value,
    })
}

fn uint(s: &mut Scanner) -> Result<u64, Odd> {
    match s.scalar()? {
        Token::Int(i) => u64::try_from(i).map_err(|_| Odd),
        Token::Num(n) => as_u64(n).ok_or(Odd),
        _ => Err(Odd),
    }
}

/// Push the micro-ops of a `value` field; `Err` means "let the slow path explain".
pub(crate) fn mops(b: &mut Builder, s: &mut Scanner, results: bool) -> Result<(), Odd> {
    s.eat(b'[')?;
    if s.eat_if(b']') {
        return Ok(());
    }
    loop {
        mop(b, s, results)?;
        if s.eat_if(b']') {
            return Ok(());
        }
        s.eat(b',')?;
    }
}

fn mop(b: &mut Builder, s: &mut Scanner, results: bool) -> Result<(), Odd> {
    s.eat(b'[')?;
    let kind = b.kind(s.string()?).map_err(|_| Odd)?;
    s.eat(b',')?;
    let key = atom(b, s.scalar()?)?;
    let has_arg = s.eat_if(b',');
    match kind {
        MopKind::Append | MopKind::Write => {
            if !has_arg {
                return Err(Odd);
            }
            let t = s.scalar()?;
            if kind == MopKind::Write && t == Token::Null {
                return Err(Odd);
            }
            let v = atom(b, t)?;
            b.write(kind, key, v);
        }
        MopKind::Read if !results => {
            if has_arg {
                s.skip()?;
            }
            b.unknown_read(key);
        }
        MopKind::Read => match b.model() {
            TxnModel::ListAppend => {
                b.list_read(key);
                if has_arg && !s.eat_if_null() {
                    s.eat(b'[')?;
                    if !s.eat_if(b']') {
                        loop {
                            let e = atom(b, s.scalar()?)?;
                            b.element(e);
                            if s.eat_if(b']') {
                                break;
                            }
                            s.eat(b',')?;
                        }
                    }
                }
            }
            TxnModel::RwRegister => {
                let v = if has_arg {
                    atom(b, s.scalar()?)?
                } else {
                    Atom::NULL
                };
                b.register_read(key, v);
            }
        },
    }
    s.eat(b']')
}

fn atom(b: &mut Builder, t: Token) -> Result<Atom, Odd> {
    Ok(match t {
        Token::Null => Atom::NULL,
        Token::True => Atom::bool(true),
        Token::False => Atom::bool(false),
        Token::Str(s) => b.atoms().string(s),
        Token::Int(i) => match Atom::int(i) {
            Some(a) => a,
            None => b.atoms().number(&Number::from(i)),
        },
        Token::Num(n) => match as_i64(n).and_then(Atom::int) {
            Some(a) => a,
            None => {
                let num: Number = serde_json::from_slice(n).map_err(|_| Odd)?;
                b.atoms().number(&num)
            }
        },
    })
}

impl Scanner<'_> {
    /// Consume `null` if it is next.
    fn eat_if_null(&mut self) -> bool {
        if self.peek() == Some(b'n') && self.b[self.i..].starts_with(b"null") {
            self.i += 4;
            true
        } else {
            false
        }
    }
}
