//! Crash recovery of real `faultline-raft` processes: SIGKILL loses no committed entry, a torn
//! last log record is discarded on restart, and a damaged record before it stops the node.

mod raft_common;

use std::io::Write;
use std::time::Duration;

use raft_common::{eventually, Cluster};

#[test]
fn killed_nodes_restarted_with_their_data_dir_keep_every_committed_entry() {
    let mut c = Cluster::start(3, &[]);
    let l = c
        .wait_leader(&[0, 1, 2], Duration::from_secs(10))
        .expect("leader");
    for k in 0..30 {
        assert_eq!(c.put(l, &format!("k{k}"), &k.to_string()), Some(200));
    }
    for i in 0..3 {
        c.kill(i);
    }
    for i in 0..3 {
        c.spawn(i, &[]);
    }
    c.wait_leader(&[0, 1, 2], Duration::from_secs(10))
        .expect("leader after restart");
    for k in 0..30 {
        let (st, body) = c.get(k % 3, &format!("k{k}")).expect("answer");
        assert_eq!((st, body), (200, format!("{{\"value\":{k}}}")));
    }
}

#[test]
fn a_torn_last_log_record_is_discarded_on_restart() {
    let mut c = Cluster::start(3, &[]);
    let l = c
        .wait_leader(&[0, 1, 2], Duration::from_secs(10))
        .expect("leader");
    for k in 0..10 {
        assert_eq!(c.put(l, &format!("k{k}"), &k.to_string()), Some(200));
    }
    let victim = (l + 1) % 3;
    c.kill(victim);
    // A record header promising 1000 bytes followed by only a few: a write torn by the crash.
    let log = c.nodes[victim].data_dir.join("log");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("log file");
    f.write_all(&1000u32.to_le_bytes()).expect("write");
    f.write_all(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3])
        .expect("write");
    drop(f);
    c.spawn(victim, &[]);
    let target = c.status(l).expect("status").commit_index;
    eventually(Duration::from_secs(10), || {
        c.status(victim).filter(|s| s.applied_index >= target)
    })
    .expect("restarted node caught up");
    assert!(c.log(victim).contains("discarding torn tail"));
    let other = (0..3).find(|&i| i != l && i != victim).expect("third");
    c.kill(other);
    assert_eq!(c.put(l, "after", "1"), Some(200));
    let (st, _) = c.get(victim, "k9").expect("answer");
    assert_eq!(st, 200);
}

/// Byte offsets of the records of a node's `log` file: `u32` LE length, `u32` CRC32, payload.
fn record_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut pos = 0;
    while let Some(len) = bytes.get(pos..pos + 4) {
        offsets.push(pos);
        pos += 8 + u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    }
    offsets
}

#[test]
fn a_corrupted_record_before_the_last_makes_the_node_refuse_to_start() {
    let mut c = Cluster::start(3, &[]);
    let l = c
        .wait_leader(&[0, 1, 2], Duration::from_secs(10))
        .expect("leader");
    for k in 0..10 {
        assert_eq!(c.put(l, &format!("k{k}"), &k.to_string()), Some(200));
    }
    let victim = (l + 1) % 3;
    let target = c.status(l).expect("status").commit_index;
    eventually(Duration::from_secs(10), || {
        c.status(victim).filter(|s| s.applied_index >= target)
    })
    .expect("follower applied the writes");
    c.kill(victim);
    let path = c.nodes[victim].data_dir.join("log");
    let mut bytes = std::fs::read(&path).expect("log file");
    let offsets = record_offsets(&bytes);
    assert!(offsets.len() > 5, "{offsets:?}");
    // Flip one bit inside the payload of the third record: bit rot, not a crash.
    let at = offsets[2];
    bytes[at + 8 + 5] ^= 0x10;
    std::fs::write(&path, &bytes).expect("write log");
    c.spawn(victim, &[]);
    let status = c
        .wait_exit(victim, Duration::from_secs(10))
        .expect("the node must stop on a corrupt log");
    assert_eq!(status.code(), Some(3));
    let log = c.log(victim);
    let last = log.lines().last().unwrap_or_default();
    assert!(
        last.contains(&format!("{}: corrupt at byte offset {at}", path.display())),
        "{last}"
    );
    assert_eq!(
        std::fs::read(&path).expect("log file"),
        bytes,
        "the damaged log must be left as it was"
    );
}
