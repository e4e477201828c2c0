//! The read/write register (Knossos `register`): `read` and `write v`, no cas. Shares its op type
//! and transition function with the cas-register.

use serde_json::Value;

use super::cas_register::{CasRegister, RegOp};
use crate::model::Model;

/// The register model: a cas-register that rejects `cas` ops at compile time.
#[derive(Debug, Clone)]
pub struct Register(CasRegister);

impl Register {
    /// A register starting at `init`.
    pub fn new(init: &Value) -> Self {
        Register(CasRegister::build(init, false))
    }
}

impl Model for Register {
    type State = u32;
    type Op = RegOp;

    fn compile(&mut self, f: &str, invoke: &Value, done: Option<&Value>) -> Result<RegOp, String> {
        self.0.compile(f, invoke, done)
    }
    fn init(&self) -> u32 {
        self.0.init()
    }
    fn step(&self, s: &u32, op: &RegOp) -> Result<u32, String> {
        self.0.step(s, op)
    }
    fn try_step(&self, s: &u32, op: &RegOp) -> Option<u32> {
        self.0.try_step(s, op)
    }
    fn is_read_only(&self, op: &RegOp) -> bool {
        self.0.is_read_only(op)
    }
    fn render_state(&self, s: &u32) -> String {
        self.0.render_state(s)
    }
    fn render_op(&self, op: &RegOp) -> String {
        self.0.render_op(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn register_rejects_cas() {
        let mut m = Register::new(&json!(0));
        assert!(m.compile("cas", &json!([0, 1]), None).is_err());
        let r0 = m.compile("read", &json!(null), Some(&json!(0))).unwrap();
        assert_eq!(m.try_step(&m.init(), &r0), Some(m.init()));
    }
}
