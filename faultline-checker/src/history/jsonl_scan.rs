//! A scanner for the common shape of a JSONL op line, several times faster than generic
//! deserialisation: known field names without escapes, ASCII strings without escapes, plain
//! integers, and a `value` whose extent is found by bracket matching (the caller validates each
//! distinct value text once). Anything else (escapes, non-ASCII, floats, unknown or repeated
//! fields, bad syntax) returns `None` and the line goes through serde, which gives the same
//! result or the exact error message. Tested against that path on random lines.

use std::borrow::Cow;

use serde_json::Number;

use super::key::KeyRef;
use super::{OpType, Process};

/// One op line, as scanned. `value` is the raw JSON text of a non-null value.
#[derive(Debug, PartialEq)]
pub(crate) struct Scanned<'a> {
    pub index: Option<u64>,
    pub time: Option<i64>,
    pub process: Process,
    pub kind: OpType,
    pub f: Cow<'a, str>,
    pub key: Option<KeyRef<'a>>,
    pub value: Option<&'a [u8]>,
    pub node: Option<Cow<'a, str>>,
    pub error: Option<Cow<'a, str>>,
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A string of printable ASCII without escapes (the opening quote is next).
    fn plain_str(&mut self) -> Option<&'a str> {
        // Printable ASCII is valid UTF-8.
        std::str::from_utf8(self.plain_bytes()?).ok()
    }

    /// The bytes of a [`Self::plain_str`].
    fn plain_bytes(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' | 0..=0x1f | 0x80..=0xff => return None,
                _ => self.i += 1,
            }
        }
        let s = &self.b[start..self.i];
        self.i += 1;
        Some(s)
    }

    /// A JSON integer without sign, fraction or exponent; `None` otherwise (or on overflow).
    fn uint(&mut self) -> Option<u64> {
        self.ws();
        let start = self.i;
        let mut n: u64 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            self.i += 1;
        }
        let digits = self.i - start;
        let leading_zero = digits > 1 && self.b[start] == b'0';
        let more = matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        (digits > 0 && !leading_zero && !more).then_some(n)
    }

    fn int(&mut self) -> Option<i64> {
        self.ws();
        if self.peek()? == b'-' {
            self.i += 1;
            // serde_json reads `-0` as the float -0.0: leave it to serde.
            let n = self.uint().filter(|&n| n > 0)?;
            return 0i64.checked_sub_unsigned(n);
        }
        i64::try_from(self.uint()?).ok()
    }

    fn null(&mut self) -> bool {
        self.ws();
        if self.b[self.i..].starts_with(b"null") {
            self.i += 4;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    /// The extent of one JSON value: a string (escapes skipped), a bracketed array or object
    /// (brackets matched, strings skipped), or a scalar up to the next delimiter. The syntax
    /// inside is not checked here.
    fn raw_value(&mut self) -> Option<&'a [u8]> {
        self.ws();
        let start = self.i;
        match self.peek()? {
            b'"' => self.skip_string()?,
            b'[' | b'{' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.skip_string()?;
                            continue;
                        }
                        b'[' | b'{' => depth += 1,
                        b']' | b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while !matches!(
                    self.peek()?,
                    b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n'
                ) {
                    self.i += 1;
                }
            }
        }
        let raw = &self.b[start..self.i];
        (!raw.is_empty()).then_some(raw)
    }

    fn skip_string(&mut self) -> Option<()> {
        self.i += 1;
        loop {
            match self.peek()? {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                _ => self.i += 1,
            }
        }
    }
}

/// Scan one (non-blank) line; `None` if it is not of the common shape.
pub(crate) fn scan(line: &[u8]) -> Option<Scanned<'_>> {
    let mut c = Cursor { b: line, i: 0 };
    c.eat(b'{')?;
    let (mut index, mut time, mut process, mut kind, mut f) = (None, None, None, None, None);
    let (mut key, mut value, mut node, mut error) = (None, None, None, None);
    let mut seen = 0u16;
    loop {
        let name = c.plain_bytes()?;
        c.eat(b':')?;
        let bit = match name {
            b"index" => {
                index = if c.null() { None } else { Some(c.uint()?) };
                1
            }
            b"time" => {
                time = if c.null() { None } else { Some(c.int()?) };
                2
            }
            b"process" => {
                c.ws();
                process = Some(if c.peek()? == b'"' {
                    (c.plain_bytes()? == b"nemesis").then_some(Process::Nemesis)?
                } else {
                    Process::Client(c.uint()?)
                });
                4
            }
            b"type" => {
                kind = Some(match c.plain_bytes()? {
                    b"invoke" => OpType::Invoke,
                    b"ok" => OpType::Ok,
                    b"fail" => OpType::Fail,
                    b"info" => OpType::Info,
                    _ => return None,
                });
                8
            }
            b"f" => {
                f = Some(c.plain_str()?);
                16
            }
            b"key" => {
                key = scan_key(&mut c)?;
                32
            }
            b"value" => {
                value = if c.null() { None } else { Some(c.raw_value()?) };
                64
            }
            b"node" => {
                node = if c.null() { None } else { Some(c.plain_str()?) };
                128
            }
            b"error" => {
                error = if c.null() { None } else { Some(c.plain_str()?) };
                256
            }
            _ => return None,
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        c.ws();
        match c.peek()? {
            b',' => c.i += 1,
            b'}' => {
                c.i += 1;
                break;
            }
            _ => return None,
        }
    }
    c.ws();
    if c.i != line.len() {
        return None;
    }
    Some(Scanned {
        index,
        time,
        process: process?,
        kind: kind?,
        f: Cow::Borrowed(f?),
        key,
        value,
        node: node.map(Cow::Borrowed),
        error: error.map(Cow::Borrowed),
    })
}

/// `Some(None)` for null, `Some(Some(key))` for a plain string, integer or boolean key.
fn scan_key<'a>(c: &mut Cursor<'a>) -> Option<Option<KeyRef<'a>>> {
    c.ws();
    Some(match c.peek()? {
        b'"' => Some(KeyRef::Str(Cow::Borrowed(c.plain_str()?))),
        b'n' => c.null().then_some(None)?,
        b't' => c.literal(b"true").then_some(Some(KeyRef::Bool(true)))?,
        b'f' => c.literal(b"false").then_some(Some(KeyRef::Bool(false)))?,
        b'-' => Some(KeyRef::Num(Number::from(c.int()?))),
        _ => Some(KeyRef::Num(Number::from(c.uint()?))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_the_common_shape() {
        let s = scan(br#"{"index":3,"time":-5,"process":16,"type":"invoke","f":"cas","key":"k356","value":[2, "a,]"],"node":"n1"}"#)
            .expect("common shape");
        assert_eq!(s.index, Some(3));
        assert_eq!(s.time, Some(-5));
        assert_eq!(s.process, Process::Client(16));
        assert_eq!(s.kind, OpType::Invoke);
        assert_eq!(s.f, "cas");
        assert_eq!(s.node.as_deref(), Some("n1"));
        assert_eq!(s.key, Some(KeyRef::Str(Cow::Borrowed("k356"))));
        assert_eq!(s.value, Some(&br#"[2, "a,]"]"#[..]));
        let s = scan(
            br#"{ "process" : "nemesis" , "type":"info","f":"kill","value" : 12 , "key": 7 }"#,
        )
        .expect("spaces");
        assert_eq!(s.value, Some(&b"12"[..]));
        assert_eq!(s.key, Some(KeyRef::Num(7u64.into())));
    }

    #[test]
    fn leaves_the_unusual_to_serde() {
        for line in [
            r#"{"process":1,"type":"ok","f":"r\u0065ad"}"#,
            r#"{"process":1.0,"type":"ok","f":"read"}"#,
            r#"{"process":01,"type":"ok","f":"read"}"#,
            r#"{"process":1,"type":"ok","f":"read","key":2.5}"#,
            r#"{"process":1,"type":"ok","f":"read","extra":1}"#,
            r#"{"process":1,"type":"ok","f":"read","f":"write"}"#,
            r#"{"process":1,"type":"ok","f":"lé"}"#,
            r#"{"process":1,"type":"ok"}"#,
            r#"{"process":1,"type":"ok","f":"read"} x"#,
            r#"{"process":1,"type":"ok","f":"read","value":}"#,
            r#"{"process":18446744073709551616,"type":"ok","f":"read"}"#,
            r#"{"process":1,"type":"ok","f":"read","key":-0}"#,
            r#"{"process":1,"type":"ok","f":"read","time":-0}"#,
        ] {
            assert_eq!(scan(line.as_bytes()), None, "{line}");
        }
    }
}
