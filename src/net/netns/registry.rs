//! The on-disk registry of live netns runs (`/run/faultline/netns/<run id>.json`): who owns each
//! run's namespaces, so a later run can tell a crashed run's leftovers from a live neighbour's.
//!
//! A run writes its record (owner pid + the owner's start time, to survive pid reuse) *before* it
//! creates anything, under the directory's lock ([`crate::registry`]); the stale sweep takes the
//! same lock.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::net::NetError;
use crate::registry::{RecordDir, RegistryError, RunRecord};

/// The registry directory every run on the host shares.
pub const DEFAULT_DIR: &str = "/run/faultline/netns";

/// What one run created and who owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The run id (six hex digits).
    pub run_id: String,
    /// Pid of the owning process.
    pub pid: u32,
    /// The owner's start time (field 22 of `/proc/<pid>/stat`), so a reused pid is not mistaken
    /// for the owner.
    pub start_time: u64,
    /// Third octet of the run's `10.77.x.0/24`.
    pub subnet: u8,
    /// Every namespace the run creates.
    pub namespaces: Vec<String>,
    /// The run's veth in the root namespace.
    pub host_link: String,
    /// Set for a `faultline lab`: its directory. A lab outlives the process that made it, so it
    /// is alive while `<lab>/lab.json` exists, whatever became of `pid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lab: Option<PathBuf>,
}

impl RunRecord for Record {
    fn run_id(&self) -> &str {
        &self.run_id
    }
}

/// The netns registry directory (lock, list, write, remove: [`crate::registry`]).
pub type Registry = RecordDir<Record>;

impl From<RegistryError> for NetError {
    fn from(e: RegistryError) -> NetError {
        NetError::Command {
            command: format!("{} {}", e.what, e.path.display()),
            message: format!(
                "{} (the netns backend keeps its registry there; it needs root)",
                e.source
            ),
        }
    }
}

/// Whether the owner of `record` is still there: the process that wrote it, or for a lab, its
/// directory's `lab.json`.
pub fn is_alive(record: &Record) -> bool {
    match &record.lab {
        Some(dir) => dir.join("lab.json").exists(),
        None => crate::owner::alive(record.pid, record.start_time),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(run_id: &str, pid: u32, start_time: u64) -> Record {
        Record {
            run_id: run_id.into(),
            pid,
            start_time,
            subnet: 3,
            namespaces: vec![format!("fl-{run_id}-br")],
            host_link: format!("fl-{run_id}-h"),
            lab: None,
        }
    }

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not() {
        let (pid, t) = crate::owner::identity();
        assert!(is_alive(&record("aaaaaa", pid, t)));
        assert!(!is_alive(&record("aaaaaa", pid, t + 1)));
        assert!(!is_alive(&record("aaaaaa", u32::MAX, t)));
    }

    #[test]
    fn a_lab_lives_as_long_as_its_directory_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = record("bbbbbb", u32::MAX, 0);
        r.lab = Some(dir.path().to_path_buf());
        assert!(!is_alive(&r));
        std::fs::write(dir.path().join("lab.json"), "{}").unwrap();
        assert!(is_alive(&r));
    }

    #[test]
    fn records_round_trip_and_junk_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::at(dir.path());
        let _lock = reg.lock().unwrap();
        reg.write(&record("abcdef", 7, 9)).unwrap();
        std::fs::write(dir.path().join("junk.json"), "{").unwrap();
        let (records, junk) = reg.list();
        assert_eq!(records, vec![record("abcdef", 7, 9)]);
        assert_eq!(junk, vec![dir.path().join("junk.json")]);
        reg.remove("abcdef").unwrap();
        reg.remove("abcdef").unwrap();
        assert!(reg.list().0.is_empty());
    }
}
