//! Replication through real `faultline-raft` processes: redirects, minority partitions and
//! snapshot catch-up.

mod raft_common;

use std::time::Duration;

use raft_common::{eventually, Cluster};

#[test]
fn writes_through_any_node_are_readable_after_redirect() {
    let c = Cluster::start(3, &[]);
    c.wait_leader(&[0, 1, 2], Duration::from_secs(10))
        .expect("leader");
    for i in 0..3 {
        assert_eq!(
            c.put(i, &format!("k{i}"), &format!("{}", i * 10)),
            Some(200)
        );
    }
    for i in 0..3 {
        for k in 0..3 {
            let (status, body) = c.get(i, &format!("k{k}")).expect("answer");
            assert_eq!(status, 200);
            assert_eq!(body, format!("{{\"value\":{}}}", k * 10));
        }
    }
    let (status, _) = c.get(0, "never-written").expect("answer");
    assert_eq!(status, 404);
    let cas = c
        .request(1, "POST", "/kv/k1/cas", Some(r#"{"from":999,"to":1}"#))
        .expect("answer");
    assert_eq!((cas.status, cas.body.as_str()), (409, r#"{"value":10}"#));
    let cas = c
        .request(2, "POST", "/kv/k1/cas", Some(r#"{"from":10,"to":11}"#))
        .expect("answer");
    assert_eq!(cas.status, 200);
}

#[test]
fn a_leader_in_a_minority_partition_cannot_commit() {
    let c = Cluster::start(3, &[]);
    let l = c
        .wait_leader(&[0, 1, 2], Duration::from_secs(10))
        .expect("leader");
    assert_eq!(c.put(l, "a", "1"), Some(200));
    let others: Vec<usize> = (0..3).filter(|&i| i != l).collect();
    for &o in &others {
        c.pause(o);
    }
    // Read after the pause: the node answers a write as soon as it applies it and publishes its
    // status at the end of that loop pass, so a status read racing the answer could miss it.
    let commit_before = c.status(l).expect("status").commit_index;
    let answer = raft_common::http(
        &c.nodes[l].client,
        "PUT",
        "/kv/a",
        Some(r#"{"value":2}"#),
        Duration::from_secs(8),
    );
    let status = answer.map(|a| a.status);
    assert!(
        matches!(status, Some(504) | Some(503) | Some(307) | None),
        "a write without a majority must not succeed, got {status:?}"
    );
    assert_eq!(c.status(l).expect("status").commit_index, commit_before);
    for &o in &others {
        c.resume(o);
    }
    c.wait_leader(&[0, 1, 2], Duration::from_secs(10))
        .expect("leader after heal");
    let (st, body) = c.get(0, "a").expect("read after heal");
    assert_eq!(st, 200);
    assert!(
        body == r#"{"value":1}"# || body == r#"{"value":2}"#,
        "{body}"
    );
}

#[test]
fn a_follower_far_behind_catches_up_by_snapshot() {
    let mut c = Cluster::start(3, &["--snapshot-threshold", "20"]);
    let l = c
        .wait_leader(&[0, 1, 2], Duration::from_secs(10))
        .expect("leader");
    let lagger = (l + 1) % 3;
    c.kill(lagger);
    for k in 0..100 {
        assert_eq!(
            c.put(l, &format!("k{k}"), &k.to_string()),
            Some(200),
            "write {k}"
        );
    }
    let target = c.status(l).expect("status").commit_index;
    c.spawn(lagger, &[]);
    eventually(Duration::from_secs(15), || {
        c.status(lagger).filter(|s| s.applied_index >= target)
    })
    .expect("lagging follower applied everything");
    assert!(
        c.log(lagger).contains("installing snapshot"),
        "{}",
        c.log(lagger)
    );
    // The caught-up follower is now needed for a majority: stop the other follower.
    let other = (0..3).find(|&i| i != l && i != lagger).expect("third node");
    c.kill(other);
    assert_eq!(c.put(l, "after", "1"), Some(200));
}

#[test]
fn a_stalled_follower_does_not_slow_down_the_others() {
    let c = Cluster::start(3, &[]);
    let l = c
        .wait_leader(&[0, 1, 2], Duration::from_secs(10))
        .expect("leader");
    let stalled = (l + 1) % 3;
    c.pause(stalled);
    let started = std::time::Instant::now();
    for k in 0..50 {
        assert_eq!(
            c.put(l, &format!("s{k}"), &k.to_string()),
            Some(200),
            "write {k}"
        );
    }
    // The stalled link must not hold the writes back (each would otherwise wait for timeouts).
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    c.resume(stalled);
    let target = c.status(l).expect("status").commit_index;
    eventually(Duration::from_secs(10), || {
        c.status(stalled).filter(|s| s.applied_index >= target)
    })
    .expect("the stalled follower caught up");
}
