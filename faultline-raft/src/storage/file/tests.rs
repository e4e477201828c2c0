//! Recovery of [`FileStorage`] from what a crash or a damaged disk leaves behind.

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

fn snap(index: u64, term: u64) -> Snapshot {
    Snapshot {
        index,
        term,
        data: "{}".into(),
    }
}

fn terms(st: &FileStorage) -> Vec<(u64, u64)> {
    st.state.entries.iter().map(|e| (e.index, e.term)).collect()
}

/// A data dir holding entries 1..=3 of term 1, synced; returns the log's record offsets.
fn three_entries(dir: &Path) -> Vec<u64> {
    let mut st = FileStorage::open(dir).expect("open");
    st.append(&[entry(1, 1), entry(2, 1), entry(3, 1)])
        .expect("append");
    st.sync().expect("sync");
    let bytes = fs::read(dir.join(LOG)).expect("read");
    record::scan(&bytes, decode::<Record>)
        .0
        .iter()
        .map(|f| f.offset)
        .collect()
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
    assert_eq!(terms(&st), vec![(1, 1), (2, 1), (3, 3)]);
}

#[test]
fn torn_or_checksum_bad_last_record_is_cut_on_restart() {
    for damage in ["torn", "checksum", "zeros"] {
        let dir = tempfile::tempdir().expect("tempdir");
        three_entries(dir.path());
        let path = dir.path().join(LOG);
        let mut bytes = fs::read(&path).expect("read");
        let n = bytes.len();
        match damage {
            "torn" => bytes.truncate(n - 5),
            "checksum" => bytes[n - 3] ^= 0xff,
            _ => bytes.extend_from_slice(&[0; 512]),
        }
        fs::write(&path, &bytes).expect("write");
        let mut st = FileStorage::open(dir.path()).expect("reopen");
        let kept = if damage == "zeros" { 3 } else { 2 };
        assert_eq!(st.state.entries.len(), kept, "{damage}");
        // The log stays appendable after the tail was cut.
        st.append(&[entry(kept as u64 + 1, 2)]).expect("append");
        st.sync().expect("sync");
        let st = FileStorage::open(dir.path()).expect("reopen");
        assert_eq!(st.state.entries.last().map(|e| e.term), Some(2), "{damage}");
    }
}

#[test]
fn a_damaged_record_before_the_last_refuses_to_open_naming_its_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let offsets = three_entries(dir.path());
    let path = dir.path().join(LOG);
    let mut bytes = fs::read(&path).expect("read");
    bytes[offsets[1] as usize + record::HEADER + 4] ^= 0x10;
    fs::write(&path, &bytes).expect("write");
    let err = FileStorage::open(dir.path()).expect_err("corruption must not be cut silently");
    match &err {
        StorageError::Corrupt { offset, .. } => assert_eq!(*offset, offsets[1]),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(
        text.contains(&format!("byte offset {}", offsets[1])),
        "{text}"
    );
    // Nothing was cut: the damaged file is left for the operator.
    assert_eq!(fs::read(&path).expect("read"), bytes);
}

#[test]
fn a_log_with_an_index_gap_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    three_entries(dir.path());
    let mut buf = Vec::new();
    encode(&Record::Entry(entry(5, 1)), "entry", &mut buf).expect("encode");
    let path = dir.path().join(LOG);
    let at = fs::metadata(&path).expect("stat").len();
    let mut f = OpenOptions::new().append(true).open(&path).expect("open");
    f.write_all(&buf).expect("write");
    drop(f);
    match FileStorage::open(dir.path()) {
        Err(StorageError::Corrupt { offset, reason, .. }) => {
            assert_eq!(offset, at);
            assert!(reason.contains("entry 5"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn a_damaged_snapshot_file_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut st = FileStorage::open(dir.path()).expect("open");
        st.append(&[entry(1, 1), entry(2, 1)]).expect("append");
        st.set_snapshot(&snap(2, 1)).expect("snapshot");
    }
    let path = dir.path().join(SNAPSHOT);
    let mut bytes = fs::read(&path).expect("read");
    let n = bytes.len();
    bytes[n - 2] ^= 0x01;
    fs::write(&path, &bytes).expect("write");
    assert!(matches!(
        FileStorage::open(dir.path()),
        Err(StorageError::Corrupt { .. })
    ));
}

#[test]
fn a_local_snapshot_compacts_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut st = FileStorage::open(dir.path()).expect("open");
        st.append(&[entry(1, 1), entry(2, 1), entry(3, 1)])
            .expect("append");
        st.set_snapshot(&snap(2, 1)).expect("snapshot");
        st.append(&[entry(4, 1)]).expect("append");
        st.sync().expect("sync");
    }
    let st = FileStorage::open(dir.path()).expect("reopen");
    assert_eq!(st.state.snapshot.index, 2);
    assert_eq!(terms(&st), vec![(3, 1), (4, 1)]);
}

/// §7: an installed snapshot whose last entry the log holds keeps the suffix after it; one the
/// log does not match replaces the whole log.
#[test]
fn an_installed_snapshot_keeps_only_a_matching_suffix() {
    for (snapshot, kept) in [(snap(2, 1), vec![(3, 1)]), (snap(2, 4), vec![])] {
        let dir = tempfile::tempdir().expect("tempdir");
        three_entries(dir.path());
        let mut st = FileStorage::open(dir.path()).expect("open");
        st.set_snapshot(&snapshot).expect("snapshot");
        assert_eq!(terms(&st), kept);
        let st = FileStorage::open(dir.path()).expect("reopen");
        assert_eq!(terms(&st), kept);
        assert_eq!(st.state.snapshot, snapshot);
    }
}

/// A crash after the snapshot was renamed in but before the log was rewritten: recovery applies
/// the same rule to the old log, so it never keeps entries that do not follow the snapshot.
#[test]
fn a_crash_between_snapshot_and_log_rewrite_recovers_by_the_same_rule() {
    for (snapshot, kept) in [(snap(2, 1), vec![(3, 1)]), (snap(3, 2), vec![])] {
        let dir = tempfile::tempdir().expect("tempdir");
        three_entries(dir.path());
        let mut bytes = Vec::new();
        encode(&snapshot, "snapshot", &mut bytes).expect("encode");
        replace(dir.path(), SNAPSHOT, &bytes, true).expect("write snapshot");
        fs::write(dir.path().join("log.tmp"), b"half a rewrite").expect("leftover");
        let st = FileStorage::open(dir.path()).expect("reopen");
        assert_eq!(terms(&st), kept);
        assert!(!dir.path().join("log.tmp").exists());
    }
}
