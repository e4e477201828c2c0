//! faultline: a Jepsen-style fault-injection test harness.
//!
//! One binary starts a cluster as local processes (or on SSH hosts), drives concurrent client
//! workloads while a nemesis kills, pauses and partitions nodes, skews clocks, degrades links and
//! loses un-fsynced writes, records the history of every operation and checks it for
//! linearizability. See `../shared/DESIGN.md` for the architecture.
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
//! - [`cluster`]: cluster spec, rendering, starting, signalling and reaping nodes through a host.
//! - [`host`]: where nodes run: this machine, or remote hosts over SSH; the namespaced sshd lab.
//! - [`net`]: partition backends (userspace TCP proxy, netns + nftables).
//! - [`disk`]: the FUSE lazy filesystem behind the disk faults (lost, torn, failed writes).
//! - [`client`]: talking to nodes and classifying results as ok / fail / info.
//! - [`workload`]: seeded operation generators.
//! - [`nemesis`]: faults as verbs over node sets, seeded schedules, requirements, fault coverage.
//! - [`clock`]: clock faults through libfaketime (per-node control files, the preload, ELF checks).
//! - [`runner`]: one test run end to end.
//! - [`report`]: terminal summary, HTML report, JUnit XML, results.json.
//! - [`bench`]: built-in benchmark suites behind `faultline bench`.
//! - [`exit`]: the exit-code contract shared by every subcommand.
//! - [`owner`]: process identity (pid + start time) for the crash-safe registries and sweeps.

#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod client;
pub mod clock;
pub mod cluster;
pub mod disk;
pub mod exit;
pub mod host;
pub mod nemesis;
pub mod net;
pub mod owner;
pub mod plan;
pub mod report;
pub mod runner;
pub mod workload;

pub use faultline_checker as checker;
pub use faultline_checker::history;
pub use faultline_raft as raft;
pub use faultline_raft::protocol;
