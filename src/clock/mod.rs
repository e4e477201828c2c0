//! Clock faults through libfaketime: a node started with `LD_PRELOAD=libfaketime` and a per-node
//! control file (`FAKETIME_TIMESTAMP_FILE`, re-read on every clock call with
//! `FAKETIME_NO_CACHE=1`) sees its wall clock — and, unless told not to
//! (`FAKETIME_DONT_FAKE_MONOTONIC=1`), its monotonic clock — moved by whatever offset the
//! nemesis writes into that file. Owns the control files; must not leave one behind.
//!
//! - [`libfaketime`]: finding the library (Debian package `libfaketime`).
//! - [`elf`]: whether a node binary can be reached by a preload at all (statically linked
//!   binaries and Go programs read the clock without libc).
//! - [`ClockControl`]: one run's control files, the environment nodes start with, and setting
//!   one node's offset.

mod control;
pub mod elf;
pub mod libfaketime;

pub use control::{ClockControl, CONTROL_ROOT};

use std::path::PathBuf;

/// Errors writing or removing clock control files.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    /// A control file or directory could not be written or removed.
    #[error("clock control file {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A node this run does not control.
    #[error("no clock control file for node {0:?}")]
    UnknownNode(String),
}
