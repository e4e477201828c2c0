//! File [`Storage`] in a data dir: `log` is an append-only file of checksummed records
//! (`u32` length, `u32` CRC32, JSON payload), each either a hard state or an entry (an entry at
//! index `i` supersedes every stored entry at `i` or after); `snapshot` holds the latest snapshot,
//! replaced atomically. On recovery the first torn or corrupt record and everything after it are
//! discarded (a crash can only tear the tail, since nothing is acknowledged before fsync).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Recovered, Storage, StorageError};
use crate::types::{Entry, HardState, Snapshot};

#[derive(Serialize, Deserialize)]
enum Record {
    Hard(HardState),
    Entry(Entry),
}

/// Storage in one directory, fsynced on [`Storage::sync`].
#[derive(Debug)]
pub struct FileStorage {
    dir: PathBuf,
    log: File,
    /// Encoded records not yet written.
    pending: Vec<u8>,
    /// Mirror of what the files hold, to rewrite the log after a snapshot.
    state: Recovered,
    /// Bug `no-fsync`: every fsync below is skipped.
    no_fsync: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn encode(rec: &Record, out: &mut Vec<u8>) {
    let payload = serde_json::to_vec(rec).unwrap_or_default();
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
}

/// Decode records from `buf`; returns them and the length of the valid prefix.
fn decode_all(buf: &[u8]) -> (Vec<Record>, usize) {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 8 <= buf.len() {
        let len = u32::from_le_bytes([buf[pos], buf[pos + 1], buf[pos + 2], buf[pos + 3]]) as usize;
        let crc = u32::from_le_bytes([buf[pos + 4], buf[pos + 5], buf[pos + 6], buf[pos + 7]]);
        let Some(payload) = buf.get(pos + 8..pos + 8 + len) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        let Ok(rec) = serde_json::from_slice::<Record>(payload) else {
            break;
        };
        out.push(rec);
        pos += 8 + len;
    }
    (out, pos)
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

impl FileStorage {
    /// Open (creating if needed) the storage in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let log_path = dir.join("log");
        let log = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&log_path)
            .map_err(io(&log_path))?;
        let mut st = FileStorage {
            dir: dir.to_path_buf(),
            log,
            pending: Vec::new(),
            state: Recovered::default(),
            no_fsync: false,
        };
        st.load()?;
        Ok(st)
    }

    /// Seeded bug `no-fsync`: never fsync (writes still reach the page cache).
    pub fn without_fsync(mut self) -> Self {
        self.no_fsync = true;
        self
    }

    fn load(&mut self) -> Result<(), StorageError> {
        let snap_path = self.dir.join("snapshot");
        if snap_path.exists() {
            let bytes = fs::read(&snap_path).map_err(io(&snap_path))?;
            self.state.snapshot =
                serde_json::from_slice(&bytes).map_err(|e| StorageError::Corrupt {
                    path: snap_path.display().to_string(),
                    reason: e.to_string(),
                })?;
        }
        let log_path = self.dir.join("log");
        let mut buf = Vec::new();
        File::open(&log_path)
            .and_then(|mut f| f.read_to_end(&mut buf))
            .map_err(io(&log_path))?;
        let (records, valid) = decode_all(&buf);
        if valid < buf.len() {
            tracing::warn!(
                path = %log_path.display(),
                discarded = buf.len() - valid,
                "discarding torn or corrupt tail of the log"
            );
            self.log.set_len(valid as u64).map_err(io(&log_path))?;
            self.log.sync_all().map_err(io(&log_path))?;
        }
        let snap_index = self.state.snapshot.index;
        for rec in records {
            match rec {
                Record::Hard(hs) => self.state.hard_state = hs,
                Record::Entry(e) => {
                    if e.index <= snap_index {
                        continue;
                    }
                    while self
                        .state
                        .entries
                        .last()
                        .is_some_and(|l| l.index >= e.index)
                    {
                        self.state.entries.pop();
                    }
                    let expected = self
                        .state
                        .entries
                        .last()
                        .map_or(snap_index + 1, |l| l.index + 1);
                    if e.index == expected {
                        self.state.entries.push(e);
                    }
                }
            }
        }
        Ok(())
    }

    /// Rewrite `log` to hold only the current hard state and entries (after a snapshot).
    fn rewrite_log(&mut self) -> Result<(), StorageError> {
        let tmp = self.dir.join("log.tmp");
        let mut buf = Vec::new();
        encode(&Record::Hard(self.state.hard_state.clone()), &mut buf);
        for e in &self.state.entries {
            encode(&Record::Entry(e.clone()), &mut buf);
        }
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&buf).map_err(io(&tmp))?;
        if !self.no_fsync {
            f.sync_all().map_err(io(&tmp))?;
        }
        let log_path = self.dir.join("log");
        fs::rename(&tmp, &log_path).map_err(io(&log_path))?;
        if !self.no_fsync {
            sync_dir(&self.dir)?;
        }
        self.log = OpenOptions::new()
            .append(true)
            .open(&log_path)
            .map_err(io(&log_path))?;
        self.pending.clear();
        Ok(())
    }
}

impl Storage for FileStorage {
    fn recover(&mut self) -> Result<Recovered, StorageError> {
        Ok(self.state.clone())
    }

    fn set_hard_state(&mut self, hs: &HardState) -> Result<(), StorageError> {
        self.state.hard_state = hs.clone();
        encode(&Record::Hard(hs.clone()), &mut self.pending);
        Ok(())
    }

    fn append(&mut self, entries: &[Entry]) -> Result<(), StorageError> {
        let Some(first) = entries.first() else {
            return Ok(());
        };
        self.state.entries.retain(|e| e.index < first.index);
        for e in entries {
            encode(&Record::Entry(e.clone()), &mut self.pending);
            self.state.entries.push(e.clone());
        }
        Ok(())
    }

    fn set_snapshot(&mut self, snap: &Snapshot, keep_log: bool) -> Result<(), StorageError> {
        // Earlier buffered records must be durable before the log is rewritten around them.
        self.sync()?;
        let tmp = self.dir.join("snapshot.tmp");
        let bytes = serde_json::to_vec(snap).unwrap_or_default();
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&bytes).map_err(io(&tmp))?;
        if !self.no_fsync {
            f.sync_all().map_err(io(&tmp))?;
        }
        let path = self.dir.join("snapshot");
        fs::rename(&tmp, &path).map_err(io(&path))?;
        if !self.no_fsync {
            sync_dir(&self.dir)?;
        }
        if keep_log {
            self.state.entries.retain(|e| e.index > snap.index);
        } else {
            self.state.entries.clear();
        }
        self.state.snapshot = snap.clone();
        self.rewrite_log()
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let path = self.dir.join("log");
        self.log.write_all(&self.pending).map_err(io(&path))?;
        if !self.no_fsync {
            self.log.sync_data().map_err(io(&path))?;
        }
        self.pending.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Command;

    fn entry(index: u64, term: u64) -> Entry {
        Entry {
            index,
            term,
            cmd: Command::Put {
                key: "k".into(),
                value: index.into(),
            },
        }
    }

    #[test]
    fn recovers_hard_state_entries_and_truncations() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let mut st = FileStorage::open(dir.path()).expect("open");
            st.set_hard_state(&HardState {
                term: 3,
                vote: Some("n2".into()),
            })
            .expect("hs");
            st.append(&[entry(1, 1), entry(2, 1), entry(3, 2)])
                .expect("append");
            st.append(&[entry(3, 3)]).expect("append");
            st.sync().expect("sync");
        }
        let st = FileStorage::open(dir.path()).expect("reopen");
        assert_eq!(st.state.hard_state.term, 3);
        assert_eq!(st.state.hard_state.vote.as_deref(), Some("n2"));
        let terms: Vec<u64> = st.state.entries.iter().map(|e| e.term).collect();
        assert_eq!(terms, vec![1, 1, 3]);
    }

    #[test]
    fn torn_or_corrupt_tail_record_is_discarded_on_restart() {
        for damage in ["torn", "corrupt"] {
            let dir = tempfile::tempdir().expect("tempdir");
            {
                let mut st = FileStorage::open(dir.path()).expect("open");
                st.append(&[entry(1, 1), entry(2, 1), entry(3, 1)])
                    .expect("append");
                st.sync().expect("sync");
            }
            let path = dir.path().join("log");
            let mut bytes = fs::read(&path).expect("read");
            match damage {
                "torn" => bytes.truncate(bytes.len() - 5),
                _ => {
                    let n = bytes.len();
                    bytes[n - 3] ^= 0xff;
                }
            }
            fs::write(&path, &bytes).expect("write");
            let mut st = FileStorage::open(dir.path()).expect("reopen");
            assert_eq!(st.state.entries.len(), 2, "{damage}");
            // The log stays appendable after the tail was cut.
            st.append(&[entry(3, 2)]).expect("append");
            st.sync().expect("sync");
            let st = FileStorage::open(dir.path()).expect("reopen");
            assert_eq!(st.state.entries.last().map(|e| e.term), Some(2), "{damage}");
        }
    }

    #[test]
    fn snapshot_compacts_the_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let mut st = FileStorage::open(dir.path()).expect("open");
            st.append(&[entry(1, 1), entry(2, 1), entry(3, 1)])
                .expect("append");
            let snap = Snapshot {
                index: 2,
                term: 1,
                data: "{}".into(),
            };
            st.set_snapshot(&snap, true).expect("snapshot");
            st.append(&[entry(4, 1)]).expect("append");
            st.sync().expect("sync");
        }
        let st = FileStorage::open(dir.path()).expect("reopen");
        assert_eq!(st.state.snapshot.index, 2);
        let idx: Vec<u64> = st.state.entries.iter().map(|e| e.index).collect();
        assert_eq!(idx, vec![3, 4]);
    }
}
