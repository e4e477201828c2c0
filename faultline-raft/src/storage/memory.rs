//! In-memory [`Storage`]: nothing survives the process. The simulation uses it as a node's disk:
//! what a `Ready` wrote here before a crash is exactly what the restarted node recovers.

use super::{after_snapshot, Recovered, Storage, StorageError};
use crate::types::{Entry, HardState, Snapshot};

/// Storage that forgets everything on exit.
#[derive(Debug, Clone, Default)]
pub struct MemStorage {
    state: Recovered,
}

impl MemStorage {
    /// What a restart would recover, without cloning it.
    pub fn state(&self) -> &Recovered {
        &self.state
    }
}

impl Storage for MemStorage {
    fn recover(&mut self) -> Result<Recovered, StorageError> {
        Ok(self.state.clone())
    }

    fn set_hard_state(&mut self, hs: &HardState) -> Result<(), StorageError> {
        self.state.hard_state = hs.clone();
        Ok(())
    }

    fn append(&mut self, entries: &[Entry]) -> Result<(), StorageError> {
        if let Some(first) = entries.first() {
            self.state.entries.retain(|e| e.index < first.index);
            self.state.entries.extend_from_slice(entries);
        }
        Ok(())
    }

    fn set_snapshot(&mut self, snap: &Snapshot) -> Result<(), StorageError> {
        let entries = std::mem::take(&mut self.state.entries);
        self.state.entries = after_snapshot(entries, snap);
        self.state.snapshot = snap.clone();
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}
