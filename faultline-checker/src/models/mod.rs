//! The reference models, one file each. Each implements [`crate::Model`]; `kv` is the
//! cas-register applied per key (the append-register when the history has `append` ops).

mod append_register;
mod cas_register;
mod counter;
mod fifo_queue;
mod multi_register;
mod mutex;
mod register;
mod set;

pub use append_register::{AppendOp, AppendRegister, Text};
pub use cas_register::{CasRegister, RegOp};
pub use counter::{Counter, CounterOp};
pub use fifo_queue::{FifoQueue, QueueOp};
pub use multi_register::{Micro, MultiRegister};
pub use mutex::{Mutex, MutexOp};
pub use register::Register;
pub use set::{Set, SetOp};
