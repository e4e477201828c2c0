//! The witness search on hand-made graphs: shortest cycles per class, exact classification,
//! real-time paths through auxiliary vertices collapsed into one step.

use super::*;
use crate::txn::graph::{Edge, Graph};

fn local(n_txn: u32, n: u32, edges: &[(u32, u32, Rel)]) -> Local {
    let e: Vec<Edge> = edges
        .iter()
        .map(|&(from, to, rel)| Edge { from, to, rel })
        .collect();
    let g = Graph::build(n_txn, n, e.into());
    let nodes: Vec<u32> = (0..n).collect();
    g.induced(&nodes)
}

fn find(l: &Local, base: Base, variant: Variant) -> Option<Vec<Step>> {
    let c = Class { base, variant };
    let f = search(l, c, 1_000_000, &mut || true);
    f.cycles.into_iter().find(|cyc| classify(cyc) == Some(c))
}

#[test]
fn classifies_like_elle() {
    let c = |rels: &[Rel]| {
        let steps: Vec<Step> = rels
            .iter()
            .enumerate()
            .map(|(i, r)| (i as u32, *r))
            .collect();
        classify(&steps).map(|c| c.name().name())
    };
    assert_eq!(c(&[WW, WW]), Some("G0"));
    assert_eq!(c(&[WW, WR]), Some("G1c"));
    assert_eq!(c(&[RW, WR]), Some("G-single-item"));
    assert_eq!(c(&[RW, WR, RW, WR]), Some("G-nonadjacent-item"));
    assert_eq!(c(&[RW, RW]), Some("G2-item"));
    assert_eq!(
        c(&[RW, WR, RW]),
        Some("G2-item"),
        "the last and first rw are adjacent"
    );
    assert_eq!(c(&[RW, PROCESS]), Some("G-single-item-process"));
    assert_eq!(c(&[RW, PROCESS, REALTIME]), Some("G-single-item-realtime"));
    assert_eq!(c(&[]), None);
}

#[test]
fn finds_the_shortest_cycle_of_each_class() {
    // A long G1c (0->1->2->3->0) and a short one (4<->5); the search returns the short one.
    let l = local(
        6,
        6,
        &[
            (0, 1, WW),
            (1, 2, WW),
            (2, 3, WW),
            (3, 0, WR),
            (4, 5, WR),
            (5, 4, WW),
        ],
    );
    let c = find(&l, Base::G1c, Variant::Plain).expect("G1c");
    assert_eq!(c.len(), 2);
    assert!(find(&l, Base::G0, Variant::Plain).is_none());
    assert!(find(&l, Base::Single, Variant::Plain).is_none());
}

#[test]
fn nonadjacent_needs_alternation_and_g2_needs_adjacency() {
    let l = local(4, 4, &[(0, 1, RW), (1, 2, WR), (2, 3, RW), (3, 0, WR)]);
    assert_eq!(
        find(&l, Base::Nonadjacent, Variant::Plain).map(|c| c.len()),
        Some(4)
    );
    assert!(find(&l, Base::G2Item, Variant::Plain).is_none());
    let l = local(3, 3, &[(0, 1, RW), (1, 2, RW), (2, 0, WR)]);
    assert!(find(&l, Base::Nonadjacent, Variant::Plain).is_none());
    assert_eq!(
        find(&l, Base::G2Item, Variant::Plain).map(|c| c.len()),
        Some(3)
    );
}

#[test]
fn an_edge_with_several_relationships_serves_each_class() {
    // 0 -> 1 is both rw and process; 1 -> 0 is wr.
    let l = local(2, 2, &[(0, 1, RW | PROCESS), (1, 0, WR)]);
    assert!(find(&l, Base::Single, Variant::Plain).is_some());
    assert!(find(&l, Base::G1c, Variant::Process).is_some());
}

#[test]
fn realtime_paths_through_aux_vertices_collapse() {
    // Txn 0 completes (-> aux 2 -> aux 3) before txn 1 is invoked; 1 -rw-> 0.
    let l = local(
        2,
        4,
        &[
            (0, 2, REALTIME),
            (2, 3, REALTIME),
            (3, 1, REALTIME),
            (1, 0, RW),
        ],
    );
    let c = find(&l, Base::Single, Variant::Realtime).expect("G-single-item-realtime");
    assert_eq!(c, vec![(0, REALTIME), (1, RW)]);
    assert!(find(&l, Base::Single, Variant::Process).is_none());
    assert!(find(&l, Base::Single, Variant::Plain).is_none());
}

#[test]
fn work_limit_cuts_the_search() {
    let l = local(3, 3, &[(0, 1, WW), (1, 2, WW), (2, 0, WW)]);
    let f = search(
        &l,
        Class {
            base: Base::G0,
            variant: Variant::Plain,
        },
        1,
        &mut || true,
    );
    assert!(f.cycles.is_empty() && f.cut == Some(Cut::Work));
    let f = search(
        &l,
        Class {
            base: Base::G0,
            variant: Variant::Plain,
        },
        100,
        &mut || false,
    );
    assert_eq!(f.cut, Some(Cut::Budget));
}
