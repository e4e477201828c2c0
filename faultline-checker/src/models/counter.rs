//! A counter: `add n` (also `increment`, n defaults to 1) and `read n`. An `ok` read of `null`
//! means the counter is absent, which reads as 0. Starts at `--init` (default 0).

use serde_json::Value;

use crate::model::{effective_value, read_value, Model};

/// A compiled counter op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CounterOp {
    /// Add a (possibly negative) amount.
    Add(i64),
    /// Read that returned this value.
    Read(i64),
}

/// The counter model.
#[derive(Debug, Clone)]
pub struct Counter {
    init: i64,
}

impl Counter {
    /// A counter starting at `init` (an integer, or null for 0).
    pub fn new(init: &Value) -> Result<Self, String> {
        let init = int_or_zero(init).map_err(|e| format!("counter init: {e}"))?;
        Ok(Counter { init })
    }
}

fn int_or_zero(v: &Value) -> Result<i64, String> {
    match v {
        Value::Null => Ok(0),
        other => other
            .as_i64()
            .ok_or_else(|| format!("a counter value must be an integer, got {other}")),
    }
}

impl Model for Counter {
    type State = i64;
    type Op = CounterOp;

    fn compile(
        &mut self,
        f: &str,
        invoke: &Value,
        done: Option<&Value>,
    ) -> Result<CounterOp, String> {
        match f {
            "add" | "increment" => match effective_value(invoke, done) {
                Value::Null => Ok(CounterOp::Add(1)),
                v => Ok(CounterOp::Add(int_or_zero(v)?)),
            },
            "read" => Ok(CounterOp::Read(int_or_zero(read_value(invoke, done))?)),
            other => Err(format!(
                "f {other:?} is not a counter op (expected add, read)"
            )),
        }
    }
    fn init(&self) -> i64 {
        self.init
    }
    fn step(&self, s: &i64, op: &CounterOp) -> Result<i64, String> {
        match *op {
            CounterOp::Add(n) => s
                .checked_add(n)
                .ok_or_else(|| format!("counter overflow adding {n} to {s}")),
            CounterOp::Read(v) if v == *s => Ok(*s),
            CounterOp::Read(v) => Err(format!("can't read {v} from counter {s}")),
        }
    }
    fn is_read_only(&self, op: &CounterOp) -> bool {
        matches!(op, CounterOp::Read(_))
    }
    fn render_state(&self, s: &i64) -> String {
        s.to_string()
    }
    fn render_op(&self, op: &CounterOp) -> String {
        match op {
            CounterOp::Add(n) => format!("add {n}"),
            CounterOp::Read(v) => format!("read {v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_see_sum_of_adds() {
        let mut m = Counter::new(&Value::Null).unwrap();
        let a = m.compile("add", &json!(2), Some(&json!(2))).unwrap();
        let r2 = m.compile("read", &Value::Null, Some(&json!(2))).unwrap();
        let s = m.step(&m.init(), &a).unwrap();
        assert!(m.step(&s, &r2).is_ok());
        assert_eq!(
            m.step(&m.init(), &r2).unwrap_err(),
            "can't read 2 from counter 0"
        );
        assert!(m.compile("add", &json!("x"), None).is_err());
    }
}
