//! Keys and values of micro-ops as small `Copy` atoms: integers are stored inline, strings and
//! other numbers are interned once. Two atoms are equal exactly when their JSON scalars are
//! (`1` and `"1"` differ; so do `1` and `1.0`, as in `serde_json`).

use rustc_hash::FxHashMap;
use serde_json::{Number, Value};

/// One JSON scalar. Encoding: the low two bits are a tag.
/// `00`: an integer in `[-2^61, 2^61)` shifted left by two; `01`: a string id;
/// `10`: `null` (0), `true` (1) or `false` (2), shifted; `11`: a non-inline number id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Atom(u64);

const INLINE_MAX: i64 = 1 << 61;

impl Atom {
    /// JSON `null`.
    pub(crate) const NULL: Atom = Atom(2);
    const TRUE: Atom = Atom(2 | (1 << 2));
    const FALSE: Atom = Atom(2 | (2 << 2));

    /// An integer atom, when it fits inline.
    pub(crate) fn int(i: i64) -> Option<Atom> {
        (-INLINE_MAX..INLINE_MAX)
            .contains(&i)
            .then_some(Atom((i << 2) as u64))
    }

    /// A boolean atom.
    pub(crate) fn bool(b: bool) -> Atom {
        if b {
            Atom::TRUE
        } else {
            Atom::FALSE
        }
    }

    fn tag(self) -> u64 {
        self.0 & 3
    }

    fn id(self) -> usize {
        (self.0 >> 2) as usize
    }
}

/// Interned strings and numbers; renders atoms back to JSON.
#[derive(Debug, Default)]
pub(crate) struct Atoms {
    strings: Vec<Box<str>>,
    string_ids: FxHashMap<Box<str>, u32>,
    numbers: Vec<Number>,
    number_ids: FxHashMap<String, u32>,
}

impl Atoms {
    /// The atom for a string.
    pub(crate) fn string(&mut self, s: &str) -> Atom {
        if let Some(&id) = self.string_ids.get(s) {
            return Atom(((id as u64) << 2) | 1);
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        self.string_ids.insert(s.into(), id);
        Atom(((id as u64) << 2) | 1)
    }

    /// The atom for a number (inline when it is a small integer).
    pub(crate) fn number(&mut self, n: &Number) -> Atom {
        if let Some(a) = n.as_i64().and_then(Atom::int) {
            return a;
        }
        let text = n.to_string();
        if let Some(&id) = self.number_ids.get(&text) {
            return Atom(((id as u64) << 2) | 3);
        }
        let id = self.numbers.len() as u32;
        self.numbers.push(n.clone());
        self.number_ids.insert(text, id);
        Atom(((id as u64) << 2) | 3)
    }

    /// The atom for a JSON scalar; `None` for arrays and objects.
    pub(crate) fn scalar(&mut self, v: &Value) -> Option<Atom> {
        Some(match v {
            Value::Null => Atom::NULL,
            Value::Bool(b) => Atom::bool(*b),
            Value::Number(n) => self.number(n),
            Value::String(s) => self.string(s),
            Value::Array(_) | Value::Object(_) => return None,
        })
    }

    /// The JSON value of an atom.
    pub(crate) fn json(&self, a: Atom) -> Value {
        match a.tag() {
            0 => Value::from((a.0 as i64) >> 2),
            1 => self
                .strings
                .get(a.id())
                .map_or(Value::Null, |s| Value::String(s.to_string())),
            2 => match a {
                Atom::TRUE => Value::Bool(true),
                Atom::FALSE => Value::Bool(false),
                _ => Value::Null,
            },
            _ => self
                .numbers
                .get(a.id())
                .map_or(Value::Null, |n| Value::Number(n.clone())),
        }
    }

    /// A short rendering for explanations: strings quoted, everything else as JSON.
    pub(crate) fn show(&self, a: Atom) -> String {
        self.json(a).to_string()
    }

    /// Approximate heap bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.strings.iter().map(|s| s.len() * 2 + 48).sum::<usize>() + self.numbers.len() * 64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_round_trip_and_stay_distinct() {
        let mut t = Atoms::default();
        let values = [
            json!(0),
            json!(-7),
            json!(1u64 << 62),
            json!(-(1i64 << 62)),
            json!(1.5),
            json!("x"),
            json!("1"),
            json!(null),
            json!(true),
            json!(false),
            json!(""),
        ];
        let atoms: Vec<Atom> = values
            .iter()
            .map(|v| t.scalar(v).expect("scalar"))
            .collect();
        for (v, a) in values.iter().zip(&atoms) {
            assert_eq!(&t.json(*a), v);
        }
        for i in 0..atoms.len() {
            for j in 0..atoms.len() {
                assert_eq!(
                    atoms[i] == atoms[j],
                    i == j,
                    "{} vs {}",
                    values[i],
                    values[j]
                );
            }
        }
        assert_eq!(t.scalar(&json!("x")), Some(atoms[5]));
        assert_eq!(t.scalar(&json!(1.5)), Some(atoms[4]));
        assert_eq!(t.scalar(&json!([1])), None);
    }
}
