//! The on-disk registry of live lazy-filesystem mounts (`/run/faultline/mounts/<run id>.json`),
//! in the pattern of the netns registry: a run records its owner (pid + start time, to survive
//! pid reuse) and each mountpoint *before* mounting it, under an exclusive lock on `.lock`; the
//! sweep takes the same lock, lazily unmounts the mounts of dead owners and drops their records.
//! A mount of ours that no record names (a lost registry) is swept too. `/run` is a tmpfs, so
//! records vanish on reboot together with the mounts.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::DiskError;
use crate::owner;

/// The registry directory every run on the host shares.
pub const DEFAULT_DIR: &str = "/run/faultline/mounts";

/// The FUSE source name of every lazy filesystem (`fsname=`), how a sweep recognises ours.
pub const FS_NAME: &str = "faultline-lazyfs";

/// One run's mounts and who owns them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The run id (six hex digits).
    pub run_id: String,
    /// Pid of the owning process.
    pub pid: u32,
    /// The owner's start time (field 22 of `/proc/<pid>/stat`).
    pub start_time: u64,
    /// Every mountpoint the run mounted or is about to mount.
    pub mounts: Vec<PathBuf>,
}

/// A registry directory.
#[derive(Debug, Clone)]
pub struct Registry {
    dir: PathBuf,
}

/// Held while the registry is locked.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Registry {
    /// The registry at `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Registry {
        Registry { dir: dir.into() }
    }

    fn err(&self, what: &str, path: &Path, e: std::io::Error) -> DiskError {
        DiskError::Io {
            what: format!("{what} {} (the mount registry; needs root)", path.display()),
            source: e,
        }
    }

    /// Take the exclusive lock (blocks while another run holds it).
    pub fn lock(&self) -> Result<Lock, DiskError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.err("create", &self.dir, e))?;
        let path = self.dir.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| self.err("open", &path, e))?;
        file.lock().map_err(|e| self.err("lock", &path, e))?;
        Ok(Lock { _file: file })
    }

    /// Every readable record; unreadable files are removed.
    pub fn list(&self) -> Vec<Record> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for path in entries.flatten().map(|e| e.path()) {
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<Record>(&b).ok())
            {
                Some(r) => out.push(r),
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        out
    }

    /// Write `record` atomically (temp file + rename).
    pub fn write(&self, record: &Record) -> Result<(), DiskError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.err("create", &self.dir, e))?;
        let path = self.dir.join(format!("{}.json", record.run_id));
        let tmp = path.with_extension("tmp");
        let bytes = serde_json::to_vec_pretty(record).unwrap_or_default();
        std::fs::write(&tmp, bytes).map_err(|e| self.err("write", &tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| self.err("rename", &path, e))
    }

    /// Remove `run_id`'s record (missing is fine).
    pub fn remove(&self, run_id: &str) {
        let _ = std::fs::remove_file(self.dir.join(format!("{run_id}.json")));
    }

    /// A new record for this process with a run id no record uses.
    pub fn new_record(&self) -> Record {
        let taken: Vec<String> = self.list().into_iter().map(|r| r.run_id).collect();
        let run_id = (0..64)
            .map(|_| format!("{:06x}", rand::random::<u32>() & 0x00ff_ffff))
            .find(|id| !taken.contains(id))
            .unwrap_or_else(|| format!("{:06x}", std::process::id() & 0x00ff_ffff));
        let (pid, start_time) = owner::identity();
        Record {
            run_id,
            pid,
            start_time,
            mounts: Vec::new(),
        }
    }

    /// Unmount (lazily) every mount of a dead owner and every lazy filesystem no live record
    /// names; drop dead records. Caller holds the lock. Returns the mountpoints unmounted.
    pub fn sweep(&self) -> Vec<PathBuf> {
        let records = self.list();
        let (live, dead): (Vec<Record>, Vec<Record>) = records
            .into_iter()
            .partition(|r| owner::alive(r.pid, r.start_time));
        let mounted = our_mounts();
        let mut swept = Vec::new();
        for m in &mounted {
            if !live.iter().any(|r| r.mounts.contains(m)) && detach(m) {
                swept.push(m.clone());
            }
        }
        for r in dead {
            self.remove(&r.run_id);
        }
        swept
    }
}

/// Lazily unmount `mountpoint`; true if it was unmounted.
pub fn detach(mountpoint: &Path) -> bool {
    nix::mount::umount2(mountpoint, nix::mount::MntFlags::MNT_DETACH).is_ok()
}

/// Mountpoints of every lazy filesystem in this mount namespace.
pub fn our_mounts() -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|t| parse_mountinfo(&t))
        .unwrap_or_default()
}

/// Mountpoints whose source is [`FS_NAME`] and whose type is FUSE, from mountinfo text.
pub fn parse_mountinfo(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mut r = right.split_whitespace();
            let (fstype, source) = (r.next()?, r.next()?);
            if !fstype.starts_with("fuse") || source != FS_NAME {
                return None;
            }
            left.split_whitespace()
                .nth(4)
                .map(|m| PathBuf::from(unescape(m)))
        })
        .collect()
}

/// Undo mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_our_fuse_mounts_in_mountinfo() {
        let text = "36 35 98:0 / /mnt1 rw,noatime master:1 - ext3 /dev/root rw\n\
                    90 30 0:50 / /tmp/run\\040a/data/n1 rw,nosuid shared:5 - fuse faultline-lazyfs rw,user_id=0\n\
                    91 30 0:51 / /tmp/other rw - fuse.sshfs host:/ rw\n";
        assert_eq!(
            parse_mountinfo(text),
            vec![PathBuf::from("/tmp/run a/data/n1")]
        );
    }

    #[test]
    fn records_round_trip_and_dead_records_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::at(dir.path());
        let _lock = reg.lock().unwrap();
        let mut mine = reg.new_record();
        mine.mounts.push("/nonexistent/a".into());
        reg.write(&mine).unwrap();
        let dead = Record {
            run_id: "dead00".into(),
            pid: u32::MAX,
            start_time: 1,
            mounts: vec!["/nonexistent/b".into()],
        };
        reg.write(&dead).unwrap();
        std::fs::write(dir.path().join("junk.json"), "{").unwrap();
        reg.sweep();
        assert_eq!(reg.list(), vec![mine.clone()]);
        reg.remove(&mine.run_id);
        assert!(reg.list().is_empty());
    }
}
