//! The compare-and-set register (Knossos `cas-register`): `read` (or `get`), `write v` (or `put`),
//! `cas [old new]`. Histories with `append` are checked by [`super::AppendRegister`] instead.
//! Also the per-key model of `kv`. Starts at the `--init` value (default `null` = absent).

use serde_json::Value;

use crate::model::{effective_value, read_value, Interner, Model};

/// A compiled register op; values are interned ids (0 = null).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RegOp {
    /// Read that returned the value (null = absent, strict rule).
    Read(u32),
    /// Unconditional write.
    Write(u32),
    /// Compare-and-set from the first to the second value.
    Cas(u32, u32),
}

/// The cas-register model.
#[derive(Debug, Clone)]
pub struct CasRegister {
    values: Interner,
    init: u32,
    allow_cas: bool,
}

impl CasRegister {
    /// A cas-register starting at `init`.
    pub fn new(init: &Value) -> Self {
        Self::build(init, true)
    }

    /// Shared constructor for `register` (no cas) and `cas-register`.
    pub(crate) fn build(init: &Value, allow_cas: bool) -> Self {
        let mut values = Interner::default();
        let init = values.intern(init);
        CasRegister {
            values,
            init,
            allow_cas,
        }
    }
}

impl Model for CasRegister {
    type State = u32;
    type Op = RegOp;

    fn compile(&mut self, f: &str, invoke: &Value, done: Option<&Value>) -> Result<RegOp, String> {
        match f {
            "read" | "get" => Ok(RegOp::Read(self.values.intern(read_value(invoke, done)))),
            "write" | "put" => Ok(RegOp::Write(
                self.values.intern(effective_value(invoke, done)),
            )),
            "cas" if self.allow_cas => match effective_value(invoke, done) {
                Value::Array(a) if a.len() == 2 => Ok(RegOp::Cas(
                    self.values.intern(&a[0]),
                    self.values.intern(&a[1]),
                )),
                other => Err(format!("cas value must be [old, new], got {other}")),
            },
            other => Err(format!(
                "f {other:?} is not a {} op (expected read/get, write/put{}, append)",
                if self.allow_cas {
                    "cas-register"
                } else {
                    "register"
                },
                if self.allow_cas { ", cas" } else { "" }
            )),
        }
    }

    fn init(&self) -> u32 {
        self.init
    }

    fn step(&self, s: &u32, op: &RegOp) -> Result<u32, String> {
        match *op {
            RegOp::Write(v) => Ok(v),
            RegOp::Read(v) if v == *s => Ok(*s),
            RegOp::Read(v) => Err(format!(
                "can't read {} from register {}",
                self.values.render(v),
                self.values.render(*s)
            )),
            RegOp::Cas(a, b) if a == *s => Ok(b),
            RegOp::Cas(a, b) => Err(format!(
                "can't CAS {} from {} to {}",
                self.values.render(*s),
                self.values.render(a),
                self.values.render(b)
            )),
        }
    }

    fn try_step(&self, s: &u32, op: &RegOp) -> Option<u32> {
        match *op {
            RegOp::Write(v) => Some(v),
            RegOp::Read(v) => (v == *s).then_some(*s),
            RegOp::Cas(a, b) => (a == *s).then_some(b),
        }
    }

    fn is_read_only(&self, op: &RegOp) -> bool {
        matches!(op, RegOp::Read(_))
    }

    fn render_state(&self, s: &u32) -> String {
        self.values.render(*s)
    }

    fn render_op(&self, op: &RegOp) -> String {
        match *op {
            RegOp::Read(v) => format!("read {}", self.values.render(v)),
            RegOp::Write(v) => format!("write {}", self.values.render(v)),
            RegOp::Cas(a, b) => {
                format!("cas [{} {}]", self.values.render(a), self.values.render(b))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cas_messages_match_knossos() {
        let mut m = CasRegister::new(&json!(null));
        let w2 = m.compile("write", &json!(2), Some(&json!(2))).unwrap();
        let c11 = m
            .compile("cas", &json!([1, 1]), Some(&json!([1, 1])))
            .unwrap();
        let r0 = m.compile("read", &json!(null), Some(&json!(0))).unwrap();
        let s = m.step(&m.init(), &w2).unwrap();
        assert_eq!(m.step(&s, &c11).unwrap_err(), "can't CAS 2 from 1 to 1");
        assert_eq!(m.step(&s, &r0).unwrap_err(), "can't read 0 from register 2");
        assert_eq!(m.render_op(&c11), "cas [1 1]");
    }

    #[test]
    fn strict_nil_read_requires_absent_register() {
        let mut m = CasRegister::new(&json!(null));
        let rnil = m.compile("read", &json!(null), Some(&json!(null))).unwrap();
        let w1 = m.compile("write", &json!(1), None).unwrap();
        assert!(m.try_step(&m.init(), &rnil).is_some());
        let s = m.try_step(&m.init(), &w1).unwrap();
        assert!(m.try_step(&s, &rnil).is_none());
        assert!(m.compile("cas", &json!(3), None).is_err());
        assert!(m.compile("frob", &json!(3), None).is_err());
    }
}
