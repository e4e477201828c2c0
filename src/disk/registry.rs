//! The on-disk registry of live lazy-filesystem mounts (`/run/faultline/mounts/<run id>.json`),
//! kept like the netns registry ([`crate::registry`]): a run records its owner (pid + start time, to
//! survive pid reuse) and each mountpoint *before* mounting it, under the directory's lock; the
//! sweep takes the same lock, lazily unmounts the mounts of dead owners and drops their records.
//! A mount of ours that no record names (a lost registry) is swept too. `/run` is a tmpfs, so
//! records vanish on reboot together with the mounts.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::DiskError;
use crate::owner;
use crate::registry::{RecordDir, RegistryError, RunRecord};

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

impl RunRecord for Record {
    fn run_id(&self) -> &str {
        &self.run_id
    }
}

/// The mount registry directory (lock, list, write, remove: [`crate::registry`]).
pub type Registry = RecordDir<Record>;

impl From<RegistryError> for DiskError {
    fn from(e: RegistryError) -> DiskError {
        DiskError::Io {
            what: format!(
                "{} {} (the mount registry; needs root)",
                e.what,
                e.path.display()
            ),
            source: e.source,
        }
    }
}

/// A new record for this process with a run id no record in `registry` uses.
pub fn new_record(registry: &Registry) -> Record {
    let (pid, start_time) = owner::identity();
    Record {
        run_id: registry.unused_run_id(),
        pid,
        start_time,
        mounts: Vec::new(),
    }
}

/// Unmount (lazily) every mount of a dead owner and every lazy filesystem no live record names;
/// drop dead and unreadable records. Caller holds the lock. Returns the mountpoints unmounted.
///
/// Only ever call this with the registry every run shares ([`DEFAULT_DIR`]): the mounts it
/// judges are every lazy filesystem on the machine, so a registry that does not know the other
/// runs' records would unmount their live filesystems from under their nodes.
pub fn sweep(registry: &Registry) -> Vec<PathBuf> {
    sweep_mounts(registry, &our_mounts(), detach)
}

/// [`sweep`] over the given mountpoints, unmounting through `detach` (which says whether it
/// did); what the decision depends on, apart from the machine, so tests can judge it.
pub fn sweep_mounts(
    registry: &Registry,
    mounted: &[PathBuf],
    mut detach: impl FnMut(&Path) -> bool,
) -> Vec<PathBuf> {
    let (records, unreadable) = registry.list();
    for path in unreadable {
        let _ = std::fs::remove_file(path);
    }
    let (live, dead): (Vec<Record>, Vec<Record>) = records
        .into_iter()
        .partition(|r| owner::alive(r.pid, r.start_time));
    let mut swept = Vec::new();
    for m in mounted {
        if !live.iter().any(|r| r.mounts.contains(m)) && detach(m) {
            swept.push(m.clone());
        }
    }
    for r in dead {
        let _ = registry.remove(&r.run_id);
    }
    swept
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

    /// Judged on made-up mountpoints: calling [`sweep`] here would unmount every lazy
    /// filesystem on the machine that this temporary registry does not name, other runs' too
    /// (it did, and their correct nodes came back from a power loss with empty data
    /// directories).
    #[test]
    fn records_round_trip_and_dead_records_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::at(dir.path());
        let _lock = reg.lock().unwrap();
        let mut mine = new_record(&reg);
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
        let mounted: Vec<PathBuf> = ["/nonexistent/a", "/nonexistent/b", "/nonexistent/c"]
            .map(PathBuf::from)
            .to_vec();
        let mut asked = Vec::new();
        let swept = sweep_mounts(&reg, &mounted, |m| {
            asked.push(m.to_path_buf());
            true
        });
        // The live record's mount stays; the dead owner's and the unnamed one go.
        assert_eq!(swept, mounted[1..].to_vec());
        assert_eq!(asked, mounted[1..].to_vec());
        assert_eq!(reg.list(), (vec![mine.clone()], vec![]));
        reg.remove(&mine.run_id).unwrap();
        assert!(reg.list().0.is_empty());
    }
}
