//! A small EDN reader: the subset Jepsen and Knossos histories use, and a little more (nil,
//! booleans, integers incl. `N`, floats incl. `M`, ratios, strings, chars, keywords, symbols,
//! vectors, lists, maps, sets, tagged literals, `#_` discards, `;` comments, commas as
//! whitespace). Works on bytes of an already-validated `&str`; every error carries a line number.

use super::value::Edn;

/// Deepest nesting accepted; deeper input is an error, not a stack overflow.
const MAX_DEPTH: usize = 200;

/// A syntax error: byte offset and message (the caller turns the offset into a line).
pub(crate) type ParseError = (usize, String);

/// A cursor over EDN text.
pub(crate) struct Reader<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

fn is_terminator(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t'
            | b'\n'
            | b'\r'
            | b','
            | 0x0c
            | b'('
            | b')'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'"'
            | b';'
    )
}

impl<'a> Reader<'a> {
    /// A reader at the start of `src`.
    pub(crate) fn new(src: &'a str) -> Self {
        Reader {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            depth: 0,
        }
    }

    /// Current byte offset.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The 1-based line of byte offset `pos`.
    pub(crate) fn line_of(&self, pos: usize) -> u64 {
        let end = pos.min(self.bytes.len());
        1 + self.bytes[..end].iter().filter(|&&b| b == b'\n').count() as u64
    }

    /// Skip whitespace, commas, `;` comments and `#_` discarded forms; return the next byte.
    pub(crate) fn peek(&mut self) -> Result<Option<u8>, ParseError> {
        loop {
            match self.bytes.get(self.pos) {
                None => return Ok(None),
                Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | 0x0c) => self.pos += 1,
                Some(b';') => {
                    while let Some(&b) = self.bytes.get(self.pos) {
                        if b == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                Some(b'#') if self.bytes.get(self.pos + 1) == Some(&b'_') => {
                    // `#_#_#_...` recurses: count it against the nesting limit.
                    self.enter(self.pos)?;
                    self.pos += 2;
                    self.read()?;
                    self.depth -= 1;
                }
                Some(&b) => return Ok(Some(b)),
            }
        }
    }

    /// Consume one byte (the caller has peeked it).
    pub(crate) fn bump(&mut self) {
        self.pos += 1;
    }

    /// Read one value; error at end of input.
    pub(crate) fn read(&mut self) -> Result<Edn, ParseError> {
        let Some(b) = self.peek()? else {
            return Err((self.pos, "unexpected end of input: expected a value".into()));
        };
        let start = self.pos;
        match b {
            b'"' => self.read_string().map(Edn::Str),
            b'[' => self.read_seq(b']').map(Edn::Vector),
            b'(' => self.read_seq(b')').map(Edn::List),
            b'{' => self.read_map(),
            b')' | b']' | b'}' => Err((
                start,
                format!(
                    "unbalanced EDN: unexpected `{}` with no matching opener",
                    b as char
                ),
            )),
            b'#' => self.read_dispatch(),
            b'\\' => self.read_char(),
            b':' => {
                let tok = self.token_tail();
                match tok.get(1..) {
                    Some(name) if !name.is_empty() => Ok(Edn::Keyword(name.to_string())),
                    _ => Err((start, "empty keyword `:`".into())),
                }
            }
            _ => {
                let tok = self.token_tail();
                if tok.is_empty() {
                    return Err((start, format!("unexpected character {:?}", b as char)));
                }
                Ok(atom(tok).ok_or_else(|| (start, format!("bad number `{tok}`")))?)
            }
        }
    }

    fn enter(&mut self, at: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err((at, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn read_seq(&mut self, close: u8) -> Result<Vec<Edn>, ParseError> {
        let open = self.pos;
        self.enter(open)?;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            match self.peek()? {
                None => return Err(unclosed(open, self.bytes[open])),
                Some(b) if b == close => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(items);
                }
                Some(b @ (b')' | b']' | b'}')) => {
                    return Err((
                        self.pos,
                        format!(
                            "unbalanced EDN: `{}` closes a `{}`",
                            b as char, self.bytes[open] as char
                        ),
                    ))
                }
                Some(_) => items.push(self.read()?),
            }
        }
    }

    fn read_map(&mut self) -> Result<Edn, ParseError> {
        let open = self.pos;
        let items = self.read_seq(b'}')?;
        if items.len() % 2 != 0 {
            return Err((
                open,
                "map has an odd number of forms (a key without a value)".into(),
            ));
        }
        let mut entries = Vec::with_capacity(items.len() / 2);
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            entries.push((k, v));
        }
        Ok(Edn::Map(entries))
    }

    fn read_dispatch(&mut self) -> Result<Edn, ParseError> {
        let start = self.pos;
        match self.bytes.get(self.pos + 1) {
            Some(b'{') => {
                self.pos += 1;
                self.read_seq(b'}').map(Edn::Set)
            }
            Some(b'#') => {
                self.pos += 2;
                match self.token_tail() {
                    "Inf" => Ok(Edn::Float(f64::INFINITY)),
                    "-Inf" => Ok(Edn::Float(f64::NEG_INFINITY)),
                    "NaN" => Ok(Edn::Float(f64::NAN)),
                    t => Err((start, format!("unknown symbolic value `##{t}`"))),
                }
            }
            Some(b) if b.is_ascii_alphabetic() => {
                self.pos += 1;
                let tag = self.token_tail().to_string();
                self.enter(start)?;
                let inner = self.read()?;
                self.depth -= 1;
                Ok(Edn::Tagged(tag, Box::new(inner)))
            }
            _ => Err((start, "unsupported `#` dispatch".into())),
        }
    }

    fn read_char(&mut self) -> Result<Edn, ParseError> {
        let start = self.pos;
        self.pos += 1;
        // A char literal is `\` followed by at least one char, then up to a terminator.
        let rest = self.src.get(self.pos..).unwrap_or("");
        let Some(first) = rest.chars().next() else {
            return Err((start, "unexpected end of input after `\\`".into()));
        };
        self.pos += first.len_utf8();
        let more = self.token_tail();
        let name = format!("{first}{more}");
        let c = match name.as_str() {
            "newline" => '\n',
            "space" => ' ',
            "tab" => '\t',
            "return" => '\r',
            "formfeed" => '\u{c}',
            "backspace" => '\u{8}',
            n if n.chars().count() == 1 => first,
            n if n.starts_with('u') && n.len() == 5 => u32::from_str_radix(&n[1..], 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| (start, format!("bad character literal `\\{n}`")))?,
            n => return Err((start, format!("bad character literal `\\{n}`"))),
        };
        Ok(Edn::Char(c))
    }

    /// Bytes up to the next terminator (possibly none).
    fn token_tail(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(&b) = self.bytes.get(self.pos) {
            if is_terminator(b) {
                break;
            }
            self.pos += 1;
        }
        self.src.get(start..self.pos).unwrap_or("")
    }

    fn read_string(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.bytes.get(self.pos) {
                None => {
                    return Err((open, "unterminated string (no closing `\"`)".into()));
                }
                Some(b'"') => {
                    out.push_str(self.src.get(run..self.pos).unwrap_or(""));
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(self.src.get(run..self.pos).unwrap_or(""));
                    let esc = self.bytes.get(self.pos + 1).copied();
                    self.pos += 2;
                    match esc {
                        Some(b'n') => out.push('\n'),
                        Some(b't') => out.push('\t'),
                        Some(b'r') => out.push('\r'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'u') => {
                            let hex = self.src.get(self.pos..self.pos + 4).unwrap_or("");
                            let c = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                            let Some(c) = c else {
                                return Err((self.pos - 2, format!("bad escape `\\u{hex}`")));
                            };
                            out.push(c);
                            self.pos += 4;
                        }
                        _ => return Err((self.pos - 2, "bad escape in string".into())),
                    }
                    run = self.pos;
                }
                Some(_) => self.pos += 1,
            }
        }
    }
}

fn unclosed(open: usize, b: u8) -> ParseError {
    (
        open,
        format!("unbalanced EDN: `{}` is never closed", b as char),
    )
}

/// nil, true, false, a number, or a symbol; `None` for a malformed number.
fn atom(tok: &str) -> Option<Edn> {
    match tok {
        "nil" => return Some(Edn::Nil),
        "true" => return Some(Edn::Bool(true)),
        "false" => return Some(Edn::Bool(false)),
        _ => {}
    }
    let b = tok.as_bytes();
    let numeric = b[0].is_ascii_digit()
        || (matches!(b[0], b'+' | b'-') && b.get(1).is_some_and(u8::is_ascii_digit));
    if !numeric {
        return Some(Edn::Symbol(tok.to_string()));
    }
    number(tok)
}

fn number(tok: &str) -> Option<Edn> {
    if let Some(digits) = tok.strip_suffix('M') {
        return digits.parse::<f64>().ok().map(Edn::Float);
    }
    if let Some((n, d)) = tok.split_once('/') {
        let (n, d) = (n.parse::<f64>().ok()?, d.parse::<f64>().ok()?);
        return Some(Edn::Float(n / d));
    }
    if tok.contains(['.', 'e', 'E']) {
        return tok.parse::<f64>().ok().map(Edn::Float);
    }
    let digits = tok.strip_suffix('N').unwrap_or(tok);
    if let Ok(i) = digits.parse::<i64>() {
        return Some(Edn::Int(i));
    }
    let unsigned = digits.strip_prefix('+').unwrap_or(digits);
    let valid = unsigned
        .strip_prefix('-')
        .unwrap_or(unsigned)
        .bytes()
        .all(|b| b.is_ascii_digit());
    valid.then(|| Edn::BigInt(unsigned.to_string()))
}
