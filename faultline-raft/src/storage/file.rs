//! File [`Storage`] in a data dir.
//!
//! - `log`: append-only frames (see `record`), each a JSON record: a hard state, or an entry (an
//!   entry at index `i` supersedes every stored entry at `i` or after).
//! - `snapshot`: one frame holding the latest snapshot. It is replaced atomically (write
//!   `snapshot.tmp`, fsync, rename, fsync the directory), then `log` is rewritten the same way to
//!   hold only the hard state and what follows the snapshot ([`super::after_snapshot`]).
//!
//! Every file created or renamed is followed by an fsync of its directory, so the name survives a
//! crash as well as the data. On recovery a torn tail of `log` is cut; damage before its last
//! record, a damaged snapshot, or a log that does not fit together (an index gap, terms going
//! down) is [`StorageError::Corrupt`] with the byte offset, and the node refuses to start.
//!
//! The seeded bug `no-fsync` ([`FileStorage::open_without_fsync`]) skips every fsync above, file
//! and directory alike: everything still reaches the page cache, nothing is made durable.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::record::{self, End, Framed};
use super::{after_snapshot, Recovered, Storage, StorageError};
use crate::types::{Entry, HardState, Snapshot};

#[derive(Serialize, Deserialize)]
enum Record {
    Hard(HardState),
    Entry(Entry),
}

const LOG: &str = "log";
const SNAPSHOT: &str = "snapshot";
const TMP: &str = ".tmp";

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

fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> StorageError {
    StorageError::Corrupt {
        path: path.display().to_string(),
        offset,
        reason: reason.into(),
    }
}

/// Frame `value` as JSON onto `out`.
fn encode(
    value: &impl Serialize,
    what: &'static str,
    out: &mut Vec<u8>,
) -> Result<(), StorageError> {
    let payload = serde_json::to_vec(value).map_err(|e| StorageError::Encode {
        what,
        reason: e.to_string(),
    })?;
    record::frame(&payload, out);
    Ok(())
}

fn decode<T: for<'de> Deserialize<'de>>(payload: &[u8]) -> Option<T> {
    serde_json::from_slice(payload).ok()
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Write `bytes` to `dir/name` atomically: a temp file renamed over it. When `durable` (always,
/// except under the `no-fsync` bug) the temp file is fsynced before the rename and the directory
/// after it, so the rename is durable.
fn replace(dir: &Path, name: &str, bytes: &[u8], durable: bool) -> Result<(), StorageError> {
    let tmp = dir.join(format!("{name}{TMP}"));
    let mut f = File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    if durable {
        f.sync_all().map_err(io(&tmp))?;
    }
    let path = dir.join(name);
    fs::rename(&tmp, &path).map_err(io(&path))?;
    if durable {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Create `dir` if needed; when it is new and `durable`, fsync its parent so it survives a crash.
fn create_dir(dir: &Path, durable: bool) -> Result<(), StorageError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(io(dir))?;
    match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) if durable => sync_dir(parent),
        _ => Ok(()),
    }
}

/// The snapshot in `path` (the empty snapshot when there is none). It was renamed into place
/// only once complete, so any damage at all is corruption.
fn read_snapshot(path: &Path) -> Result<Snapshot, StorageError> {
    if !path.exists() {
        return Ok(Snapshot::default());
    }
    let bytes = fs::read(path).map_err(io(path))?;
    match record::scan(&bytes, decode::<Snapshot>) {
        (mut frames, End::Clean) if frames.len() == 1 => Ok(frames.remove(0).value),
        (_, End::Torn { offset, reason } | End::Corrupt { offset, reason }) => {
            Err(corrupt(path, offset, reason))
        }
        (frames, End::Clean) => Err(corrupt(
            path,
            0,
            format!("holds {} records instead of one snapshot", frames.len()),
        )),
    }
}

impl FileStorage {
    /// Open (creating if needed) the storage in `dir` and read it back; a torn log tail is cut
    /// here, and corruption is an error.
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        Self::open_with(dir, false)
    }

    /// Seeded bug `no-fsync`: [`FileStorage::open`], but nothing is ever fsynced, from opening on
    /// (writes, renames and new names only reach the page cache).
    pub fn open_without_fsync(dir: &Path) -> Result<Self, StorageError> {
        Self::open_with(dir, true)
    }

    fn open_with(dir: &Path, no_fsync: bool) -> Result<Self, StorageError> {
        create_dir(dir, !no_fsync)?;
        // A crash while replacing a file can leave its temp copy behind.
        let mut removed = false;
        for name in [LOG, SNAPSHOT] {
            let tmp = dir.join(format!("{name}{TMP}"));
            if tmp.exists() {
                fs::remove_file(&tmp).map_err(io(&tmp))?;
                removed = true;
            }
        }
        let log_path = dir.join(LOG);
        let created = !log_path.exists();
        let log = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&log_path)
            .map_err(io(&log_path))?;
        if (created || removed) && !no_fsync {
            sync_dir(dir)?;
        }
        let mut st = FileStorage {
            dir: dir.to_path_buf(),
            log,
            pending: Vec::new(),
            state: Recovered::default(),
            no_fsync,
        };
        st.load()?;
        Ok(st)
    }

    fn load(&mut self) -> Result<(), StorageError> {
        let snapshot = read_snapshot(&self.dir.join(SNAPSHOT))?;
        let log_path = self.dir.join(LOG);
        let mut buf = Vec::new();
        File::open(&log_path)
            .and_then(|mut f| f.read_to_end(&mut buf))
            .map_err(io(&log_path))?;
        let (records, end) = record::scan(&buf, decode::<Record>);
        match end {
            End::Clean => {}
            End::Torn { offset, reason } => {
                tracing::warn!(
                    path = %log_path.display(),
                    offset,
                    discarded = buf.len() as u64 - offset,
                    reason,
                    "discarding torn tail of the log"
                );
                self.log.set_len(offset).map_err(io(&log_path))?;
                if !self.no_fsync {
                    self.log.sync_all().map_err(io(&log_path))?;
                }
            }
            End::Corrupt { offset, reason } => return Err(corrupt(&log_path, offset, reason)),
        }
        let (hard_state, entries) = replay(&log_path, records)?;
        let first_offset = entries.first().map_or(0, |(o, _)| *o);
        let entries = after_snapshot(entries.into_iter().map(|(_, e)| e).collect(), &snapshot);
        match entries.first() {
            Some(e) if e.index != snapshot.index + 1 || e.term < snapshot.term => {
                return Err(corrupt(
                    &log_path,
                    first_offset,
                    format!(
                        "the log starts at entry {} (term {}) but the snapshot ends at entry {} \
                         (term {})",
                        e.index, e.term, snapshot.index, snapshot.term
                    ),
                ));
            }
            _ => {}
        }
        self.state = Recovered {
            hard_state,
            snapshot,
            entries,
        };
        Ok(())
    }

    /// Rewrite `log` to hold only the current hard state and entries (after a snapshot).
    fn rewrite_log(&mut self) -> Result<(), StorageError> {
        let mut buf = Vec::new();
        encode(
            &Record::Hard(self.state.hard_state.clone()),
            "hard state",
            &mut buf,
        )?;
        for e in &self.state.entries {
            encode(&Record::Entry(e.clone()), "log entry", &mut buf)?;
        }
        replace(&self.dir, LOG, &buf, !self.no_fsync)?;
        let log_path = self.dir.join(LOG);
        self.log = OpenOptions::new()
            .append(true)
            .open(&log_path)
            .map_err(io(&log_path))?;
        self.pending.clear();
        Ok(())
    }
}

/// Replay the log's records: the last hard state, and the entries left after every supersede,
/// each with the offset of its record. A gap in the indexes or a term going down is corruption.
fn replay(
    path: &Path,
    records: Vec<Framed<Record>>,
) -> Result<(HardState, Vec<(u64, Entry)>), StorageError> {
    let mut hard_state = HardState::default();
    let mut entries: Vec<(u64, Entry)> = Vec::new();
    for Framed { offset, value } in records {
        let e = match value {
            Record::Hard(hs) => {
                hard_state = hs;
                continue;
            }
            Record::Entry(e) => e,
        };
        if entries.first().is_some_and(|(_, f)| e.index < f.index) {
            return Err(corrupt(
                path,
                offset,
                format!("entry {} precedes the first entry of the log", e.index),
            ));
        }
        while entries.last().is_some_and(|(_, l)| l.index >= e.index) {
            entries.pop();
        }
        if let Some((_, last)) = entries.last() {
            if e.index != last.index + 1 || e.term < last.term {
                return Err(corrupt(
                    path,
                    offset,
                    format!(
                        "entry {} (term {}) cannot follow entry {} (term {})",
                        e.index, e.term, last.index, last.term
                    ),
                ));
            }
        }
        entries.push((offset, e));
    }
    Ok((hard_state, entries))
}

impl Storage for FileStorage {
    fn recover(&mut self) -> Result<Recovered, StorageError> {
        Ok(self.state.clone())
    }

    fn set_hard_state(&mut self, hs: &HardState) -> Result<(), StorageError> {
        encode(&Record::Hard(hs.clone()), "hard state", &mut self.pending)?;
        self.state.hard_state = hs.clone();
        Ok(())
    }

    fn append(&mut self, entries: &[Entry]) -> Result<(), StorageError> {
        let Some(first) = entries.first() else {
            return Ok(());
        };
        let mut buf = Vec::new();
        for e in entries {
            encode(&Record::Entry(e.clone()), "log entry", &mut buf)?;
        }
        self.pending.extend_from_slice(&buf);
        self.state.entries.retain(|e| e.index < first.index);
        self.state.entries.extend_from_slice(entries);
        Ok(())
    }

    fn set_snapshot(&mut self, snap: &Snapshot) -> Result<(), StorageError> {
        // Earlier buffered records must be durable before the log is rewritten around them.
        self.sync()?;
        let mut bytes = Vec::new();
        encode(snap, "snapshot", &mut bytes)?;
        replace(&self.dir, SNAPSHOT, &bytes, !self.no_fsync)?;
        let entries = std::mem::take(&mut self.state.entries);
        self.state.entries = after_snapshot(entries, snap);
        self.state.snapshot = snap.clone();
        self.rewrite_log()
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let path = self.dir.join(LOG);
        self.log.write_all(&self.pending).map_err(io(&path))?;
        if !self.no_fsync {
            self.log.sync_data().map_err(io(&path))?;
        }
        self.pending.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests;
