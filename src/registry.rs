//! A directory of crash-safe run records that every run on the host shares
//! (`/run/faultline/<what>/<run id>.json`): the netns backend records the namespaces it creates,
//! the lazy filesystem its mounts. A run writes its record (owner pid + start time, see
//! [`crate::owner`]) *before* it creates anything, under an exclusive lock on `.lock` in the same
//! directory; a later run's sweep takes the same lock and removes what dead owners left. `/run` is
//! a tmpfs, so records vanish on reboot together with what they describe.
//!
//! This module owns the directory mechanics (lock, list, atomic write, remove, fresh run ids);
//! what a record holds and how a sweep undoes it belong to its user.

use std::fs::File;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A record kept in a [`RecordDir`]: serialisable and named by its run id.
pub trait RunRecord: Serialize + DeserializeOwned {
    /// The run id, also the record's file name (`<run id>.json`).
    fn run_id(&self) -> &str;
}

/// A registry file or directory that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot {what} {} (the run registry under /run/faultline; it needs root): {source}", path.display())]
pub struct RegistryError {
    /// What was being done (`lock`, `write`, ...).
    pub what: &'static str,
    /// The file or directory.
    pub path: PathBuf,
    /// The OS error.
    #[source]
    pub source: std::io::Error,
}

/// The records of one kind, in one directory.
#[derive(Debug, Clone)]
pub struct RecordDir<R> {
    dir: PathBuf,
    _records: PhantomData<fn() -> R>,
}

/// Held while the directory is locked; unlocks when dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl<R: RunRecord> RecordDir<R> {
    /// The records at `dir` (created on first write or lock).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        RecordDir {
            dir: dir.into(),
            _records: PhantomData,
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of `run_id`'s record.
    pub fn path_of(&self, run_id: &str) -> PathBuf {
        self.dir.join(format!("{run_id}.json"))
    }

    /// Take the exclusive lock (blocks while another run holds it).
    pub fn lock(&self) -> Result<Lock, RegistryError> {
        std::fs::create_dir_all(&self.dir).map_err(err("create", &self.dir))?;
        let path = self.dir.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(err("open", &path))?;
        file.lock().map_err(err("lock", &path))?;
        Ok(Lock { _file: file })
    }

    /// Every readable record, and the paths of `.json` files that could not be read as one
    /// (left for the caller to decide on; sweeps delete them).
    pub fn list(&self) -> (Vec<R>, Vec<PathBuf>) {
        let mut records = Vec::new();
        let mut unreadable = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return (records, unreadable);
        };
        for path in entries.flatten().map(|e| e.path()) {
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<R>(&b).ok())
            {
                Some(r) => records.push(r),
                None => unreadable.push(path),
            }
        }
        (records, unreadable)
    }

    /// Write `record` atomically (temp file + rename).
    pub fn write(&self, record: &R) -> Result<(), RegistryError> {
        std::fs::create_dir_all(&self.dir).map_err(err("create", &self.dir))?;
        let path = self.path_of(record.run_id());
        let tmp = path.with_extension("tmp");
        let bytes = serde_json::to_vec_pretty(record)
            .map_err(|e| err("serialise", &path)(std::io::Error::other(e)))?;
        std::fs::write(&tmp, bytes).map_err(err("write", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(err("rename", &path))
    }

    /// Remove `run_id`'s record (missing is fine).
    pub fn remove(&self, run_id: &str) -> Result<(), RegistryError> {
        let path = self.path_of(run_id);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(err("remove", &path)(e)),
            _ => Ok(()),
        }
    }

    /// A run id (six hex digits) that no record here uses.
    pub fn unused_run_id(&self) -> String {
        let (records, _) = self.list();
        (0..64)
            .map(|_| format!("{:06x}", rand::random::<u32>() & 0x00ff_ffff))
            .find(|id| !records.iter().any(|r| r.run_id() == id))
            .unwrap_or_else(|| format!("{:06x}", std::process::id() & 0x00ff_ffff))
    }
}

fn err(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError {
    let path = path.to_path_buf();
    move |source| RegistryError { what, path, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Rec {
        run_id: String,
        n: u32,
    }

    impl RunRecord for Rec {
        fn run_id(&self) -> &str {
            &self.run_id
        }
    }

    #[test]
    fn records_round_trip_junk_is_reported_and_ids_are_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let reg = RecordDir::<Rec>::at(dir.path().join("r"));
        let _lock = reg.lock().unwrap();
        let id = reg.unused_run_id();
        assert_eq!(id.len(), 6);
        reg.write(&Rec {
            run_id: id.clone(),
            n: 7,
        })
        .unwrap();
        std::fs::write(reg.dir().join("junk.json"), "{").unwrap();
        let (records, junk) = reg.list();
        assert_eq!(
            records,
            vec![Rec {
                run_id: id.clone(),
                n: 7
            }]
        );
        assert_eq!(junk, vec![reg.dir().join("junk.json")]);
        assert_ne!(reg.unused_run_id(), id);
        reg.remove(&id).unwrap();
        reg.remove(&id).unwrap();
        assert!(reg.list().0.is_empty());
    }

    #[test]
    fn an_unusable_directory_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, "x").unwrap();
        let reg = RecordDir::<Rec>::at(file.join("sub"));
        let e = reg.lock().unwrap_err().to_string();
        assert!(e.contains("plain-file/sub"), "{e}");
    }
}
