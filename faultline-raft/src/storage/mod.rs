//! Stable storage of a Raft node behind one small trait: hard state, log entries and the latest
//! snapshot. [`MemStorage`] keeps everything in memory (tests, the simulation, the `memory-log`
//! bug); [`FileStorage`] writes checksummed records and fsyncs.

mod file;
mod memory;
mod record;

pub use file::FileStorage;
pub use memory::MemStorage;

pub use crate::log::after_snapshot;

use super::types::{Entry, HardState, Snapshot};

/// A storage operation failed; the node must stop rather than answer without durability.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An I/O call on `path` failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A stored file is damaged in a way no crash explains (for the log: before its last record).
    #[error(
        "{path}: corrupt at byte offset {offset}: {reason}; refusing to start on damaged data \
         (restore the data dir, or move it away to rejoin empty, which forgets this node's votes \
         and entries)"
    )]
    Corrupt {
        /// The file involved.
        path: String,
        /// Where the damage starts.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A record could not be encoded; nothing was written.
    #[error("cannot encode {what}: {reason}")]
    Encode {
        /// What was being written.
        what: &'static str,
        /// The serializer's error.
        reason: String,
    },
}

/// What a node finds on startup.
#[derive(Debug, Clone, Default)]
pub struct Recovered {
    /// Term and vote.
    pub hard_state: HardState,
    /// Latest snapshot (index 0 when none).
    pub snapshot: Snapshot,
    /// Entries after the snapshot, in order.
    pub entries: Vec<Entry>,
}

/// Durable state of one node. Writes may be buffered until [`Storage::sync`], which makes every
/// earlier write durable (group commit: one fsync per batch).
pub trait Storage: Send {
    /// Read everything back (after a restart).
    fn recover(&mut self) -> Result<Recovered, StorageError>;
    /// Replace the hard state.
    fn set_hard_state(&mut self, hs: &HardState) -> Result<(), StorageError>;
    /// Drop stored entries at `entries[0].index` and after, then append `entries`.
    fn append(&mut self, entries: &[Entry]) -> Result<(), StorageError>;
    /// Store `snap` (durably, before returning) and keep only the entries [`after_snapshot`]
    /// allows: the suffix after it when the log holds its last entry, otherwise none.
    fn set_snapshot(&mut self, snap: &Snapshot) -> Result<(), StorageError>;
    /// Make all earlier writes durable.
    fn sync(&mut self) -> Result<(), StorageError>;
}
