//! The on-disk registry of live netns runs (`/run/faultline/netns/<run id>.json`): who owns each
//! run's namespaces, so a later run can tell a crashed run's leftovers from a live neighbour's.
//!
//! A run writes its record (owner pid + the owner's start time, to survive pid reuse) *before* it
//! creates anything, under an exclusive lock on `.lock` in the same directory; the stale sweep
//! takes the same lock. `/run` is a tmpfs, so records vanish on reboot together with the
//! namespaces they describe.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::net::NetError;

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

/// A registry directory.
#[derive(Debug, Clone)]
pub struct Registry {
    dir: PathBuf,
}

/// Held while the registry is locked; unlocks when dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Registry {
    /// The registry at `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Registry {
        Registry { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Take the registry's exclusive lock (blocks while another run holds it).
    pub fn lock(&self) -> Result<Lock, NetError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io_err("create", &self.dir, e))?;
        let path = self.dir.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| self.io_err("open", &path, e))?;
        file.lock().map_err(|e| self.io_err("lock", &path, e))?;
        Ok(Lock { _file: file })
    }

    /// Every record, and the paths of files that could not be read as one (left for the caller to
    /// decide on; the sweep deletes them).
    pub fn list(&self) -> (Vec<Record>, Vec<PathBuf>) {
        let mut records = Vec::new();
        let mut unreadable = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return (records, unreadable);
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let parsed = std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<Record>(&b).ok());
            match parsed {
                Some(r) => records.push(r),
                None => unreadable.push(path),
            }
        }
        (records, unreadable)
    }

    /// Write `record` (atomically: temp file + rename).
    pub fn write(&self, record: &Record) -> Result<(), NetError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io_err("create", &self.dir, e))?;
        let path = self.path_of(&record.run_id);
        let tmp = path.with_extension("tmp");
        let bytes = serde_json::to_vec_pretty(record).map_err(|e| NetError::Command {
            command: format!("write {}", path.display()),
            message: e.to_string(),
        })?;
        std::fs::write(&tmp, bytes).map_err(|e| self.io_err("write", &tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| self.io_err("rename", &path, e))
    }

    /// Remove the record of `run_id` (missing is fine).
    pub fn remove(&self, run_id: &str) -> Result<(), NetError> {
        let path = self.path_of(run_id);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(self.io_err("remove", &path, e))
            }
            _ => Ok(()),
        }
    }

    /// Path of `run_id`'s record.
    pub fn path_of(&self, run_id: &str) -> PathBuf {
        self.dir.join(format!("{run_id}.json"))
    }

    fn io_err(&self, what: &str, path: &Path, e: std::io::Error) -> NetError {
        NetError::Command {
            command: format!("{what} {}", path.display()),
            message: format!(
                "{e} (the netns backend keeps its registry in {}; it needs root)",
                self.dir.display()
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
