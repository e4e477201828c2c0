//! `Key`: the key of an op in a keyed history, a JSON scalar that keeps its type. `3` and `"3"`
//! are different keys (as in Jepsen, where `3` and `"3"` are different Clojure values), from the
//! file through the per-key split to results.json and the report.
//!
//! Written back as the same JSON scalar; shown to humans bare when that cannot be mistaken for
//! another key (`k1`, `3`, `true`) and JSON-quoted otherwise (`"3"`, `"two words"`, `""`).

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

/// A key: a string, a number or a boolean. `null` means "no key" and is not a `Key`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A string key (EDN keywords become strings without the colon).
    Str(String),
    /// A number key. `3` and `3.0` are different keys, as their JSON texts differ.
    Num(Number),
    /// A boolean key.
    Bool(bool),
}

impl Key {
    /// The key as a JSON value.
    pub fn to_json(&self) -> Value {
        match self {
            Key::Str(s) => Value::String(s.clone()),
            Key::Num(n) => Value::Number(n.clone()),
            Key::Bool(b) => Value::Bool(*b),
        }
    }

    /// The key of a JSON value: `Ok(None)` for null, an error naming the kind for arrays and
    /// objects (keys are scalars).
    pub fn from_json(v: &Value) -> Result<Option<Key>, String> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(Key::Str(s.clone()))),
            Value::Number(n) => Ok(Some(Key::Num(n.clone()))),
            Value::Bool(b) => Ok(Some(Key::Bool(*b))),
            Value::Array(_) => {
                Err("a key must be a string, number or boolean, got an array".into())
            }
            Value::Object(_) => {
                Err("a key must be a string, number or boolean, got an object".into())
            }
        }
    }

    /// The string, for string keys.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Key::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// A total order (booleans, then numbers, then strings; numbers by their JSON text), so keys can
/// be sorted and used in ordered maps. Consistent with `Eq`: distinct numbers print differently.
impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let rank = |k: &Key| match k {
            Key::Bool(_) => 0,
            Key::Num(_) => 1,
            Key::Str(_) => 2,
        };
        match (self, other) {
            (Key::Bool(a), Key::Bool(b)) => a.cmp(b),
            (Key::Num(a), Key::Num(b)) => a.to_string().cmp(&b.to_string()),
            (Key::Str(a), Key::Str(b)) => a.cmp(b),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Self {
        Key::Str(s.to_string())
    }
}

impl From<String> for Key {
    fn from(s: String) -> Self {
        Key::Str(s)
    }
}

impl From<i64> for Key {
    fn from(n: i64) -> Self {
        Key::Num(n.into())
    }
}

impl From<u64> for Key {
    fn from(n: u64) -> Self {
        Key::Num(n.into())
    }
}

/// True if `s` may be shown without quotes: it is not empty, has no spaces, quotes or control
/// characters, and is not itself JSON (so `3`, `true`, `null` and `[1]` are quoted).
fn shows_bare(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"')
        && serde_json::from_str::<serde::de::IgnoredAny>(s).is_err()
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Str(s) if shows_bare(s) => f.write_str(s),
            Key::Str(s) => write!(f, "{}", Value::String(s.clone())),
            Key::Num(n) => write!(f, "{n}"),
            Key::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Key::Str(k) => s.serialize_str(k),
            Key::Num(n) => n.serialize(s),
            Key::Bool(b) => s.serialize_bool(*b),
        }
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        KeyRef::deserialize(d).map(KeyRef::into_owned)
    }
}

/// A key borrowed from the input where possible (the parser's hot path interns it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum KeyRef<'a> {
    /// A string key, borrowed when it has no escapes.
    Str(Cow<'a, str>),
    /// A number key.
    Num(Number),
    /// A boolean key.
    Bool(bool),
}

impl KeyRef<'_> {
    /// The owned key.
    pub(crate) fn into_owned(self) -> Key {
        match self {
            KeyRef::Str(s) => Key::Str(s.into_owned()),
            KeyRef::Num(n) => Key::Num(n),
            KeyRef::Bool(b) => Key::Bool(b),
        }
    }
}

const EXPECTED_KEY: &str = "a string, number or boolean";

impl<'de: 'a, 'a> Deserialize<'de> for KeyRef<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = KeyRef<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(EXPECTED_KEY)
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                s: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(KeyRef::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(KeyRef::Str(Cow::Owned(s.to_string())))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(KeyRef::Str(Cow::Owned(s)))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(KeyRef::Num(n.into()))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(KeyRef::Num(n.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Self::Value, E> {
                Number::from_f64(n)
                    .map(KeyRef::Num)
                    .ok_or_else(|| E::custom("a key must be a finite number"))
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Self::Value, E> {
                Ok(KeyRef::Bool(b))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_keep_their_json_type() {
        let n: Key = serde_json::from_value(json!(3)).expect("number");
        let s: Key = serde_json::from_value(json!("3")).expect("string");
        assert_ne!(n, s);
        assert_eq!(serde_json::to_value(&n).expect("ser"), json!(3));
        assert_eq!(serde_json::to_value(&s).expect("ser"), json!("3"));
        let f: Key = serde_json::from_str("3.0").expect("float");
        assert_ne!(f, n);
        assert_eq!(serde_json::to_string(&f).expect("ser"), "3.0");
        let b: Key = serde_json::from_str("true").expect("bool");
        assert_eq!(b, Key::Bool(true));
        assert!(serde_json::from_str::<Key>("[1]").is_err());
        assert!(serde_json::from_str::<Key>("{}").is_err());
    }

    #[test]
    fn display_is_unambiguous() {
        let shown = |k: Key| k.to_string();
        assert_eq!(shown(Key::from("k1")), "k1");
        assert_eq!(shown(Key::from(3i64)), "3");
        assert_eq!(shown(Key::from("3")), "\"3\"");
        assert_eq!(shown(Key::Bool(true)), "true");
        assert_eq!(shown(Key::from("true")), "\"true\"");
        assert_eq!(shown(Key::from("null")), "\"null\"");
        assert_eq!(shown(Key::from("")), "\"\"");
        assert_eq!(shown(Key::from("a b")), "\"a b\"");
        assert_eq!(shown(Key::from("[1]")), "\"[1]\"");
        assert_eq!(shown(Key::from("-x")), "-x");
    }
}
