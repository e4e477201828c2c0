//! Disk faults: a FUSE lazy filesystem over each node's data directory that keeps every write
//! since a file's last fsync in memory, as a kernel keeps dirty pages, and on the nemesis's
//! command loses them (power loss), tears the last one, or fails writes with EIO or ENOSPC.
//! Owns the mounts it makes and nothing else: it never touches node processes (the nemesis
//! kills and restarts nodes through `cluster`).
//!
//! - [`cache`]: the page cache as pure data (unsynced writes per file, overlay, lose, tear).
//! - `fs`: the `fuser` filesystem and its [`DiskControl`] handle.
//! - [`LazyDisks`]: one mounted filesystem per node; unmounts on drop.
//! - `registry`: the crash-safe record of live mounts (`/run/faultline/mounts`) and the sweep
//!   of dead runs' mounts.
//!
//! The FUSE server is a thread of the controller, not a process per node: the nemesis changes
//! its state with plain calls (no control protocol to keep in step), a panic or error unmounts
//! through `Drop`, and a `kill -9` of the controller aborts the FUSE connection together with
//! the nodes (which die with it), leaving only mountpoints for the next run's sweep.

pub mod cache;
mod fs;
mod mounts;
mod registry;

use std::path::PathBuf;

use crate::nemesis::Missing;

pub use fs::{DiskControl, DiskMode, Lost};
pub use mounts::LazyDisks;
pub use registry::{our_mounts, FS_NAME};

/// Errors setting up or tearing down lazy filesystems.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// Root or `/dev/fuse` is missing.
    #[error("lazy filesystem: {0}")]
    Missing(Missing),
    /// A directory or registry file could not be used.
    #[error("lazy filesystem: cannot {what}: {source}")]
    Io {
        /// What was being done, with the path.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The FUSE mount failed.
    #[error("lazy filesystem: cannot mount {}: {source} (is the fuse kernel module loaded?)", mountpoint.display())]
    Mount {
        /// Where.
        mountpoint: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Whether `/dev/fuse` can be opened for reading and writing (what mounting needs); the error
/// says why not and what to do.
pub fn dev_fuse() -> Result<(), String> {
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "{e}: install fuse3 and load the fuse module (`modprobe fuse`); containers need \
             --device /dev/fuse"
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Whether this process can mount lazy filesystems: root and a usable `/dev/fuse`. The error
/// names everything missing and what to do. (Runs check the same through
/// `FaultKind::requirements` before anything starts; this guards the mount itself.)
pub fn requirements() -> Result<(), Missing> {
    let mut what = Vec::new();
    let mut fix = Vec::new();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        what.push("root");
        fix.push(format!("this process runs as uid {euid}; run as root"));
    }
    if let Err(e) = dev_fuse() {
        what.push("a usable /dev/fuse");
        fix.push(e);
    }
    if what.is_empty() {
        Ok(())
    } else {
        Err(Missing::new(what.join(" and "), fix.join("; ")))
    }
}
