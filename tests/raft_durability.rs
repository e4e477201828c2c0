//! Crash recovery of real `faultline-raft` processes: SIGKILL loses no committed entry, and a torn
//! last log record is discarded on restart.

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
    assert!(c.log(victim).contains("discarding torn or corrupt tail"));
    let other = (0..3).find(|&i| i != l && i != victim).expect("third");
    c.kill(other);
    assert_eq!(c.put(l, "after", "1"), Some(200));
    let (st, _) = c.get(victim, "k9").expect("answer");
    assert_eq!(st, 200);
}
