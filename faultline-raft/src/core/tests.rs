//! Behaviour of the pure core on a simulated network, citing the Raft paper.

use std::collections::BTreeMap;

use super::sim::Sim;
use super::Role;
use crate::bugs::{Bug, Bugs};
use crate::types::Command;

fn commits(sim: &Sim) -> Vec<u64> {
    sim.nodes.iter().map(|n| n.soft_state().commit).collect()
}

/// §5.2 Election Safety: at most one leader can be elected in a given term.
#[test]
fn elections_yield_at_most_one_leader_per_term() {
    for n in [3, 5] {
        for pre_vote in [false, true] {
            let mut sim = Sim::new(n, pre_vote, Bugs::none());
            let mut leaders_by_term: BTreeMap<u64, String> = BTreeMap::new();
            for round in 0..6 {
                let all: Vec<usize> = (0..n).collect();
                let l = sim.elect(&all);
                for &i in &sim.leaders() {
                    let s = sim.nodes[i].soft_state();
                    let prev = leaders_by_term.insert(s.term, sim.nodes[i].id().clone());
                    assert!(prev.is_none() || prev.as_deref() == Some(sim.nodes[i].id()));
                }
                // Depose the leader by isolating it for a while, then heal.
                sim.isolate(&[l]);
                for _ in 0..40 + round {
                    sim.tick();
                }
                sim.heal();
            }
        }
    }
}

/// §5.3 / §5.4.2: an entry is committed once a majority stores it, and then applied everywhere.
#[test]
fn entries_commit_on_a_majority_and_apply_everywhere() {
    let mut sim = Sim::new(3, true, Bugs::none());
    let l = sim.elect(&[0, 1, 2]);
    let (index, _) = sim.put(l, "k", 1).expect("leader accepts");
    for _ in 0..5 {
        sim.tick();
    }
    assert!(commits(&sim).iter().all(|&c| c >= index));
    for applied in &sim.applied {
        assert!(applied.iter().any(|e| e.index == index));
    }
}

/// §5.3: a leader cut off from the majority cannot commit.
#[test]
fn minority_leader_cannot_commit() {
    let mut sim = Sim::new(5, true, Bugs::none());
    let l = sim.elect(&[0, 1, 2, 3, 4]);
    let before = sim.nodes[l].soft_state().commit;
    let peer = (l + 1) % 5;
    sim.isolate(&[l, peer]);
    sim.put(l, "k", 1);
    for _ in 0..3 {
        sim.tick();
    }
    assert_eq!(sim.nodes[l].soft_state().commit, before);
}

/// §5.3 Log Matching: a deposed leader's uncommitted suffix is replaced by the new leader's log.
#[test]
fn conflicting_suffix_is_truncated() {
    let mut sim = Sim::new(3, true, Bugs::none());
    let old = sim.elect(&[0, 1, 2]);
    sim.isolate(&[old]);
    sim.put(old, "k", 1);
    sim.put(old, "k", 2);
    let others: Vec<usize> = (0..3).filter(|&i| i != old).collect();
    let new = sim.elect(&others);
    let (idx, term) = sim.put(new, "k", 3).expect("new leader accepts");
    sim.heal();
    for _ in 0..30 {
        sim.tick();
    }
    assert_eq!(sim.nodes[old].term_at(idx), Some(term));
    let vals: Vec<&Command> = sim.applied[old].iter().map(|e| &e.cmd).collect();
    assert!(!vals.contains(&&Command::Put {
        key: "k".into(),
        value: 1.into()
    }));
}

/// The `no-truncate` bug keeps the stale suffix, so the deposed leader applies an entry that was
/// never committed.
#[test]
fn no_truncate_bug_applies_uncommitted_entries() {
    let mut sim = Sim::new(3, true, Bugs::of(vec![Bug::NoTruncate]));
    let old = sim.elect(&[0, 1, 2]);
    sim.isolate(&[old]);
    sim.put(old, "k", 1);
    let others: Vec<usize> = (0..3).filter(|&i| i != old).collect();
    let new = sim.elect(&others);
    sim.put(new, "k", 3);
    sim.heal();
    for _ in 0..30 {
        sim.tick();
    }
    let stale = Command::Put {
        key: "k".into(),
        value: 1.into(),
    };
    assert!(sim.applied[old].iter().any(|e| e.cmd == stale));
}

/// §5.4.2 (Figure 8): a leader never commits an entry of an earlier term by counting replicas;
/// only its own no-op commits it.
#[test]
fn leader_commits_only_entries_of_its_term_by_counting() {
    let mut sim = Sim::new(3, false, Bugs::none());
    let l = sim.elect(&[0, 1, 2]);
    let s = sim.nodes[l].soft_state();
    // The no-op of the current term is the last entry once committed.
    assert_eq!(sim.nodes[l].term_at(s.commit), Some(s.term));
}

/// §9.6: with pre-vote, a node that was partitioned away does not disrupt a healthy leader when
/// it comes back.
#[test]
fn pre_vote_keeps_a_rejoining_node_from_disrupting_the_leader() {
    let mut sim = Sim::new(3, true, Bugs::none());
    let l = sim.elect(&[0, 1, 2]);
    let term = sim.nodes[l].soft_state().term;
    let lonely = (l + 1) % 3;
    sim.isolate(&[lonely]);
    for _ in 0..100 {
        sim.tick();
    }
    sim.heal();
    for _ in 0..20 {
        sim.tick();
    }
    assert_eq!(sim.leaders(), vec![l]);
    assert_eq!(sim.nodes[l].soft_state().term, term);
}

/// ReadIndex (thesis §6.4): a read is released only after a majority acknowledges the leader.
#[test]
fn read_index_needs_a_quorum() {
    let mut sim = Sim::new(3, true, Bugs::none());
    let l = sim.elect(&[0, 1, 2]);
    sim.isolate(&[l]);
    sim.nodes[l].read_index(7).expect("leader");
    let rd = sim.nodes[l].ready();
    assert!(rd.reads.is_empty());
    sim.heal();
    sim.nodes[l].read_index(8).expect("leader");
    let mut got = Vec::new();
    for _ in 0..3 {
        let rd = sim.nodes[l].ready();
        got.extend(rd.reads.iter().map(|r| r.ctx));
        for m in rd.messages {
            let to = sim
                .nodes
                .iter()
                .position(|n| n.id() == &m.to)
                .expect("peer");
            sim.nodes[to].step(m);
            let back = sim.nodes[to].ready().messages;
            for b in back {
                sim.nodes[l].step(b);
            }
        }
    }
    got.extend(sim.nodes[l].ready().reads.iter().map(|r| r.ctx));
    assert!(got.contains(&7) && got.contains(&8), "{got:?}");
}

/// §5.1 / check-quorum: an isolated leader steps down; with `stale-leader` it does not.
#[test]
fn isolated_leader_steps_down_unless_stale_leader_bug() {
    for (bugs, expect_leader) in [
        (Bugs::none(), false),
        (Bugs::of(vec![Bug::StaleLeader]), true),
    ] {
        let mut sim = Sim::new(3, true, bugs);
        let l = sim.elect(&[0, 1, 2]);
        sim.isolate(&[l]);
        for _ in 0..60 {
            sim.tick();
        }
        let role = sim.nodes[l].soft_state().role;
        assert_eq!(role == Role::Leader, expect_leader);
    }
}

/// Figure 2 "persist votedFor before responding": with `forget-vote` the vote never reaches
/// storage, so a restarted node can vote again in the same term.
#[test]
fn forget_vote_bug_never_persists_the_vote() {
    for (bugs, expect_vote) in [
        (Bugs::none(), true),
        (Bugs::of(vec![Bug::ForgetVote]), false),
    ] {
        let (l, voter) = (0, 1);
        let mut fresh = Sim::new(3, false, bugs);
        fresh.nodes[l].campaign(false);
        let req = fresh.nodes[l].ready().messages;
        let to_voter = req
            .into_iter()
            .find(|m| m.to == *fresh.nodes[voter].id())
            .expect("vote request");
        fresh.nodes[voter].step(to_voter);
        let hs = fresh.nodes[voter]
            .ready()
            .hard_state
            .expect("hard state changed");
        assert_eq!(hs.vote.is_some(), expect_vote);
    }
}

/// The `vote-twice` fault on the pure core: n1 and n2 campaign in the same term, n3 grants n1,
/// restarts from what it persisted, and is asked by n2. A node that forgot its vote elects a
/// second leader in that term; the correct one refuses. With pre-vote the second candidate never
/// gets that far: n3, already in the new term, refuses to pre-vote for it.
#[test]
fn forget_vote_bug_elects_two_leaders_in_one_term() {
    use super::Core;
    use crate::types::{Body, Message, Snapshot};
    let to = |msgs: &[Message], i: usize| {
        msgs.iter()
            .find(|m| m.to == super::sim::name(i))
            .cloned()
            .expect("message to node")
    };
    for (bugs, expect_leaders) in [(Bugs::none(), 1), (Bugs::of(vec![Bug::ForgetVote]), 2)] {
        let mut sim = Sim::new(3, false, bugs);
        let (a, b, v) = (0, 1, 2);
        sim.nodes[a].campaign(false);
        sim.nodes[b].campaign(false);
        let from_a = sim.nodes[a].ready().messages;
        let from_b = sim.nodes[b].ready().messages;
        sim.nodes[v].step(to(&from_a, v));
        let rd = sim.nodes[v].ready();
        let disk = rd.hard_state.expect("the vote changes the hard state");
        let grant_a = to(&rd.messages, a);
        // Restart: a new core from exactly what the driver persisted.
        let cfg = sim.nodes[v].cfg.clone();
        sim.nodes[v] = Core::new(cfg, disk, Snapshot::default(), Vec::new());
        sim.nodes[v].step(to(&from_b, v));
        let answer_b = to(&sim.nodes[v].ready().messages, b);
        sim.nodes[a].step(grant_a);
        sim.nodes[b].step(answer_b);
        let leaders: Vec<u64> = sim
            .leaders()
            .iter()
            .map(|&l| sim.nodes[l].soft_state().term)
            .collect();
        assert_eq!(leaders.len(), expect_leaders, "{leaders:?}");
        assert!(leaders.iter().all(|t| *t == 1));
    }

    // Pre-vote: once n3 is in term 1, n2's pre-vote for term 1 is refused.
    let mut sim = Sim::new(3, true, Bugs::of(vec![Bug::ForgetVote]));
    sim.nodes[0].campaign(false);
    let from_a = sim.nodes[0].ready().messages;
    sim.nodes[2].step(to(&from_a, 2));
    let _ = sim.nodes[2].ready();
    sim.nodes[1].campaign(true);
    let pre = to(&sim.nodes[1].ready().messages, 2);
    sim.nodes[2].step(pre);
    let answer = to(&sim.nodes[2].ready().messages, 1);
    assert!(matches!(
        answer.body,
        Body::VoteResponse {
            pre: true,
            granted: false
        }
    ));
}

/// Under `no-truncate` the deposed leader keeps its stale commands but still follows past them:
/// with the third node cut off, the new leader commits through it, so the deposed node stays
/// electable while it lacks a committed write.
#[test]
fn no_truncate_bug_keeps_replicating_past_the_stale_suffix() {
    let mut sim = Sim::new(3, true, Bugs::of(vec![Bug::NoTruncate]));
    let old = sim.elect(&[0, 1, 2]);
    sim.isolate(&[old]);
    sim.put(old, "k", 1);
    sim.put(old, "k", 2);
    let others: Vec<usize> = (0..3).filter(|&i| i != old).collect();
    let new = sim.elect(&others);
    sim.put(new, "k", 3);
    sim.heal();
    for _ in 0..30 {
        sim.tick();
    }
    let third = (0..3).find(|&i| i != old && i != new).unwrap_or(0);
    sim.isolate(&[third]);
    sim.put(new, "j", 5);
    for _ in 0..5 {
        sim.tick();
    }
    let lead = sim.nodes[new].soft_state();
    let stale = sim.nodes[old].soft_state();
    assert!(lead.commit > sim.nodes[third].soft_state().commit);
    assert_eq!(stale.commit, lead.commit);
    let committed = |v: i64| Command::Put {
        key: "k".into(),
        value: v.into(),
    };
    // The new leader's no-op and `k = 3` sit where the deposed node keeps `k = 1` and `k = 2`.
    assert!(sim.applied[old].iter().any(|e| e.cmd == committed(2)));
    assert!(!sim.applied[old].iter().any(|e| e.cmd == committed(3)));
}

/// §7: "If existing log entry has same index and term as snapshot's last included entry, retain
/// log entries following it and reply"; a log that does not hold that entry is discarded whole.
#[test]
fn an_installed_snapshot_keeps_a_matching_log_suffix() {
    use super::Core;
    use crate::types::{Body, Entry, HardState, Message, Snapshot};
    let entries: Vec<Entry> = (1..=5)
        .map(|index| Entry {
            index,
            term: 1,
            cmd: Command::Noop,
        })
        .collect();
    for (snap_term, kept_last) in [(1, Some(5)), (2, None)] {
        let cfg = Sim::new(3, false, Bugs::none()).nodes[1].cfg.clone();
        let hs = HardState {
            term: 2,
            vote: None,
        };
        let mut follower = Core::new(cfg, hs, Snapshot::default(), entries.clone());
        let snapshot = Snapshot {
            index: 3,
            term: snap_term,
            data: "{}".into(),
        };
        follower.step(Message {
            from: "n1".into(),
            to: "n2".into(),
            term: 2,
            body: Body::InstallSnapshot {
                snapshot: snapshot.clone(),
                leader_addr: "client-n1".into(),
                read_seq: 0,
            },
        });
        let s = follower.soft_state();
        assert_eq!((s.commit, s.applied), (3, 3));
        assert_eq!(follower.snapshot_index(), 3);
        assert_eq!(follower.term_at(3), Some(snap_term));
        assert_eq!(follower.term_at(5), kept_last.map(|_| 1));
        let rd = follower.ready();
        assert_eq!(rd.snapshot, Some(snapshot));
        assert!(rd.entries.is_empty(), "kept entries were stable already");
        assert!(
            rd.committed.is_empty(),
            "entries up to 3 come from the snapshot"
        );
        let reply = rd.messages.first().map(|m| m.body.clone());
        assert!(
            matches!(
                reply,
                Some(Body::AppendResponse {
                    success: true,
                    match_index: 3,
                    ..
                })
            ),
            "{reply:?}"
        );
    }
}

/// Thesis §6.4.1: heartbeats are lease rounds; the round a majority acknowledged keeps advancing
/// while the leader is connected and stops as soon as it is cut off. Followers have no lease.
#[test]
fn lease_round_advances_only_with_a_majority() {
    let mut sim = Sim::new(3, true, Bugs::none());
    let l = sim.elect(&[0, 1, 2]);
    for _ in 0..5 {
        sim.tick();
    }
    let (term, first) = sim.nodes[l]
        .lease_round()
        .expect("a connected leader has a lease");
    for _ in 0..6 {
        sim.tick();
    }
    let (same_term, later) = sim.nodes[l].lease_round().expect("still leading");
    assert_eq!(term, same_term);
    assert!(
        later > first,
        "heartbeats renew the lease: {first} -> {later}"
    );
    for f in (0..3).filter(|&i| i != l) {
        assert_eq!(sim.nodes[f].lease_round(), None);
    }
    // Cut off (short of the check-quorum step-down, which takes two election timeouts): rounds
    // still start, but none is acknowledged, so the lease is no longer renewed.
    sim.isolate(&[l]);
    for _ in 0..8 {
        sim.tick();
    }
    assert_eq!(sim.nodes[l].soft_state().role, Role::Leader);
    assert_eq!(sim.nodes[l].lease_round(), Some((term, later)));
    assert!(sim.nodes[l].read_round().1 > later);
}

/// Bug `lease-read`: a leader told its lease holds skips check-quorum; told it does not (or
/// without the bug) it steps down once cut off, as §6.2's check-quorum requires.
#[test]
fn lease_read_bug_keeps_an_isolated_leader_while_its_lease_holds() {
    for (bugs, held, stays) in [
        (Bugs::of(vec![Bug::LeaseRead]), true, true),
        (Bugs::of(vec![Bug::LeaseRead]), false, false),
        (Bugs::none(), true, false),
    ] {
        let mut sim = Sim::new(3, true, bugs);
        let l = sim.elect(&[0, 1, 2]);
        sim.isolate(&[l]);
        sim.nodes[l].set_lease_held(held);
        for _ in 0..40 {
            sim.tick();
        }
        assert_eq!(
            sim.nodes[l].soft_state().role == Role::Leader,
            stays,
            "held={held}"
        );
    }
}
