//! The lazy filesystem's page cache, as pure data: for each file with writes since its last
//! fsync, the unsynced operations in order (what a crash may lose) and an overlay of them (what
//! readers see). No I/O: the caller reads the durable bytes from the backing file and applies
//! what [`DirtyFile::drain`] or [`PageCache::tear`] hands back.
//!
//! Semantics (after LazyFS, dsrhaslab/lazyfs, written anew): file *contents* and *sizes* are
//! lazy. A `write` or a truncation is kept here until an `fsync`/`fdatasync` of that file (through
//! any descriptor; a write through an `O_SYNC`/`O_DSYNC` descriptor syncs at once), which
//! replays it onto the backing file and syncs that. Namespace operations
//! (create, rename, unlink, mkdir) reach the backing directory at once; a renamed file keeps its
//! unsynced contents under its new name (they belong to the inode), so renaming a file that was
//! never fsynced and then losing power leaves it empty, as ext4 can.

use std::collections::{BTreeMap, HashMap};

/// One unsynced change to a file, in the order it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingOp {
    /// `data` written at `offset`.
    Write {
        /// Byte offset.
        offset: u64,
        /// The bytes.
        data: Vec<u8>,
    },
    /// The file's size set to `size` (truncate or extend with zeros).
    SetLen {
        /// New size.
        size: u64,
    },
}

/// The unsynced state of one file. Invariant: every extent lies below `size`; `hide_from <=` the
/// smallest size the file had since its last sync (durable bytes at or past it read as zeros).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyFile {
    /// Unsynced changes in order.
    ops: Vec<PendingOp>,
    /// Written bytes by offset, non-overlapping: what a reader sees above the durable file.
    extents: BTreeMap<u64, Vec<u8>>,
    /// The size a reader sees.
    size: u64,
    /// Durable bytes at or past this offset were truncated away (read as zeros).
    hide_from: u64,
    /// Global sequence number of the last write, to find the last unsynced write of all.
    last_write_seq: u64,
}

impl DirtyFile {
    /// A file whose durable size is `durable_size` and which has no unsynced change yet.
    pub fn new(durable_size: u64) -> DirtyFile {
        DirtyFile {
            ops: Vec::new(),
            extents: BTreeMap::new(),
            size: durable_size,
            hide_from: durable_size,
            last_write_seq: 0,
        }
    }

    /// The size a reader sees.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Bytes held in memory.
    pub fn dirty_bytes(&self) -> u64 {
        self.extents.values().map(|v| v.len() as u64).sum()
    }

    /// Remove `[start, end)` from the overlay, keeping the parts of extents outside it.
    fn cut(&mut self, start: u64, end: u64) {
        let overlapping: Vec<u64> = self
            .extents
            .range(..end)
            .filter(|(off, data)| **off + data.len() as u64 > start)
            .map(|(off, _)| *off)
            .collect();
        for off in overlapping {
            let Some(data) = self.extents.remove(&off) else {
                continue;
            };
            let ext_end = off + data.len() as u64;
            if off < start {
                self.extents
                    .insert(off, data[..(start - off) as usize].to_vec());
            }
            if ext_end > end {
                self.extents
                    .insert(end, data[(end - off) as usize..].to_vec());
            }
        }
    }

    fn write(&mut self, offset: u64, data: &[u8], seq: u64) {
        if data.is_empty() {
            return;
        }
        let end = offset + data.len() as u64;
        self.cut(offset, end);
        self.extents.insert(offset, data.to_vec());
        self.size = self.size.max(end);
        self.ops.push(PendingOp::Write {
            offset,
            data: data.to_vec(),
        });
        self.last_write_seq = seq;
    }

    fn set_len(&mut self, size: u64) {
        if size < self.size {
            self.cut(size, u64::MAX);
        }
        self.hide_from = self.hide_from.min(size);
        self.size = size;
        self.ops.push(PendingOp::SetLen { size });
    }

    /// Fill `buf` (the bytes at `offset`, already read from the durable file, zero past its end)
    /// with what a reader sees; returns how many bytes are readable (0 at or past the size).
    pub fn overlay(&self, offset: u64, buf: &mut [u8]) -> usize {
        if offset >= self.size {
            return 0;
        }
        let len = (buf.len() as u64).min(self.size - offset) as usize;
        let buf = &mut buf[..len];
        let end = offset + len as u64;
        // Durable bytes that a truncation hid read as zeros.
        if end > self.hide_from {
            let from = self.hide_from.saturating_sub(offset) as usize;
            buf[from..].fill(0);
        }
        // The first extent may start before `offset`.
        let first = self
            .extents
            .range(..=offset)
            .next_back()
            .map(|(o, _)| *o)
            .unwrap_or(offset);
        for (off, data) in self.extents.range(first..end) {
            let ext_end = off + data.len() as u64;
            if ext_end <= offset {
                continue;
            }
            let from = offset.max(*off);
            let to = end.min(ext_end);
            buf[(from - offset) as usize..(to - offset) as usize]
                .copy_from_slice(&data[(from - off) as usize..(to - off) as usize]);
        }
        len
    }

    /// The unsynced changes in order, to replay onto the backing file at fsync.
    pub fn ops(&self) -> &[PendingOp] {
        &self.ops
    }
}

/// Which write a [`PageCache::tear`] keeps a prefix of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornWrite<K> {
    /// The file.
    pub file: K,
    /// Where the write started.
    pub offset: u64,
    /// The bytes that reach the disk (a strict prefix of the write, possibly empty).
    pub prefix: Vec<u8>,
    /// How long the whole write was.
    pub full_len: usize,
}

/// Every file with unsynced changes, keyed by `K` (the filesystem's inode number).
#[derive(Debug, Clone)]
pub struct PageCache<K> {
    files: HashMap<K, DirtyFile>,
    next_seq: u64,
}

impl<K> Default for PageCache<K> {
    fn default() -> Self {
        PageCache {
            files: HashMap::new(),
            next_seq: 1,
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone> PageCache<K> {
    /// The unsynced state of `file`, if it has any.
    pub fn get(&self, file: &K) -> Option<&DirtyFile> {
        self.files.get(file)
    }

    /// Record a write; `durable_size` is the backing file's size (used if `file` was clean).
    pub fn write(&mut self, file: K, durable_size: u64, offset: u64, data: &[u8]) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.files
            .entry(file)
            .or_insert_with(|| DirtyFile::new(durable_size))
            .write(offset, data, seq);
    }

    /// Record a size change (truncate or extend).
    pub fn set_len(&mut self, file: K, durable_size: u64, size: u64) {
        self.files
            .entry(file)
            .or_insert_with(|| DirtyFile::new(durable_size))
            .set_len(size);
    }

    /// Take `file`'s unsynced changes (to replay them at fsync); the file is clean afterwards.
    pub fn drain(&mut self, file: &K) -> Option<DirtyFile> {
        self.files.remove(file)
    }

    /// Forget `file` (it was deleted and nothing refers to it).
    pub fn forget(&mut self, file: &K) {
        self.files.remove(file);
    }

    /// Files with unsynced changes and the bytes they hold.
    pub fn usage(&self) -> (usize, u64) {
        (
            self.files.len(),
            self.files.values().map(DirtyFile::dirty_bytes).sum(),
        )
    }

    /// Power loss: every unsynced change is gone. Returns (files, bytes) lost.
    pub fn lose(&mut self) -> (usize, u64) {
        let usage = self.usage();
        self.files.clear();
        usage
    }

    /// Power loss in the middle of the last unsynced write: everything unsynced is gone except
    /// the first `cut(len)` bytes of the most recent write (of any file), which the caller writes
    /// to the disk. `cut` gets the write's length and returns how many bytes survive (clamped
    /// below the length). `None` if nothing was written since the last sync.
    pub fn tear(&mut self, cut: impl FnOnce(usize) -> usize) -> Option<TornWrite<K>> {
        let last = self
            .files
            .iter()
            .filter(|(_, f)| f.last_write_seq > 0)
            .max_by_key(|(_, f)| f.last_write_seq)
            .and_then(|(k, f)| {
                f.ops.iter().rev().find_map(|op| match op {
                    PendingOp::Write { offset, data } => Some((k.clone(), *offset, data.clone())),
                    PendingOp::SetLen { .. } => None,
                })
            });
        self.files.clear();
        let (file, offset, data) = last?;
        let keep = cut(data.len()).min(data.len().saturating_sub(1));
        Some(TornWrite {
            file,
            offset,
            prefix: data[..keep].to_vec(),
            full_len: data.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a reader sees of a file whose durable bytes are `disk`.
    fn view(f: &DirtyFile, disk: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; f.size() as usize + 8];
        let n = disk.len().min(buf.len());
        buf[..n].copy_from_slice(&disk[..n]);
        let len = f.overlay(0, &mut buf);
        buf.truncate(len);
        buf
    }

    /// A brute-force model: apply ops to a byte vector.
    fn replay(disk: &[u8], ops: &[PendingOp]) -> Vec<u8> {
        let mut v = disk.to_vec();
        for op in ops {
            match op {
                PendingOp::Write { offset, data } => {
                    let end = *offset as usize + data.len();
                    if v.len() < end {
                        v.resize(end, 0);
                    }
                    v[*offset as usize..end].copy_from_slice(data);
                }
                PendingOp::SetLen { size } => v.resize(*size as usize, 0),
            }
        }
        v
    }

    #[test]
    fn overlay_matches_a_replay_of_the_ops() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..2000 {
            let disk: Vec<u8> = (0..rng.random_range(0..40)).map(|i| i as u8 + 1).collect();
            let mut cache = PageCache::default();
            for step in 0..rng.random_range(1..8) {
                if rng.random_bool(0.75) {
                    let off = rng.random_range(0..50u64);
                    let data: Vec<u8> = (0..rng.random_range(0..12))
                        .map(|_| 100 + step as u8)
                        .collect();
                    cache.write(1u64, disk.len() as u64, off, &data);
                } else {
                    cache.set_len(1u64, disk.len() as u64, rng.random_range(0..60));
                }
            }
            let Some(f) = cache.get(&1) else { continue };
            assert_eq!(view(f, &disk), replay(&disk, f.ops()), "{:?}", f.ops());
            // A read at an offset sees the same bytes as the whole view.
            let whole = view(f, &disk);
            let off = rng.random_range(0..whole.len().max(1)) as u64;
            let mut buf = vec![0u8; 7];
            for (i, b) in buf.iter_mut().enumerate() {
                *b = disk.get(off as usize + i).copied().unwrap_or(0);
            }
            let n = f.overlay(off, &mut buf);
            assert_eq!(&buf[..n], &whole[off as usize..(off as usize + n)]);
        }
    }

    #[test]
    fn drained_file_is_clean_and_lose_forgets_everything() {
        let mut cache = PageCache::default();
        cache.write("a", 0, 0, b"hello");
        cache.write("b", 3, 3, b"xyz");
        assert_eq!(cache.usage(), (2, 8));
        let a = cache.drain(&"a").unwrap();
        assert_eq!(replay(b"", a.ops()), b"hello");
        assert!(cache.get(&"a").is_none());
        assert_eq!(cache.lose(), (1, 3));
        assert_eq!(cache.usage(), (0, 0));
    }

    #[test]
    fn tear_keeps_a_strict_prefix_of_the_last_write_only() {
        let mut cache = PageCache::default();
        cache.write("log", 0, 0, b"first");
        cache.write("other", 0, 0, b"zz");
        cache.write("log", 5, 5, b"second-write");
        let torn = cache.tear(|len| len / 2).unwrap();
        assert_eq!(torn.file, "log");
        assert_eq!(torn.offset, 5);
        assert_eq!(torn.prefix, b"second");
        assert_eq!(torn.full_len, 12);
        assert_eq!(cache.usage(), (0, 0));
        // The prefix is strict even if asked for all of it, and nothing written means no tear.
        cache.write("x", 0, 0, b"ab");
        assert_eq!(cache.tear(|len| len).unwrap().prefix, b"a");
        assert!(cache.tear(|len| len).is_none());
    }
}
