//! The FUSE operations of [`LazyFs`]: each maps a kernel request onto the backing directory
//! and the page cache, and answers it.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::time::SystemTime;

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, LockOwner,
    OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};

use super::{backing_size, open_backing, DiskMode, Handle, LazyFs, TTL};

impl Filesystem for LazyFs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let s = &self.shared;
        let mut st = s.lock();
        match s
            .child(&st, parent, name)
            .and_then(|(p, rel)| s.entry(&mut st, &p, rel))
        {
            Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        let s = &self.shared;
        let st = s.lock();
        // A file unlinked while open has no path any more: answer through a descriptor of it.
        let open = || {
            fh.and_then(|fh| st.handles.get(&fh.0))
                .or_else(|| st.handles.values().find(|h| h.ino == ino.0))
                .map(|h| h.file.metadata())
        };
        let res = match (s.path(&st, ino), open()) {
            (Ok(p), _) => std::fs::symlink_metadata(p).map_err(Errno::from),
            (Err(_), Some(meta)) => meta.map_err(Errno::from),
            (Err(e), None) => Err(e),
        }
        .map(|m| s.attr(&st, &m));
        match res {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        match self
            .shared
            .set_attr(ino, mode, uid, gid, size, atime, mtime)
        {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let s = &self.shared;
        let mut st = s.lock();
        let res = s.child(&st, parent, name).and_then(|(p, rel)| {
            std::fs::create_dir(&p).map_err(Errno::from)?;
            let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode & !umask));
            s.entry(&mut st, &p, rel)
        });
        match res {
            Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let s = &self.shared;
        let mut st = s.lock();
        let res = s.child(&st, parent, name).and_then(|(p, _)| {
            let meta = std::fs::symlink_metadata(&p).map_err(Errno::from)?;
            std::fs::remove_file(&p).map_err(Errno::from)?;
            let ino = s.swap(meta.ino());
            if meta.nlink() <= 1 {
                // The inode is gone from the namespace: nothing of it can reach the disk.
                st.paths.remove(&ino);
                st.forget_if_gone(ino);
            }
            Ok(())
        });
        match res {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let s = &self.shared;
        let st = s.lock();
        match s
            .child(&st, parent, name)
            .and_then(|(p, _)| std::fs::remove_dir(p).map_err(Errno::from))
        {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        if flags.bits() != 0 {
            return reply.error(Errno::EINVAL);
        }
        match self.shared.rename(parent, name, newparent, newname) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let s = &self.shared;
        let mut st = s.lock();
        let res = s
            .path(&st, ino)
            .and_then(|p| open_backing(&p, flags.0).map_err(Errno::from));
        match res {
            Ok(f) => {
                let fh = st.next_fh;
                st.next_fh += 1;
                st.handles.insert(fh, Handle::new(ino.0, f, flags.0));
                reply.opened(FileHandle(fh), FopenFlags::empty());
            }
            Err(e) => reply.error(e),
        }
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let s = &self.shared;
        let mut st = s.lock();
        let res = s.child(&st, parent, name).and_then(|(p, rel)| {
            let mut opts = OpenOptions::new();
            opts.read(true).write(true).create(true).mode(mode & !umask);
            if flags & libc::O_EXCL != 0 {
                opts.create_new(true);
            }
            let f = opts.open(&p).map_err(Errno::from)?;
            let attr = s.entry(&mut st, &p, rel)?;
            if flags & libc::O_TRUNC != 0 {
                let durable = backing_size(&f)?;
                st.cache.set_len(attr.ino.0, durable, 0);
            }
            Ok((f, attr))
        });
        match res {
            Ok((f, attr)) => {
                let fh = st.next_fh;
                st.next_fh += 1;
                st.handles.insert(fh, Handle::new(attr.ino.0, f, flags));
                let attr = FileAttr {
                    size: st.cache.get(&attr.ino.0).map_or(attr.size, |d| d.size()),
                    ..attr
                };
                reply.created(
                    &TTL,
                    &attr,
                    Generation(0),
                    FileHandle(fh),
                    FopenFlags::empty(),
                );
            }
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let s = &self.shared;
        let st = s.lock();
        let Some(file) = st.handles.get(&fh.0).map(|h| h.file.clone()) else {
            return reply.error(Errno::EBADF);
        };
        let mut buf = vec![0u8; size as usize];
        let mut got = 0;
        while got < buf.len() {
            match file.read_at(&mut buf[got..], offset + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return reply.error(Errno::from(e)),
            }
        }
        let len = match st.cache.get(&ino.0) {
            Some(dirty) => dirty.overlay(offset, &mut buf),
            None => got,
        };
        reply.data(&buf[..len]);
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let s = &self.shared;
        match s.mode() {
            DiskMode::Eio => return reply.error(Errno::EIO),
            DiskMode::Full => return reply.error(Errno::ENOSPC),
            DiskMode::Healthy => {}
        }
        let mut st = s.lock();
        let Some(handle) = st.handles.get(&fh.0).cloned() else {
            return reply.error(Errno::EBADF);
        };
        let file = handle.file;
        let durable = if st.cache.get(&ino.0).is_some() {
            0
        } else {
            match backing_size(&file) {
                Ok(n) => n,
                Err(e) => return reply.error(e),
            }
        };
        st.cache.write(ino.0, durable, offset, data);
        // O_SYNC / O_DSYNC: the write is durable before it returns.
        if handle.sync_writes {
            if let Err(e) = s.sync(&mut st, ino.0, &file, true) {
                return reply.error(e);
            }
        }
        reply.written(data.len() as u32);
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        let mut st = self.shared.lock();
        if let Some(h) = st.handles.remove(&fh.0) {
            st.forget_if_gone(h.ino);
        }
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        let s = &self.shared;
        let mut st = s.lock();
        let Some(file) = st.handles.get(&fh.0).map(|h| h.file.clone()) else {
            return reply.error(Errno::EBADF);
        };
        match s.sync(&mut st, ino.0, &file, datasync) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn opendir(&self, _req: &Request, _ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        reply.opened(FileHandle(0), FopenFlags::empty());
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let s = &self.shared;
        let st = s.lock();
        let res = s.path(&st, ino).and_then(|p| {
            let mut entries = vec![
                (ino.0, FileType::Directory, ".".into()),
                (ino.0, FileType::Directory, "..".into()),
            ];
            for e in std::fs::read_dir(p).map_err(Errno::from)?.flatten() {
                let Ok(meta) = e.metadata() else { continue };
                let kind = FileType::from_std(meta.file_type()).unwrap_or(FileType::RegularFile);
                entries.push((s.swap(meta.ino()), kind, e.file_name()));
            }
            Ok(entries)
        });
        match res {
            Ok(entries) => {
                for (i, (ino, kind, name)) in entries.into_iter().enumerate().skip(offset as usize)
                {
                    if reply.add(INodeNo(ino), (i + 1) as u64, kind, name) {
                        break;
                    }
                }
                reply.ok();
            }
            Err(e) => reply.error(e),
        }
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        // Namespace changes reach the backing directory at once; sync it for real.
        let s = &self.shared;
        if s.mode() == DiskMode::Eio {
            return reply.error(Errno::EIO);
        }
        let st = s.lock();
        match s.path(&st, ino).and_then(|p| {
            File::open(p)
                .and_then(|d| d.sync_all())
                .map_err(Errno::from)
        }) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        match nix::sys::statvfs::statvfs(&self.shared.backing) {
            Ok(v) => reply.statfs(
                v.blocks(),
                v.blocks_free(),
                v.blocks_available(),
                v.files(),
                v.files_free(),
                v.block_size() as u32,
                v.name_max() as u32,
                v.fragment_size() as u32,
            ),
            Err(e) => reply.error(Errno::from_i32(e as i32)),
        }
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        reply.ok();
    }
}
