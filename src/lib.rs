//! faultline: a Jepsen-style fault-injection test harness.
//!
//! One binary starts a cluster as local processes, drives concurrent client workloads while a
//! nemesis kills, pauses and partitions nodes, records the history of every operation and checks it
//! for linearizability. See `../shared/DESIGN.md` for the architecture.
//!
//! # Layout
//!
//! - [`cli`]: clap argument structs, one file per subcommand; the only module that imports clap.
//! - [`plan`]: the validated, resolved test plan (flags + TOML files + seed); defaults live here.
//! - [`protocol`]: the HTTP-KV wire types shared by clients and the reference node (re-exported
//!   from the `faultline-raft` crate).
//! - [`history`]: `Op`, `History`, JSONL read/write, Jepsen EDN import, well-formedness checks
//!   (re-exported from the `faultline-checker` crate).
//! - [`checker`]: linearizability search, `Model` trait and models, counterexamples, budgets (the
//!   `faultline-checker` crate: no tokio, no processes; usable on its own as a library).
//! - [`raft`]: the reference Raft node `faultline-raft` (the `faultline-raft` crate: pure core +
//!   tokio driver + seeded bugs).
//! - [`cluster`]: cluster spec, spawning, signalling and reaping node processes.
//! - [`net`]: partition backends (userspace TCP proxy, netns + nftables).
//! - [`client`]: talking to nodes and classifying results as ok / fail / info.
//! - [`workload`]: seeded operation generators.
//! - [`nemesis`]: faults as verbs over node sets, seeded schedules, requirements, fault coverage.
//! - [`clock`]: clock faults through libfaketime (per-node control files, the preload, ELF checks).
//! - [`runner`]: one test run end to end.
//! - [`report`]: terminal summary, HTML report, JUnit XML, results.json.
//! - [`bench`]: built-in benchmark suites behind `faultline bench`.
//! - [`exit`]: the exit-code contract shared by every subcommand.

#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod client;
pub mod clock;
pub mod cluster;
pub mod exit;
pub mod nemesis;
pub mod net;
pub mod plan;
pub mod report;
pub mod runner;
pub mod workload;

pub use faultline_checker as checker;
pub use faultline_checker::history;
pub use faultline_raft as raft;
pub use faultline_raft::protocol;
