//! A FIFO queue: `enqueue v` and `dequeue` returning the head (an `ok` dequeue of `null` means the
//! queue was empty). A crashed dequeue removes whatever is at the head, if anything.

use serde_json::Value;

use crate::model::{effective_value, slice_heap_bytes, Interner, Model};

/// A compiled queue op over interned values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueOp {
    /// Append at the tail.
    Enqueue(u32),
    /// Remove the head, which must be this value (`NULL` = queue empty).
    Dequeue(u32),
    /// A crashed dequeue: removes the head if there is one.
    DequeueAny,
}

/// The FIFO queue model; state is the queue contents, head first.
#[derive(Debug, Clone, Default)]
pub struct FifoQueue {
    values: Interner,
}

impl Model for FifoQueue {
    type State = Box<[u32]>;
    type Op = QueueOp;

    fn compile(
        &mut self,
        f: &str,
        invoke: &Value,
        done: Option<&Value>,
    ) -> Result<QueueOp, String> {
        match (f, done) {
            ("enqueue", _) => match effective_value(invoke, done) {
                Value::Null => Err("enqueue needs a non-null value".into()),
                v => Ok(QueueOp::Enqueue(self.values.intern(v))),
            },
            ("dequeue", Some(v)) => Ok(QueueOp::Dequeue(self.values.intern(v))),
            ("dequeue", None) => Ok(QueueOp::DequeueAny),
            (other, _) => Err(format!(
                "f {other:?} is not a queue op (expected enqueue, dequeue)"
            )),
        }
    }
    fn init(&self) -> Box<[u32]> {
        Box::new([])
    }
    fn step(&self, s: &Box<[u32]>, op: &QueueOp) -> Result<Box<[u32]>, String> {
        self.try_step(s, op).ok_or_else(|| {
            let head = s
                .first()
                .map_or("nothing".to_string(), |&h| self.values.render(h));
            format!("can't {}: the head is {head}", self.render_op(op))
        })
    }
    fn try_step(&self, s: &Box<[u32]>, op: &QueueOp) -> Option<Box<[u32]>> {
        match *op {
            QueueOp::Enqueue(v) => {
                let mut n = s.to_vec();
                n.push(v);
                Some(n.into_boxed_slice())
            }
            QueueOp::Dequeue(Interner::NULL) => s.is_empty().then(|| s.clone()),
            QueueOp::Dequeue(v) => (s.first() == Some(&v)).then(|| s[1..].into()),
            QueueOp::DequeueAny if s.is_empty() => Some(s.clone()),
            QueueOp::DequeueAny => Some(s[1..].into()),
        }
    }
    fn is_read_only(&self, _: &QueueOp) -> bool {
        false
    }
    fn render_state(&self, s: &Box<[u32]>) -> String {
        let parts: Vec<String> = s.iter().map(|&v| self.values.render(v)).collect();
        format!("[{}]", parts.join(" "))
    }
    fn render_op(&self, op: &QueueOp) -> String {
        match *op {
            QueueOp::Enqueue(v) => format!("enqueue {}", self.values.render(v)),
            QueueOp::Dequeue(v) => format!("dequeue {}", self.values.render(v)),
            QueueOp::DequeueAny => "dequeue ?".into(),
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
    fn dequeue_order_is_fifo() {
        let mut m = FifoQueue::default();
        let e1 = m.compile("enqueue", &json!(1), Some(&json!(1))).unwrap();
        let e2 = m.compile("enqueue", &json!(2), Some(&json!(2))).unwrap();
        let d2 = m.compile("dequeue", &Value::Null, Some(&json!(2))).unwrap();
        let d1 = m.compile("dequeue", &Value::Null, Some(&json!(1))).unwrap();
        let dnil = m
            .compile("dequeue", &Value::Null, Some(&Value::Null))
            .unwrap();
        let s = m.step(&m.step(&m.init(), &e1).unwrap(), &e2).unwrap();
        assert!(m.try_step(&s, &d2).is_none());
        let s = m.step(&s, &d1).unwrap();
        assert!(m.try_step(&s, &dnil).is_none());
        assert!(m.try_step(&m.init(), &dnil).is_some());
        assert!(m.try_step(&m.init(), &QueueOp::DequeueAny).is_some());
    }
}
