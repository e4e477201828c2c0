//! A minimal JSON scanner over one line's bytes, for the fast path: enough to walk an op object,
//! skip fields it does not need, and read scalars without allocating. Anything unusual (string
//! escapes, malformed input) is reported as `Err(Odd)` and the caller falls back to
//! `serde_json`, so the fast path never accepts or rejects differently from the slow one.

/// The scanner met something it does not handle itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Odd;

/// A scalar token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Token<'a> {
    /// A string without escapes (contents, validated UTF-8).
    Str(&'a str),
    /// An integer written plainly (no leading zeros, no `-0`, fits `i64`).
    Int(i64),
    /// Any other number's text.
    Num(&'a [u8]),
    True,
    False,
    Null,
}

/// A cursor into one line, already validated as UTF-8 (so strings are sliced, not re-checked).
pub(crate) struct Scanner<'a> {
    s: &'a str,
    pub b: &'a [u8],
    pub i: usize,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `s`.
    pub(crate) fn new(s: &'a str) -> Self {
        Scanner {
            s,
            b: s.as_bytes(),
            i: 0,
        }
    }

    #[inline]
    pub(crate) fn ws(&mut self) {
        while let Some(c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    /// The next non-blank byte, not consumed.
    #[inline]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    /// Consume `c` (after blanks) or fail.
    #[inline]
    pub(crate) fn eat(&mut self, c: u8) -> Result<(), Odd> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(Odd)
        }
    }

    /// Consume `c` if it is next.
    #[inline]
    pub(crate) fn eat_if(&mut self, c: u8) -> bool {
        self.eat(c).is_ok()
    }

    /// A string without escapes.
    pub(crate) fn string(&mut self) -> Result<&'a str, Odd> {
        self.eat(b'"')?;
        let start = self.i;
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b'"' => {
                    let s = self.s.get(start..self.i).ok_or(Odd)?;
                    self.i += 1;
                    return Ok(s);
                }
                b'\\' => return Err(Odd),
                c if c < 0x20 => return Err(Odd),
                _ => self.i += 1,
            }
        }
        Err(Odd)
    }

    /// One scalar.
    pub(crate) fn scalar(&mut self) -> Result<Token<'a>, Odd> {
        match self.peek().ok_or(Odd)? {
            b'"' => self.string().map(Token::Str),
            b't' => self.word(b"true").map(|_| Token::True),
            b'f' => self.word(b"false").map(|_| Token::False),
            b'n' => self.word(b"null").map(|_| Token::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Odd),
        }
    }

    fn word(&mut self, w: &[u8]) -> Result<(), Odd> {
        if self.b[self.i..].starts_with(w) {
            self.i += w.len();
            Ok(())
        } else {
            Err(Odd)
        }
    }

    /// A number: plain integers are parsed on the way; anything else is returned as text
    /// (validated loosely; `serde_json` re-parses it).
    fn number(&mut self) -> Result<Token<'a>, Odd> {
        let start = self.i;
        let neg = self.b.get(self.i) == Some(&b'-');
        if neg {
            self.i += 1;
        }
        let digits = self.i;
        let mut v: u64 = 0;
        let mut fits = true;
        while let Some(&c) = self.b.get(self.i) {
            if !c.is_ascii_digit() {
                break;
            }
            match v
                .checked_mul(10)
                .and_then(|x| x.checked_add((c - b'0') as u64))
            {
                Some(x) => v = x,
                None => fits = false,
            }
            self.i += 1;
        }
        let n = self.i - digits;
        let plain = n > 0 && fits && !(n > 1 && self.b[digits] == b'0') && !(neg && v == 0);
        let more = matches!(self.b.get(self.i), Some(b'.' | b'e' | b'E' | b'+' | b'-'));
        if plain && !more {
            let i = if neg {
                0i64.checked_sub_unsigned(v)
            } else {
                i64::try_from(v).ok()
            };
            if let Some(i) = i {
                return Ok(Token::Int(i));
            }
        }
        while let Some(&c) = self.b.get(self.i) {
            if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E') {
                self.i += 1;
            } else {
                break;
            }
        }
        let text = &self.b[start..self.i];
        // Checked here so that no malformed number passes the fast path unnoticed.
        if self.i == start || serde_json::from_slice::<serde_json::Number>(text).is_err() {
            Err(Odd)
        } else {
            Ok(Token::Num(text))
        }
    }

    /// Skip any value (nested arrays and objects included).
    pub(crate) fn skip(&mut self) -> Result<(), Odd> {
        match self.peek().ok_or(Odd)? {
            b'[' => {
                self.i += 1;
                if self.eat_if(b']') {
                    return Ok(());
                }
                loop {
                    self.skip()?;
                    if self.eat_if(b']') {
                        return Ok(());
                    }
                    self.eat(b',')?;
                }
            }
            b'{' => {
                self.i += 1;
                if self.eat_if(b'}') {
                    return Ok(());
                }
                loop {
                    self.string()?;
                    self.eat(b':')?;
                    self.skip()?;
                    if self.eat_if(b'}') {
                        return Ok(());
                    }
                    self.eat(b',')?;
                }
            }
            _ => self.scalar().map(|_| ()),
        }
    }

    /// True when only blanks remain.
    pub(crate) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }
}

/// An unsigned integer token, if it is one.
pub(crate) fn as_u64(n: &[u8]) -> Option<u64> {
    if n.is_empty()
        || n.len() > 20
        || !n.iter().all(u8::is_ascii_digit)
        || (n.len() > 1 && n[0] == b'0')
    {
        return None;
    }
    n.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add((d - b'0') as u64)
    })
}

/// A signed integer token, if it is one.
pub(crate) fn as_i64(n: &[u8]) -> Option<i64> {
    match n.split_first() {
        Some((b'-', rest)) if rest != b"0" => {
            as_u64(rest).and_then(|u| i64::try_from(u).ok()).map(|u| -u)
        }
        _ => as_u64(n).and_then(|u| i64::try_from(u).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_and_skips() {
        let mut s = Scanner::new(r#" {"a": [1, {"b": null}], "c": "x"} "#);
        s.skip().expect("object");
        assert!(s.at_end());
        let mut s = Scanner::new(r#""esc\"aped""#);
        assert_eq!(s.string(), Err(Odd));
        fn num(t: &str) -> Result<Token<'_>, Odd> {
            Scanner::new(t).scalar()
        }
        assert_eq!(num("-12"), Ok(Token::Int(-12)));
        assert_eq!(num("9223372036854775807"), Ok(Token::Int(i64::MAX)));
        assert_eq!(num("-9223372036854775808"), Ok(Token::Int(i64::MIN)));
        assert_eq!(
            num("9223372036854775808"),
            Ok(Token::Num(b"9223372036854775808"))
        );
        assert_eq!(num("-0"), Ok(Token::Num(b"-0")));
        assert_eq!(num("012"), Err(Odd));
        assert_eq!(num("1.5e3"), Ok(Token::Num(b"1.5e3")));
        assert_eq!(as_i64(b"-12"), Some(-12));
        assert_eq!(as_i64(b"012"), None);
        assert_eq!(as_i64(b"-0"), None);
        assert_eq!(as_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(as_u64(b"18446744073709551616"), None);
    }
}
