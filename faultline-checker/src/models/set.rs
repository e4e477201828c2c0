//! A grow-only set: `add v` and `read` returning the whole set as an array (order ignored). An
//! `ok` read of `null` means the set is absent, i.e. empty. Starts empty unless `--init` is an array.

use serde_json::Value;

use crate::model::{effective_value, read_value, slice_heap_bytes, Interner, Model};

/// A compiled set op over interned elements.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SetOp {
    /// Add one element.
    Add(u32),
    /// Read that returned exactly these elements (sorted, deduplicated).
    Read(Box<[u32]>),
}

/// The set model; states are sorted element ids.
#[derive(Debug, Clone)]
pub struct Set {
    values: Interner,
    init: Box<[u32]>,
}

impl Set {
    /// A set starting with the elements of `init` (an array, or null for empty).
    pub fn new(init: &Value) -> Result<Self, String> {
        let mut s = Set {
            values: Interner::default(),
            init: Box::new([]),
        };
        s.init = s.elements(init).map_err(|e| format!("set init: {e}"))?;
        Ok(s)
    }

    fn elements(&mut self, v: &Value) -> Result<Box<[u32]>, String> {
        match v {
            Value::Null => Ok(Box::new([])),
            Value::Array(a) => {
                let mut ids: Vec<u32> = a.iter().map(|x| self.values.intern(x)).collect();
                ids.sort_unstable();
                ids.dedup();
                Ok(ids.into_boxed_slice())
            }
            other => Err(format!(
                "a set value must be an array of elements, got {other}"
            )),
        }
    }
}

impl Model for Set {
    type State = Box<[u32]>;
    type Op = SetOp;

    fn compile(&mut self, f: &str, invoke: &Value, done: Option<&Value>) -> Result<SetOp, String> {
        match f {
            "add" => Ok(SetOp::Add(
                self.values.intern(effective_value(invoke, done)),
            )),
            "read" => Ok(SetOp::Read(self.elements(read_value(invoke, done))?)),
            other => Err(format!("f {other:?} is not a set op (expected add, read)")),
        }
    }
    fn init(&self) -> Box<[u32]> {
        self.init.clone()
    }
    fn step(&self, s: &Box<[u32]>, op: &SetOp) -> Result<Box<[u32]>, String> {
        self.try_step(s, op).ok_or_else(|| match op {
            SetOp::Read(r) => format!(
                "can't read {} from set {}",
                self.render_state(r),
                self.render_state(s)
            ),
            SetOp::Add(_) => "unreachable: add always succeeds".into(),
        })
    }
    fn try_step(&self, s: &Box<[u32]>, op: &SetOp) -> Option<Box<[u32]>> {
        match op {
            SetOp::Add(v) => match s.binary_search(v) {
                Ok(_) => Some(s.clone()),
                Err(pos) => {
                    let mut n = Vec::with_capacity(s.len() + 1);
                    n.extend_from_slice(&s[..pos]);
                    n.push(*v);
                    n.extend_from_slice(&s[pos..]);
                    Some(n.into_boxed_slice())
                }
            },
            SetOp::Read(r) => (r == s).then(|| s.clone()),
        }
    }
    fn is_read_only(&self, op: &SetOp) -> bool {
        matches!(op, SetOp::Read(_))
    }
    fn render_state(&self, s: &Box<[u32]>) -> String {
        let parts: Vec<String> = s.iter().map(|&v| self.values.render(v)).collect();
        format!("#{{{}}}", parts.join(" "))
    }
    fn render_op(&self, op: &SetOp) -> String {
        match op {
            SetOp::Add(v) => format!("add {}", self.values.render(*v)),
            SetOp::Read(r) => format!("read {}", self.render_state(r)),
        }
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
    fn read_must_match_whole_set() {
        let mut m = Set::new(&Value::Null).unwrap();
        let a1 = m.compile("add", &json!(1), Some(&json!(1))).unwrap();
        let r = m.compile("read", &Value::Null, Some(&json!([1]))).unwrap();
        let rnil = m.compile("read", &Value::Null, Some(&Value::Null)).unwrap();
        let s0 = m.init();
        assert!(m.try_step(&s0, &r).is_none());
        assert!(m.try_step(&s0, &rnil).is_some());
        let s1 = m.step(&s0, &a1).unwrap();
        assert!(m.try_step(&s1, &r).is_some());
        assert_eq!(
            m.step(&s1, &rnil).unwrap_err(),
            "can't read #{} from set #{1}"
        );
        assert!(m.compile("read", &Value::Null, Some(&json!(3))).is_err());
    }
}
