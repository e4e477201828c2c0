//! A register whose value can also be appended to, as in Porcupine's `kv` model: `read` (or
//! `get`), `write` (or `put`), `cas [old new]` (not for `register`), and `append s`, which
//! concatenates the string `s` to the current value. An absent value (`null`) appends as the
//! empty string, so `append "a"` on an absent key leaves `"a"`; appending to a value that is not a
//! string is impossible in that state. Porcupine's kv model starts every key at `""`: check its
//! logs with `--init '""'` (reads of `""` then match a key nobody wrote).
//!
//! The checker picks this model instead of [`CasRegister`](super::CasRegister) when a history
//! has `append` ops, so plain register histories keep their integer states.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::model::{effective_value, read_value, Interner, Model, ALLOC_OVERHEAD};

/// A compiled op; values are interned ids (0 = null).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AppendOp {
    /// Read that returned the value (null = absent, strict rule).
    Read(u32),
    /// Unconditional write.
    Write(u32),
    /// Compare-and-set from the first to the second value.
    Cas(u32, u32),
    /// Append this string to the current value.
    Append(Arc<str>),
}

/// A register value: an interned JSON value, or a string built by appends that no op of the
/// history mentions. Invariant: `Built(s)` only when the string `s` is not interned, so equal
/// values are equal states (and a `Built` state never matches a read).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Text {
    /// An interned value.
    Id(u32),
    /// A string no op mentions.
    Built(Arc<str>),
}

/// The append-register model.
#[derive(Debug, Clone)]
pub struct AppendRegister {
    values: Interner,
    /// Interned string values by content, to keep [`Text`] canonical.
    strings: FxHashMap<Box<str>, u32>,
    init: u32,
    allow_cas: bool,
}

impl AppendRegister {
    /// A register starting at `init`; `allow_cas` false for the plain `register` model.
    pub fn new(init: &Value, allow_cas: bool) -> Self {
        let mut m = AppendRegister {
            values: Interner::default(),
            strings: FxHashMap::default(),
            init: Interner::NULL,
            allow_cas,
        };
        m.init = m.intern(init);
        m
    }

    fn intern(&mut self, v: &Value) -> u32 {
        let id = self.values.intern(v);
        if let Value::String(s) = v {
            self.strings.insert(s.as_str().into(), id);
        }
        id
    }

    /// The string a state holds (absent = ""), or `None` for a non-string value.
    fn text<'a>(&'a self, s: &'a Text) -> Option<&'a str> {
        match s {
            Text::Built(b) => Some(b),
            Text::Id(id) => match self.values.value(*id) {
                Value::Null => Some(""),
                Value::String(t) => Some(t),
                _ => None,
            },
        }
    }

    fn append(&self, s: &Text, piece: &str) -> Option<Text> {
        let mut out = String::with_capacity(self.text(s)?.len() + piece.len());
        out.push_str(self.text(s)?);
        out.push_str(piece);
        Some(match self.strings.get(out.as_str()) {
            Some(&id) => Text::Id(id),
            None => Text::Built(out.into()),
        })
    }
}

impl Model for AppendRegister {
    type State = Text;
    type Op = AppendOp;

    fn compile(&mut self, f: &str, inv: &Value, done: Option<&Value>) -> Result<AppendOp, String> {
        match f {
            "read" | "get" => Ok(AppendOp::Read(self.intern(read_value(inv, done)))),
            "write" | "put" => Ok(AppendOp::Write(self.intern(effective_value(inv, done)))),
            "append" => match effective_value(inv, done) {
                Value::String(s) => Ok(AppendOp::Append(s.as_str().into())),
                other => Err(format!("append value must be a string, got {other}")),
            },
            "cas" if self.allow_cas => match effective_value(inv, done) {
                Value::Array(a) if a.len() == 2 => {
                    Ok(AppendOp::Cas(self.intern(&a[0]), self.intern(&a[1])))
                }
                other => Err(format!("cas value must be [old, new], got {other}")),
            },
            other => Err(format!(
                "f {other:?} is not a register op (expected read/get, write/put, append{})",
                if self.allow_cas { ", cas" } else { "" }
            )),
        }
    }

    fn init(&self) -> Text {
        Text::Id(self.init)
    }

    fn step(&self, s: &Text, op: &AppendOp) -> Result<Text, String> {
        self.try_step(s, op).ok_or_else(|| match op {
            AppendOp::Read(v) => format!(
                "can't read {} from register {}",
                self.values.render(*v),
                self.render_state(s)
            ),
            AppendOp::Cas(a, b) => format!(
                "can't CAS {} from {} to {}",
                self.render_state(s),
                self.values.render(*a),
                self.values.render(*b)
            ),
            AppendOp::Append(_) => {
                format!("can't append to {}: not a string", self.render_state(s))
            }
            AppendOp::Write(_) => "unreachable: a write always succeeds".into(),
        })
    }

    fn try_step(&self, s: &Text, op: &AppendOp) -> Option<Text> {
        match op {
            AppendOp::Write(v) => Some(Text::Id(*v)),
            AppendOp::Read(v) => (*s == Text::Id(*v)).then(|| s.clone()),
            AppendOp::Cas(a, b) => (*s == Text::Id(*a)).then_some(Text::Id(*b)),
            AppendOp::Append(piece) => self.append(s, piece),
        }
    }

    fn is_read_only(&self, op: &AppendOp) -> bool {
        matches!(op, AppendOp::Read(_))
    }

    fn render_state(&self, s: &Text) -> String {
        match s {
            Text::Id(id) => self.values.render(*id),
            Text::Built(b) => b.to_string(),
        }
    }

    fn render_op(&self, op: &AppendOp) -> String {
        match op {
            AppendOp::Read(v) => format!("read {}", self.values.render(*v)),
            AppendOp::Write(v) => format!("write {}", self.values.render(*v)),
            AppendOp::Cas(a, b) => {
                format!(
                    "cas [{} {}]",
                    self.values.render(*a),
                    self.values.render(*b)
                )
            }
            AppendOp::Append(piece) => format!("append {piece}"),
        }
    }

    fn state_heap_bytes(&self, s: &Text) -> usize {
        match s {
            Text::Id(_) => 0,
            // The Arc's two counters, the bytes and the allocation header.
            Text::Built(b) => 16 + b.len() + ALLOC_OVERHEAD,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn appends_concatenate_and_match_reads_of_the_whole_string() {
        let mut m = AppendRegister::new(&json!(""), true);
        let a = m
            .compile("append", &json!("x 0 y"), Some(&json!("x 0 y")))
            .unwrap();
        let b = m.compile("append", &json!("x 1 y"), None).unwrap();
        let get_ab = m
            .compile("get", &Value::Null, Some(&json!("x 0 yx 1 y")))
            .unwrap();
        let get_empty = m.compile("get", &Value::Null, Some(&json!(""))).unwrap();
        let put = m.compile("put", &json!("z"), Some(&json!("z"))).unwrap();
        let s0 = m.init();
        assert!(m.try_step(&s0, &get_empty).is_some());
        let s1 = m.step(&s0, &a).unwrap();
        assert!(matches!(s1, Text::Built(_)), "{s1:?}");
        let s2 = m.step(&s1, &b).unwrap();
        assert_eq!(
            s2,
            Text::Id(match get_ab {
                AppendOp::Read(v) => v,
                _ => unreachable!(),
            })
        );
        assert!(m.try_step(&s2, &get_ab).is_some());
        // The other order builds a different string.
        let s_ba = m.step(&m.step(&s0, &b).unwrap(), &a).unwrap();
        assert_eq!(
            m.step(&s_ba, &get_ab).unwrap_err(),
            "can't read x 0 yx 1 y from register x 1 yx 0 y"
        );
        assert_eq!(m.render_state(&m.step(&s2, &put).unwrap()), "z");
    }

    #[test]
    fn absent_appends_as_empty_and_non_strings_cannot_be_appended_to() {
        let mut m = AppendRegister::new(&Value::Null, false);
        let a = m.compile("append", &json!("q"), None).unwrap();
        let w3 = m.compile("write", &json!(3), None).unwrap();
        let r_q = m.compile("read", &Value::Null, Some(&json!("q"))).unwrap();
        let s = m.step(&m.init(), &a).unwrap();
        assert!(m.try_step(&s, &r_q).is_some());
        let three = m.step(&s, &w3).unwrap();
        assert_eq!(
            m.step(&three, &a).unwrap_err(),
            "can't append to 3: not a string"
        );
        assert!(m.compile("append", &json!(1), None).is_err());
        assert!(m.compile("cas", &json!([1, 2]), None).is_err());
    }
}
