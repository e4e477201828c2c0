//! [`LazyFs`]: the FUSE passthrough filesystem over a backing directory (the "disk"), with file
//! contents held in a [`PageCache`] until fsync, and the [`DiskControl`] handle through which the
//! nemesis loses, tears or fails what the node wrote.
//!
//! Inode numbers are the backing files' (with the backing root and inode 1 swapped, since FUSE's
//! root is 1), so hard links and renames keep their unsynced data. One lock guards the state;
//! the session runs on one thread per mount.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{Errno, FileAttr, FileType, INodeNo, TimeOrNow};

use super::cache::{PageCache, PendingOp};

/// Attributes and entries are not cached by the kernel: after a lost write the size it knew is
/// wrong, and a restarted node must see what is on the "disk".
const TTL: Duration = Duration::ZERO;

/// What writes and fsyncs do right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum DiskMode {
    /// Work normally.
    Healthy = 0,
    /// `disk-error`: writes and fsyncs fail with EIO.
    Eio = 1,
    /// `disk-full`: writes fail with ENOSPC.
    Full = 2,
}

/// State shared by the filesystem and its control handle.
#[derive(Debug)]
struct Shared {
    backing: PathBuf,
    /// The backing root's inode number (shown to the kernel as 1).
    root_ino: u64,
    mode: AtomicU8,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// FUSE inode → path relative to the backing root ("" for the root).
    paths: HashMap<u64, PathBuf>,
    /// Open files by FUSE handle.
    handles: HashMap<u64, Handle>,
    next_fh: u64,
    cache: PageCache<u64>,
}

/// One open file.
#[derive(Debug, Clone)]
struct Handle {
    /// Its FUSE inode.
    ino: u64,
    /// The backing file.
    file: Arc<File>,
    /// Opened with `O_SYNC` or `O_DSYNC`: every write is durable before it returns.
    sync_writes: bool,
}

impl Handle {
    fn new(ino: u64, file: File, open_flags: i32) -> Handle {
        Handle {
            ino,
            file: Arc::new(file),
            sync_writes: open_flags & (libc::O_SYNC | libc::O_DSYNC) != 0,
        }
    }
}

impl State {
    /// Drop the unsynced data of `ino` once it has no name and no open descriptor: nothing of
    /// it can reach the disk any more.
    fn forget_if_gone(&mut self, ino: u64) {
        if !self.paths.contains_key(&ino) && !self.handles.values().any(|h| h.ino == ino) {
            self.cache.forget(&ino);
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn mode(&self) -> DiskMode {
        match self.mode.load(Ordering::Relaxed) {
            1 => DiskMode::Eio,
            2 => DiskMode::Full,
            _ => DiskMode::Healthy,
        }
    }

    /// Backing inode number ↔ FUSE inode number (an involution).
    fn swap(&self, ino: u64) -> u64 {
        if ino == self.root_ino {
            1
        } else if ino == 1 {
            self.root_ino
        } else {
            ino
        }
    }

    fn path(&self, st: &State, ino: INodeNo) -> Result<PathBuf, Errno> {
        st.paths
            .get(&ino.0)
            .map(|p| self.backing.join(p))
            .ok_or(Errno::ENOENT)
    }

    fn child(
        &self,
        st: &State,
        parent: INodeNo,
        name: &OsStr,
    ) -> Result<(PathBuf, PathBuf), Errno> {
        let rel = st.paths.get(&parent.0).ok_or(Errno::ENOENT)?.join(name);
        Ok((self.backing.join(&rel), rel))
    }

    /// The attributes a reader sees: the backing file's, with the size of its unsynced state.
    fn attr(&self, st: &State, meta: &std::fs::Metadata) -> FileAttr {
        let ino = self.swap(meta.ino());
        let size = st.cache.get(&ino).map_or(meta.size(), |d| d.size());
        let time = |s: i64, ns: i64| {
            UNIX_EPOCH + Duration::new(s.max(0) as u64, ns.clamp(0, 999_999_999) as u32)
        };
        let ft = meta.file_type();
        FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: time(meta.atime(), meta.atime_nsec()),
            mtime: time(meta.mtime(), meta.mtime_nsec()),
            ctime: time(meta.ctime(), meta.ctime_nsec()),
            crtime: UNIX_EPOCH,
            kind: FileType::from_std(ft).unwrap_or(FileType::RegularFile),
            perm: (meta.permissions().mode() & 0o7777) as u16,
            nlink: meta.nlink() as u32,
            uid: meta.uid(),
            gid: meta.gid(),
            rdev: meta.rdev() as u32,
            blksize: 4096,
            flags: 0,
        }
    }

    /// Stat `path`, remember it under its inode, and return its attributes.
    fn entry(&self, st: &mut State, path: &Path, rel: PathBuf) -> Result<FileAttr, Errno> {
        let meta = std::fs::symlink_metadata(path).map_err(Errno::from)?;
        let attr = self.attr(st, &meta);
        st.paths.insert(attr.ino.0, rel);
        Ok(attr)
    }

    /// `setattr`: mode, owner and times pass through; a size change is lazy.
    #[allow(clippy::too_many_arguments)]
    fn set_attr(
        &self,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
    ) -> Result<FileAttr, Errno> {
        let s = self;
        let mut st = s.lock();
        let path = s.path(&st, ino)?;
        if let Some(m) = mode {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(m))
                .map_err(Errno::from)?;
        }
        if uid.is_some() || gid.is_some() {
            std::os::unix::fs::lchown(&path, uid, gid).map_err(Errno::from)?;
        }
        if let Some(size) = size {
            let durable = std::fs::metadata(&path).map_err(Errno::from)?.len();
            let current = st.cache.get(&ino.0).map_or(durable, |d| d.size());
            if s.mode() == DiskMode::Full && size > current {
                return Err(Errno::ENOSPC);
            }
            st.cache.set_len(ino.0, durable, size);
        }
        if atime.is_some() || mtime.is_some() {
            let f = File::open(&path).map_err(Errno::from)?;
            let to = |t: TimeOrNow| match t {
                TimeOrNow::SpecificTime(t) => t,
                TimeOrNow::Now => SystemTime::now(),
            };
            let mut times = std::fs::FileTimes::new();
            if let Some(t) = atime {
                times = times.set_accessed(to(t));
            }
            if let Some(t) = mtime {
                times = times.set_modified(to(t));
            }
            f.set_times(times).map_err(Errno::from)?;
        }
        let meta = std::fs::symlink_metadata(&path).map_err(Errno::from)?;
        Ok(s.attr(&st, &meta))
    }

    /// `rename`: the backing directory changes at once; the moved inode keeps its unsynced data.
    fn rename(
        &self,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
    ) -> Result<(), Errno> {
        let s = self;
        let mut st = s.lock();
        let (from, from_rel) = s.child(&st, parent, name)?;
        let (to, to_rel) = s.child(&st, newparent, newname)?;
        let replaced = std::fs::symlink_metadata(&to).ok();
        std::fs::rename(&from, &to).map_err(Errno::from)?;
        if let Some(old) = replaced.filter(|m| m.nlink() <= 1 && !m.is_dir()) {
            let ino = s.swap(old.ino());
            st.paths.remove(&ino);
            st.forget_if_gone(ino);
        }
        // Re-point the moved inode and, for a directory, everything under it.
        for rel in st.paths.values_mut() {
            if let Ok(rest) = rel.strip_prefix(&from_rel) {
                *rel = to_rel.join(rest);
            }
        }
        Ok(())
    }

    /// Replay `ino`'s unsynced changes onto `file` and sync it. EIO in `disk-error` mode.
    fn sync(&self, st: &mut State, ino: u64, file: &File, datasync: bool) -> Result<(), Errno> {
        if self.mode() == DiskMode::Eio {
            return Err(Errno::EIO);
        }
        if let Some(dirty) = st.cache.drain(&ino) {
            for op in dirty.ops() {
                match op {
                    PendingOp::Write { offset, data } => file.write_all_at(data, *offset),
                    PendingOp::SetLen { size } => file.set_len(*size),
                }
                .map_err(Errno::from)?;
            }
        }
        if datasync {
            file.sync_data()
        } else {
            file.sync_all()
        }
        .map_err(Errno::from)
    }
}

fn backing_size(file: &File) -> Result<u64, Errno> {
    file.metadata().map(|m| m.len()).map_err(Errno::from)
}

/// Open a backing file for the FUSE handle: always read-write when allowed (fsync replays writes
/// through whichever descriptor it comes on), never `O_APPEND` (the kernel gives offsets), and
/// without the durability and alignment flags (`O_SYNC`, `O_DSYNC`, `O_DIRECT`), which the lazy
/// filesystem honours itself.
fn open_backing(path: &Path, flags: i32) -> std::io::Result<File> {
    let drop = libc::O_ACCMODE
        | libc::O_APPEND
        | libc::O_CREAT
        | libc::O_EXCL
        | libc::O_TRUNC
        | libc::O_SYNC
        | libc::O_DSYNC
        | libc::O_DIRECT;
    let keep = flags & !drop;
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(keep)
        .open(path)
        .or_else(|_| OpenOptions::new().read(true).custom_flags(keep).open(path))
}

/// The lazy filesystem served by the FUSE session.
#[derive(Debug)]
pub struct LazyFs {
    shared: Arc<Shared>,
}

/// The nemesis's handle on one mounted [`LazyFs`].
#[derive(Debug, Clone)]
pub struct DiskControl {
    shared: Arc<Shared>,
}

/// What a power loss destroyed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lost {
    /// Files that had unsynced changes.
    pub files: usize,
    /// Unsynced bytes discarded.
    pub bytes: u64,
    /// For a torn write: (bytes of the last write that reached the disk, its length).
    pub torn: Option<(usize, usize)>,
}

impl LazyFs {
    /// A lazy filesystem over `backing` (an existing directory) and its control handle.
    pub fn new(backing: &Path) -> std::io::Result<(LazyFs, DiskControl)> {
        let root_ino = std::fs::metadata(backing)?.ino();
        let shared = Arc::new(Shared {
            backing: backing.to_path_buf(),
            root_ino,
            mode: AtomicU8::new(DiskMode::Healthy as u8),
            state: Mutex::new(State {
                next_fh: 1,
                ..Default::default()
            }),
        });
        shared.lock().paths.insert(1, PathBuf::new());
        Ok((
            LazyFs {
                shared: shared.clone(),
            },
            DiskControl { shared },
        ))
    }
}

impl DiskControl {
    /// Make writes (and fsyncs) fail, or work again.
    pub fn set_mode(&self, mode: DiskMode) {
        self.shared.mode.store(mode as u8, Ordering::Relaxed);
    }

    /// The current mode.
    pub fn mode(&self) -> DiskMode {
        self.shared.mode()
    }

    /// Files with unsynced changes and the bytes they hold.
    pub fn unsynced(&self) -> (usize, u64) {
        self.shared.lock().cache.usage()
    }

    /// Power loss: discard every unsynced change. Call with the node stopped.
    pub fn lose_unfsynced(&self) -> Lost {
        let (files, bytes) = self.shared.lock().cache.lose();
        Lost {
            files,
            bytes,
            torn: None,
        }
    }

    /// Power loss during the last unsynced write: discard every unsynced change but the first
    /// `cut(len)` bytes of the last write, which reach the backing file. Call with the node
    /// stopped.
    pub fn tear(&self, cut: impl FnOnce(usize) -> usize) -> std::io::Result<Lost> {
        let mut st = self.shared.lock();
        let (files, bytes) = st.cache.usage();
        let torn = st.cache.tear(cut);
        let mut lost = Lost {
            files,
            bytes,
            torn: None,
        };
        if let Some(t) = torn {
            lost.bytes = lost.bytes.saturating_sub(t.prefix.len() as u64);
            lost.torn = Some((t.prefix.len(), t.full_len));
            // A file unlinked since has no path: its torn write has nowhere to land.
            if let Some(rel) = st.paths.get(&t.file) {
                let f = OpenOptions::new()
                    .write(true)
                    .open(self.shared.backing.join(rel))?;
                f.write_all_at(&t.prefix, t.offset)?;
            }
        }
        Ok(lost)
    }
}

mod ops;
