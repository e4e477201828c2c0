//! Workloads: seeded operation generators, key distribution, rate limiting and the concurrent
//! client workers that record every invoke and completion. Knows nothing about faults and never
//! judges correctness (the checker does).
//!
//! - [`spec`]: the workload TOML file (`workloads/*.toml`) and its validation.
//! - [`generator`]: per-worker seeded op generators (ChaCha8 from the plan seed).
//! - [`rate`]: a global ops/s limit shared by every worker, evenly spaced or Poisson arrivals.
//! - [`txn_gen`]: the shared transaction generator (key rotation, unique values per key).
//! - [`driver`]: the workers (one process id each, a fresh one after every `info`) and final reads.

pub mod driver;
pub mod generator;
pub mod rate;
pub mod spec;
pub mod txn_gen;

pub use driver::{drive, final_reads, final_requests, DriveConfig, DriveStats, Progress};
pub use generator::OpGenerator;
pub use rate::{Arrivals, RateLimiter};
pub use spec::{
    KeyDistribution, Mix, TxnKind, TxnShape, WorkloadError, WorkloadKind, WorkloadSpec,
};
pub use txn_gen::TxnGenerator;
