//! Planner tests: determinism, targets, and every fault kind's parameters.

use super::*;
use std::path::Path;

fn mixed() -> NemesisSchedule {
    NemesisSchedule::parse(
        "name='mixed'\nfaults=['kill','pause','partition-halves','partition-one','partition-leader','partition-ring','bridge']\n",
        Path::new("m.toml"),
    )
    .unwrap()
}

fn nodes() -> Vec<NodeId> {
    (1..=5).map(|i| format!("n{i}")).collect()
}

#[test]
fn same_seed_same_plan_other_seed_other_plan() {
    let a: Vec<_> = Planner::new(&mixed(), &nodes(), 7).take(20).collect();
    let b: Vec<_> = Planner::new(&mixed(), &nodes(), 7).take(20).collect();
    let c: Vec<_> = Planner::new(&mixed(), &nodes(), 8).take(20).collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Every kind shows up in 20 draws from 7 kinds with this seed.
    assert!(a
        .iter()
        .any(|p| matches!(&p.fault, PlannedFault::Kill(v) if v.len() == 1)));
    assert!(a
        .iter()
        .any(|p| matches!(p.fault, PlannedFault::OnLeader { .. })));
}

#[test]
fn targeted_sequences_act_on_the_leader() {
    let s = NemesisSchedule::parse(
        "name='t'\nfaults=['reelect-deposed','election-flap','vote-twice']\n",
        Path::new("t.toml"),
    )
    .unwrap();
    let plan: Vec<_> = Planner::new(&s, &nodes(), 3).take(10).collect();
    for p in &plan {
        let f = &p.fault;
        match f {
            PlannedFault::OnLeader {
                action: LeaderAction::Reelect,
                ..
            } => assert_eq!(f.verb(), "partition"),
            PlannedFault::OnLeader {
                action: LeaderAction::Flap,
                ..
            } => assert_eq!(f.verb(), "kill"),
            PlannedFault::OnLeader {
                action: LeaderAction::VoteTwice,
                ..
            } => assert_eq!(f.verb(), "pause"),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn clock_and_link_faults_carry_their_parameters() {
    let s = NemesisSchedule::parse(
        "name='c'\nfaults=['clock-skew','clock-strobe','skew-isolate-leader','delay','slow','flaky','loss']\ntargets='minority'\n[clock]\noffset='2s'\n[link]\nloss_percent=7\n",
        Path::new("c.toml"),
    )
    .unwrap();
    let plan: Vec<_> = Planner::new(&s, &nodes(), 11).take(60).collect();
    let mut seen = std::collections::BTreeSet::new();
    for p in &plan {
        seen.insert(p.kind);
        match &p.fault {
            PlannedFault::Clock { skews, strobe } => {
                assert_eq!(skews.len(), 2);
                assert!(skews.iter().all(|(_, ms)| ms.abs() == 2000));
                assert_eq!(strobe.is_some(), p.kind == FaultKind::ClockStrobe);
            }
            PlannedFault::OnLeader {
                action: LeaderAction::SkewIsolate { offset_ms },
                ..
            } => assert_eq!(*offset_ms, -2000),
            PlannedFault::Link { nodes, fault, .. } => {
                assert_eq!(nodes.len(), 2);
                assert_eq!(fault.name(), p.kind.name());
                if let LinkFault::Loss { percent } = fault {
                    assert_eq!(*percent, 7);
                }
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            p.fault.verb(),
            match p.kind {
                FaultKind::SkewIsolateLeader => "clock-skew",
                k => k.name(),
            }
        );
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
    // Both signs occur.
    let signs: std::collections::BTreeSet<bool> = plan
        .iter()
        .filter_map(|p| match &p.fault {
            PlannedFault::Clock { skews, .. } => Some(skews[0].1 > 0),
            _ => None,
        })
        .collect();
    assert_eq!(signs.len(), 2);
}

#[test]
fn disk_faults_hit_the_targets() {
    let s = NemesisSchedule::parse(
        "name='d'\nfaults=['lose-unfsynced','torn-write','disk-error','disk-full']\ntargets='majority'\n",
        Path::new("d.toml"),
    )
    .unwrap();
    assert!(s.needs_lazyfs());
    let plan: Vec<_> = Planner::new(&s, &nodes(), 5).take(12).collect();
    let verbs: std::collections::BTreeSet<&str> = plan.iter().map(|p| p.fault.verb()).collect();
    assert_eq!(verbs.len(), 4, "{verbs:?}");
    for p in &plan {
        let PlannedFault::Disk { nodes, .. } = &p.fault else {
            panic!("unexpected {p:?}")
        };
        assert_eq!(nodes.len(), 3);
        assert_eq!(p.fault.verb(), p.kind.name());
    }
    assert!(!mixed().needs_lazyfs());
}

#[test]
fn in_a_families_schedule_power_loss_hits_every_node_and_disk_failures_the_targets() {
    let s = NemesisSchedule::parse(
        "name='d'\norder='families'\nfaults=['lose-unfsynced','torn-write','disk-error','disk-full']\n",
        Path::new("d.toml"),
    )
    .unwrap();
    let mut planner = Planner::new(&s, &nodes(), 5);
    for kind in s.faults.clone() {
        let p = planner.plan(kind).unwrap();
        let PlannedFault::Disk { nodes, .. } = &p.fault else {
            panic!("unexpected {p:?}")
        };
        let want = match kind {
            FaultKind::LoseUnfsynced | FaultKind::TornWrite => 5,
            _ => 1,
        };
        assert_eq!(nodes.len(), want, "{kind}: {nodes:?}");
    }
}

#[test]
fn empty_schedule_plans_nothing() {
    assert_eq!(
        Planner::new(&NemesisSchedule::none(), &nodes(), 1).next(),
        None
    );
}
