//! Knossos `multi-register`: one `txn` op applies a vector of micro-ops in order, each
//! `["read", k, v]` or `["write", k, v]`. Init is a map such as `{"x":0,"y":0}`; keys not in it
//! start `null`. A crashed txn's reads have no known result and constrain nothing.

use serde_json::Value;

use crate::model::{effective_value, read_value, slice_heap_bytes, Interner, Model};

/// One compiled micro-op over interned keys and values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Micro {
    /// Read of key `.0` that returned value `.1` (null = absent).
    Read(u32, u32),
    /// Read whose result is unknown (crashed txn): constrains nothing.
    ReadAny(u32),
    /// Write of value `.1` to key `.0`.
    Write(u32, u32),
}

/// The multi-register model.
#[derive(Debug, Clone)]
pub struct MultiRegister {
    keys: Interner,
    values: Interner,
    init: Vec<(u32, u32)>,
}

impl MultiRegister {
    /// A multi-register with `init` (a JSON object, or null for all-null).
    pub fn new(init: &Value) -> Result<Self, String> {
        let mut m = MultiRegister {
            keys: Interner::default(),
            values: Interner::default(),
            init: Vec::new(),
        };
        match init {
            Value::Null => {}
            Value::Object(map) => {
                for (k, v) in map {
                    let k = m.keys.intern(&Value::String(k.clone()));
                    let v = m.values.intern(v);
                    m.init.push((k, v));
                }
            }
            other => {
                return Err(format!(
                    "multi-register init must be a map like {{\"x\":0}}, got {other}"
                ))
            }
        }
        Ok(m)
    }

    fn width(&self) -> usize {
        self.keys.len()
    }
}

impl Model for MultiRegister {
    type State = Box<[u32]>;
    type Op = Box<[Micro]>;

    fn compile(
        &mut self,
        f: &str,
        invoke: &Value,
        done: Option<&Value>,
    ) -> Result<Self::Op, String> {
        if f != "txn" {
            return Err(format!("f {f:?} is not a multi-register op (expected txn)"));
        }
        let v = if done.is_some() {
            read_value(invoke, done)
        } else {
            effective_value(invoke, done)
        };
        let Value::Array(items) = v else {
            return Err(format!(
                "txn value must be a list of [f k v] micro-ops, got {v}"
            ));
        };
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            let Some([mf, k, val]) = it
                .as_array()
                .and_then(|a| <&[Value; 3]>::try_from(a.as_slice()).ok())
            else {
                return Err(format!("micro-op must be [f k v], got {it}"));
            };
            let key = self.keys.intern(k);
            let val = self.values.intern(val);
            out.push(match mf.as_str() {
                Some("read") if done.is_some() => Micro::Read(key, val),
                Some("read") => Micro::ReadAny(key),
                Some("write") => Micro::Write(key, val),
                _ => return Err(format!("micro-op f must be read or write, got {mf}")),
            });
        }
        Ok(out.into_boxed_slice())
    }

    fn init(&self) -> Box<[u32]> {
        let mut s = vec![Interner::NULL; self.width()];
        for &(k, v) in &self.init {
            s[k as usize] = v;
        }
        s.into_boxed_slice()
    }

    fn step(&self, s: &Box<[u32]>, op: &Box<[Micro]>) -> Result<Box<[u32]>, String> {
        let mut next = s.clone();
        for m in op.iter() {
            match *m {
                Micro::Write(k, v) => next[k as usize] = v,
                Micro::ReadAny(_) => {}
                Micro::Read(k, v) if next[k as usize] == v => {}
                Micro::Read(k, v) => {
                    return Err(format!(
                        "{}≠{}",
                        self.values.render(next[k as usize]),
                        self.values.render(v)
                    ))
                }
            }
        }
        Ok(next)
    }

    fn try_step(&self, s: &Box<[u32]>, op: &Box<[Micro]>) -> Option<Box<[u32]>> {
        let mut next: Option<Box<[u32]>> = None;
        for m in op.iter() {
            let cur = next.as_deref().unwrap_or(s);
            match *m {
                Micro::Write(k, v) if cur[k as usize] != v => {
                    next.get_or_insert_with(|| s.clone())[k as usize] = v
                }
                Micro::Read(k, v) if cur[k as usize] != v => return None,
                _ => {}
            }
        }
        Some(next.unwrap_or_else(|| s.clone()))
    }

    fn is_read_only(&self, op: &Box<[Micro]>) -> bool {
        op.iter().all(|m| !matches!(m, Micro::Write(..)))
    }

    fn render_state(&self, s: &Box<[u32]>) -> String {
        let parts: Vec<String> = (1..s.len())
            .map(|k| {
                format!(
                    "{} {}",
                    self.keys.render(k as u32),
                    self.values.render(s[k])
                )
            })
            .collect();
        format!("{{{}}}", parts.join(", "))
    }

    fn render_op(&self, op: &Box<[Micro]>) -> String {
        let parts: Vec<String> = op
            .iter()
            .map(|m| match *m {
                Micro::Read(k, v) => {
                    format!("[read {} {}]", self.keys.render(k), self.values.render(v))
                }
                Micro::ReadAny(k) => format!("[read {} ?]", self.keys.render(k)),
                Micro::Write(k, v) => {
                    format!("[write {} {}]", self.keys.render(k), self.values.render(v))
                }
            })
            .collect();
        format!("txn [{}]", parts.join(" "))
    }

    fn state_heap_bytes(&self, s: &Box<[u32]>) -> usize {
        slice_heap_bytes(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn txn_reads_and_writes_in_order() {
        let mut m = MultiRegister::new(&json!({"x": 0, "y": 0})).unwrap();
        let w = m
            .compile(
                "txn",
                &json!([["write", "y", 1]]),
                Some(&json!([["write", "y", 1]])),
            )
            .unwrap();
        let r = m
            .compile(
                "txn",
                &json!([["read", "x", null], ["read", "y", null]]),
                Some(&json!([["read", "x", 0], ["read", "y", 1]])),
            )
            .unwrap();
        let s0 = m.init();
        assert!(m.try_step(&s0, &r).is_none());
        assert_eq!(m.step(&s0, &r).unwrap_err(), "0≠1");
        let s1 = m.step(&s0, &w).unwrap();
        assert!(m.try_step(&s1, &r).is_some());
        assert_eq!(m.render_state(&s1), "{x 0, y 1}");
        let crashed = m
            .compile("txn", &json!([["read", "x", null]]), None)
            .unwrap();
        assert!(m.is_read_only(&crashed));
        assert!(m.compile("txn", &json!([["read", "x"]]), None).is_err());
    }
}
