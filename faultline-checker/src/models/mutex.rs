//! Knossos `mutex`: `acquire` and `release`, starting unlocked. The owner is not tracked, so any
//! process may release (as in Knossos). Values are ignored.

use serde_json::Value;

use crate::model::Model;

/// A compiled mutex op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MutexOp {
    /// Take the lock; illegal while held.
    Acquire,
    /// Drop the lock; illegal while free.
    Release,
}

/// The mutex model (state: held?).
#[derive(Debug, Clone, Default)]
pub struct Mutex;

impl Model for Mutex {
    type State = bool;
    type Op = MutexOp;

    fn compile(&mut self, f: &str, _: &Value, _: Option<&Value>) -> Result<MutexOp, String> {
        match f {
            "acquire" => Ok(MutexOp::Acquire),
            "release" => Ok(MutexOp::Release),
            other => Err(format!(
                "f {other:?} is not a mutex op (expected acquire, release)"
            )),
        }
    }
    fn init(&self) -> bool {
        false
    }
    fn step(&self, held: &bool, op: &MutexOp) -> Result<bool, String> {
        match (op, held) {
            (MutexOp::Acquire, false) => Ok(true),
            (MutexOp::Acquire, true) => Err("already held".into()),
            (MutexOp::Release, true) => Ok(false),
            (MutexOp::Release, false) => Err("not held".into()),
        }
    }
    fn try_step(&self, held: &bool, op: &MutexOp) -> Option<bool> {
        match op {
            MutexOp::Acquire => (!held).then_some(true),
            MutexOp::Release => held.then_some(false),
        }
    }
    fn is_read_only(&self, _: &MutexOp) -> bool {
        false
    }
    fn render_state(&self, held: &bool) -> String {
        if *held { "locked" } else { "free" }.into()
    }
    fn render_op(&self, op: &MutexOp) -> String {
        match op {
            MutexOp::Acquire => "acquire",
            MutexOp::Release => "release",
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_acquire_is_illegal() {
        let m = Mutex;
        let s = m.step(&false, &MutexOp::Acquire).unwrap();
        assert_eq!(m.step(&s, &MutexOp::Acquire).unwrap_err(), "already held");
        assert_eq!(m.step(&false, &MutexOp::Release).unwrap_err(), "not held");
    }
}
