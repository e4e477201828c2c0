//! The lattice against Elle: groups, what each model forbids, and the `not` boundaries Elle's
//! own tests expect.
use super::*;

fn a(s: &str) -> AnomalyType {
    s.parse().expect("anomaly")
}
fn m(s: &str) -> ConsistencyModel {
    s.parse().expect("model")
}
fn names(set: &BTreeSet<AnomalyType>) -> Vec<&'static str> {
    set.iter().map(|a| a.name()).collect()
}

#[test]
fn names_parse_canonically_and_print_friendly() {
    assert_eq!(m("serializable").canonical(), "PL-3");
    assert_eq!(m("PL-3").name(), "serializable");
    assert_eq!(m("strong-serializable"), m("strict-serializable"));
    assert_eq!(m("strong-serializable").name(), "strict-serializable");
    assert!("serialisable".parse::<ConsistencyModel>().is_err());
    assert!("G3".parse::<AnomalyType>().is_err());
}

#[test]
fn groups_expand_to_their_members() {
    let g1 = anomalies_implying(&[a("G1")]);
    for n in ["G1a", "G1b", "G1c", "G0"] {
        assert!(g1.contains(&a(n)), "{n} in {:?}", names(&g1));
    }
    let g2 = anomalies_implying(&[a("G2")]);
    for n in [
        "G-single-item",
        "G-nonadjacent-item",
        "G2-item",
        "lost-update",
    ] {
        assert!(g2.contains(&a(n)), "{n} in {:?}", names(&g2));
    }
    assert!(!g2.contains(&a("G0")));
}

#[test]
fn models_forbid_what_adya_says() {
    let rc = prohibited_by(&[m("read-committed")]);
    assert!(rc.contains(&a("G1c")) && rc.contains(&a("G0")) && !rc.contains(&a("G2-item")));
    let si = prohibited_by(&[m("snapshot-isolation")]);
    assert!(si.contains(&a("G-single-item")) && si.contains(&a("G-nonadjacent-item")));
    assert!(!si.contains(&a("G2-item")));
    let rr = prohibited_by(&[m("repeatable-read")]);
    assert!(rr.contains(&a("G2-item")) && rr.contains(&a("lost-update")));
    let ser = prohibited_by(&[m("serializable")]);
    assert!(!ser.contains(&a("G-single-item-realtime")));
    let ss = prohibited_by(&[m("strict-serializable")]);
    for n in [
        "G1c-realtime",
        "G-single-item-realtime",
        "G2-item-process",
        "internal",
    ] {
        assert!(ss.contains(&a(n)), "{n}");
    }
    let sssi = prohibited_by(&[m("strong-session-snapshot-isolation")]);
    assert!(sssi.contains(&a("G-nonadjacent-item-process")));
    assert!(!sssi.contains(&a("G-single-item-realtime")));
}

#[test]
fn boundaries_match_elle() {
    // Pinned against Elle's own test suite (elle.list-append-test).
    let b = |xs: &[&str]| boundary(&xs.iter().map(|s| a(s)).collect::<Vec<_>>()).0;
    assert_eq!(b(&["G0"]), ["read-uncommitted"]);
    assert_eq!(b(&["G1c"]), ["read-committed"]);
    assert_eq!(
        b(&["G-single-item"]),
        ["consistent-view", "repeatable-read"]
    );
    assert_eq!(b(&["G2-item"]), ["repeatable-read"]);
    assert_eq!(
        b(&["G-nonadjacent-item"]),
        ["repeatable-read", "snapshot-isolation"]
    );
    assert_eq!(
        b(&["G-single-item-realtime"]),
        ["strong-snapshot-isolation"]
    );
    assert_eq!(
        b(&["G-single-item-process"]),
        ["strong-session-snapshot-isolation"]
    );
    assert_eq!(b(&["G1c-process"]), ["strong-session-read-committed"]);
    assert_eq!(
        b(&["lost-update", "G2-item"]),
        ["cursor-stability", "update-atomic"]
    );
    assert_eq!(b(&["future-read"]), ["read-committed"]);
    assert_eq!(b(&["empty-transaction-graph"]), Vec::<String>::new());
    let (_, also) = boundary(&[a("G0")]);
    assert!(also.contains(&"strict-serializable".to_string()));
}
