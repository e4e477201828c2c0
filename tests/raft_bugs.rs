//! Each seeded bug of `faultline-raft` is reachable under the fault `--list-bugs` names, and the
//! correct node behaves under the same fault. (`no-truncate` and `forget-vote` are pinned by core
//! unit tests, where the interleaving can be forced.)

mod raft_common;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use faultline::protocol::Role;
use raft_common::{eventually, http, Cluster};

fn others(l: usize, n: usize) -> Vec<usize> {
    (0..n).filter(|&i| i != l).collect()
}

#[test]
fn stale_leader_serves_old_reads_after_being_isolated() {
    for buggy in [false, true] {
        let extra: &[&str] = if buggy {
            &["--bug", "stale-leader"]
        } else {
            &[]
        };
        let c = Cluster::start(3, extra);
        let l = c
            .wait_leader(&[0, 1, 2], Duration::from_secs(10))
            .expect("leader");
        assert_eq!(c.put(l, "a", "1"), Some(200));
        c.pause(l);
        let rest = others(l, 3);
        let new = eventually(Duration::from_secs(10), || {
            rest.iter()
                .copied()
                .find(|&i| c.status(i).is_some_and(|s| s.role == Role::Leader))
        })
        .expect("new leader");
        assert_eq!(c.put(new, "a", "2"), Some(200));
        let new_term = c.status(new).expect("new leader's status").term;
        // Ask the old leader the moment it wakes up, when it may still believe it leads.
        c.resume(l);
        let direct = http(
            &c.nodes[l].client,
            "GET",
            "/kv/a",
            None,
            Duration::from_secs(5),
        )
        .expect("answer");
        let old = c.status(l).expect("old leader's status");
        if buggy {
            assert_eq!(
                (direct.status, direct.body.as_str()),
                (200, r#"{"value":1}"#)
            );
            // It ignores the newer term for good, not just for a moment.
            assert_eq!((old.role, old.term < new_term), (Role::Leader, true));
        } else {
            assert_ne!(
                direct.body.as_str(),
                r#"{"value":1}"#,
                "correct node served a stale read"
            );
            eventually(Duration::from_secs(10), || {
                c.status(l)
                    .filter(|s| s.role == Role::Follower && s.term >= new_term)
            })
            .expect("the old leader learns the new term and follows");
        }
    }
}

#[test]
fn early_ack_loses_an_acknowledged_write_when_the_leader_dies() {
    let mut c = Cluster::start(3, &["--bug", "early-ack"]);
    let l = c
        .wait_leader(&[0, 1, 2], Duration::from_secs(10))
        .expect("leader");
    assert_eq!(c.put(l, "a", "1"), Some(200));
    let rest = others(l, 3);
    // Kill (not pause) the followers so the leader's Append cannot reach them later.
    for &o in &rest {
        c.kill(o);
    }
    let ack = http(
        &c.nodes[l].client,
        "PUT",
        "/kv/a",
        Some(r#"{"value":2}"#),
        Duration::from_secs(8),
    )
    .expect("answer");
    assert_eq!(ack.status, 200, "early-ack acknowledges without a majority");
    c.kill(l);
    for &o in &rest {
        c.spawn(o, &[]);
    }
    c.wait_leader(&rest, Duration::from_secs(10))
        .expect("new leader");
    let (st, body) = c.get(rest[0], "a").expect("read");
    assert_eq!(
        (st, body.as_str()),
        (200, r#"{"value":1}"#),
        "the acknowledged write is lost"
    );
}

#[test]
fn memory_log_forgets_committed_writes_when_the_cluster_restarts() {
    let mut c = Cluster::start(3, &["--bug", "memory-log"]);
    let l = c
        .wait_leader(&[0, 1, 2], Duration::from_secs(10))
        .expect("leader");
    assert_eq!(c.put(l, "a", "1"), Some(200));
    for i in 0..3 {
        c.kill(i);
    }
    for i in 0..3 {
        c.spawn(i, &[]);
    }
    c.wait_leader(&[0, 1, 2], Duration::from_secs(10))
        .expect("leader");
    let (st, _) = c.get(0, "a").expect("read");
    assert_eq!(st, 404);
}

#[test]
fn stale_read_serves_old_values_from_a_cut_off_follower() {
    for buggy in [false, true] {
        let extra: &[&str] = if buggy { &["--bug", "stale-read"] } else { &[] };
        let c = Cluster::start(3, extra);
        let l = c
            .wait_leader(&[0, 1, 2], Duration::from_secs(10))
            .expect("leader");
        assert_eq!(c.put(l, "a", "1"), Some(200));
        let rest = others(l, 3);
        let (f, o) = (rest[0], rest[1]);
        // `f` must hold the first value before it is cut off.
        let target = c.status(l).expect("leader status").commit_index;
        eventually(Duration::from_secs(10), || {
            c.status(f).filter(|s| s.applied_index >= target)
        })
        .expect("the follower applies the first write");
        c.pause(f);
        assert_eq!(c.put(l, "a", "2"), Some(200));
        c.pause(l);
        c.pause(o);
        c.resume(f);
        let direct = http(
            &c.nodes[f].client,
            "GET",
            "/kv/a",
            None,
            Duration::from_secs(5),
        )
        .expect("answer");
        if buggy {
            assert_eq!(
                (direct.status, direct.body.as_str()),
                (200, r#"{"value":1}"#)
            );
        } else {
            assert_ne!(
                direct.status, 200,
                "a cut-off follower must not answer reads"
            );
        }
    }
}

/// Fire `n` CAS 0 → i at the leader at once; returns how many succeeded.
fn concurrent_cas(c: &Cluster, l: usize, n: usize) -> usize {
    let barrier = Arc::new(Barrier::new(n));
    let addr = c.nodes[l].client.clone();
    let handles: Vec<_> = (1..=n)
        .map(|i| {
            let (barrier, addr) = (barrier.clone(), addr.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let body = format!(r#"{{"from":0,"to":{i}}}"#);
                http(
                    &addr,
                    "POST",
                    "/kv/a/cas",
                    Some(&body),
                    Duration::from_secs(5),
                )
                .is_some_and(|a| a.status == 200)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join())
        .filter(|r| matches!(r, Ok(true)))
        .count()
}

#[test]
fn split_cas_lets_concurrent_cas_both_succeed() {
    for buggy in [false, true] {
        let extra: &[&str] = if buggy { &["--bug", "split-cas"] } else { &[] };
        let c = Cluster::start(3, extra);
        let l = c
            .wait_leader(&[0, 1, 2], Duration::from_secs(10))
            .expect("leader");
        let mut most = 0;
        for _ in 0..5 {
            assert_eq!(c.put(l, "a", "0"), Some(200));
            let wins = concurrent_cas(&c, l, 16);
            if !buggy {
                assert_eq!(wins, 1, "exactly one CAS from 0 may win");
            }
            most = most.max(wins);
        }
        if buggy {
            assert!(most > 1, "split-cas never let two CAS win");
        }
    }
}
