//! Leader election of real `faultline-raft` processes: one leader per term, and a new leader soon
//! after the old one is killed.

mod raft_common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use faultline::protocol::Role;
use raft_common::{Cluster, ELECTION_MS};

#[test]
fn three_and_five_nodes_elect_exactly_one_leader_per_term() {
    for n in [3, 5] {
        let c = Cluster::start(n, &[]);
        let all: Vec<usize> = (0..n).collect();
        c.wait_leader(&all, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{n} nodes elected no leader"));
        let mut leaders: BTreeMap<u64, String> = BTreeMap::new();
        let until = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < until {
            for i in 0..n {
                if let Some(s) = c.status(i).filter(|s| s.role == Role::Leader) {
                    let prev = leaders.insert(s.term, s.id.clone());
                    assert!(
                        prev.is_none() || prev == Some(s.id.clone()),
                        "two leaders in term {}",
                        s.term
                    );
                }
            }
        }
        assert!(!leaders.is_empty());
    }
}

#[test]
fn killing_the_leader_yields_a_new_leader_within_a_few_election_timeouts() {
    let mut c = Cluster::start(3, &[]);
    let old = c
        .wait_leader(&[0, 1, 2], Duration::from_secs(10))
        .expect("first leader");
    let old_term = c.status(old).expect("status").term;
    c.kill(old);
    let started = Instant::now();
    let rest: Vec<usize> = (0..3).filter(|&i| i != old).collect();
    let new = c
        .wait_leader(&rest, Duration::from_millis(10 * ELECTION_MS))
        .expect("a new leader within 10 election timeouts");
    eprintln!("new leader after {:?}", started.elapsed());
    assert!(c.status(new).expect("status").term > old_term);
}
