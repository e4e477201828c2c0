//! In-memory [`Storage`]: nothing survives the process.

use super::{Recovered, Storage, StorageError};
use crate::types::{Entry, HardState, Snapshot};

/// Storage that forgets everything on exit.
#[derive(Debug, Default)]
pub struct MemStorage {
    state: Recovered,
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

    fn set_snapshot(&mut self, snap: &Snapshot, keep_log: bool) -> Result<(), StorageError> {
        if keep_log {
            self.state.entries.retain(|e| e.index > snap.index);
        } else {
            self.state.entries.clear();
        }
        self.state.snapshot = snap.clone();
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}
