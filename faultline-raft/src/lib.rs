//! The reference Raft key-value node `faultline-raft`, hand-written on tokio, and the HTTP-KV wire
//! protocol it speaks ([`protocol`], the contract users' own nodes implement). Depends on no other
//! faultline crate.
//!
//! # Layout
//!
//! - `types`: entries, commands, hard state, snapshots, peer messages.
//! - `log`, `progress`: the in-memory log and the leader's per-follower progress.
//! - `core`: the pure Raft state machine (tick / step / propose → [`core::Ready`]).
//! - `kv`: the replicated key-value state machine.
//! - `lease`: a leader lease timed by the node's clock (only the seeded bug `lease-read` uses it).
//! - `storage`: the [`storage::Storage`] trait, in-memory and fsynced file storage.
//! - `transport`: peer RPC over TCP (length-prefixed JSON frames, reconnecting, never blocking).
//! - `node`: the tokio driver that persists, sends, applies and answers clients.
//! - `http`: the client API of [`crate::protocol`] (axum).
//! - `bugs`: seeded bugs switched on by `--bug NAME`.
//! - `config`: the validated node configuration and flag parsing helpers.
//! - `request`: client requests between `http` and `node`.
//! - [`protocol`]: the HTTP-KV wire types shared by faultline's clients and this node.
//! - [`cli`]: the `faultline-raft` flags and entry point.
//! - `simulation` (tests only): the randomized multi-node simulation of `core`.

#![warn(missing_docs)]

pub mod bugs;
pub mod cli;
pub mod config;
pub mod core;
pub mod kv;
pub mod lease;
pub mod log;
pub mod progress;
pub mod protocol;
pub mod storage;
pub mod types;

#[cfg(test)]
mod simulation;

pub mod http;
pub mod node;
pub mod request;
pub mod transport;

pub use config::NodeConfig;
pub use node::{run, NodeError};
