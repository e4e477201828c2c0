//! The EDN value type and its conversions: to JSON (the history's value type) and to a short,
//! printable rendering for error messages.

use serde_json::{Map, Number, Value};

/// One EDN value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    /// An integer that does not fit `i64` (kept as its digits).
    BigInt(String),
    Float(f64),
    Str(String),
    Char(char),
    /// Without the leading colon.
    Keyword(String),
    Symbol(String),
    Vector(Vec<Edn>),
    List(Vec<Edn>),
    Set(Vec<Edn>),
    Map(Vec<(Edn, Edn)>),
    Tagged(String, Box<Edn>),
}

impl Edn {
    /// The value with any tags (`#jepsen.history.Op{...}`, `#inst "..."`) removed.
    pub(crate) fn untagged(&self) -> &Edn {
        let mut v = self;
        while let Edn::Tagged(_, inner) = v {
            v = inner;
        }
        v
    }

    /// Name of a keyword, string or symbol.
    pub(crate) fn as_name(&self) -> Option<&str> {
        match self.untagged() {
            Edn::Keyword(s) | Edn::Str(s) | Edn::Symbol(s) => Some(s),
            _ => None,
        }
    }

    /// Convert to JSON: keywords and symbols become strings without the colon, nil becomes null,
    /// vectors, lists and sets become arrays, maps become objects (non-string keys rendered as
    /// compact JSON), tags are dropped.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Edn::Nil => Value::Null,
            Edn::Bool(b) => Value::Bool(*b),
            Edn::Int(i) => Value::from(*i),
            Edn::BigInt(s) => s
                .parse::<u64>()
                .map(Value::from)
                .or_else(|_| s.parse::<f64>().map(Value::from))
                .unwrap_or_else(|_| Value::String(s.clone())),
            Edn::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Edn::Str(s) | Edn::Keyword(s) | Edn::Symbol(s) => Value::String(s.clone()),
            Edn::Char(c) => Value::String(c.to_string()),
            Edn::Vector(items) | Edn::List(items) | Edn::Set(items) => {
                Value::Array(items.iter().map(Edn::to_json).collect())
            }
            Edn::Map(entries) => {
                let mut map = Map::with_capacity(entries.len());
                for (k, v) in entries {
                    let key = match k.as_name() {
                        Some(name) => name.to_string(),
                        None => k.to_json().to_string(),
                    };
                    map.insert(key, v.to_json());
                }
                Value::Object(map)
            }
            Edn::Tagged(_, inner) => inner.to_json(),
        }
    }

    /// A short EDN rendering for error messages (cut at about 60 characters).
    pub(crate) fn describe(&self) -> String {
        let mut raw = String::new();
        self.render(&mut raw);
        // Binary garbage can reach here as a symbol: keep the message printable and on one line.
        let mut s: String = raw
            .chars()
            .flat_map(|c| {
                let esc: Vec<char> = if c.is_control() {
                    c.escape_default().collect()
                } else {
                    vec![c]
                };
                esc
            })
            .collect();
        if s.chars().count() > 60 {
            s = s.chars().take(57).collect::<String>() + "...";
        }
        s
    }

    fn render(&self, out: &mut String) {
        let seq = |out: &mut String, open: &str, items: &[Edn], close: &str| {
            out.push_str(open);
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                item.render(out);
            }
            out.push_str(close);
        };
        match self {
            Edn::Nil => out.push_str("nil"),
            Edn::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Edn::Int(i) => out.push_str(&i.to_string()),
            Edn::BigInt(s) => out.push_str(s),
            Edn::Float(f) => out.push_str(&f.to_string()),
            Edn::Str(s) => out.push_str(&format!("{s:?}")),
            Edn::Char(c) => out.push_str(&format!("\\{c}")),
            Edn::Keyword(s) => {
                out.push(':');
                out.push_str(s);
            }
            Edn::Symbol(s) => out.push_str(s),
            Edn::Vector(items) => seq(out, "[", items, "]"),
            Edn::List(items) => seq(out, "(", items, ")"),
            Edn::Set(items) => seq(out, "#{", items, "}"),
            Edn::Map(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    k.render(out);
                    out.push(' ');
                    v.render(out);
                }
                out.push('}');
            }
            Edn::Tagged(tag, inner) => {
                out.push('#');
                out.push_str(tag);
                out.push(' ');
                inner.render(out);
            }
        }
    }
}
