//! Stable storage of a Raft node behind one small trait: hard state, log entries and the latest
//! snapshot. [`MemStorage`] keeps everything in memory (tests, the `memory-log` bug);
//! [`FileStorage`] writes checksummed records and fsyncs.

mod file;
mod memory;

pub use file::FileStorage;
pub use memory::MemStorage;

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
    /// A file that has no tail to discard (hard state, snapshot) is unreadable.
    #[error("{path}: corrupt ({reason}); move the data dir away to start this node empty")]
    Corrupt {
        /// The file involved.
        path: String,
        /// What was wrong.
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
    /// Store `snap` and drop entries it covers; with `keep_log == false` drop the whole log.
    fn set_snapshot(&mut self, snap: &Snapshot, keep_log: bool) -> Result<(), StorageError>;
    /// Make all earlier writes durable.
    fn sync(&mut self) -> Result<(), StorageError>;
}
