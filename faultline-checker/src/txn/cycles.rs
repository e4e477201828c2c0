//! Cycle anomalies, one strongly connected component at a time (no cycle leaves a component).
//!
//! First, for each model Elle can decide by cycle existence alone (read-uncommitted: ww;
//! read-committed: ww+wr; snapshot isolation: ww+wr with non-adjacent rw; serializable:
//! ww+wr+rw; their process and real-time variants), decide whether the component's restricted
//! graph has a cycle (Tarjan, linear). That decides the verdict exactly, and rules out whole
//! classes before any search. Then search each remaining class for a shortest witness, most
//! severe first, skipping classes implied by one already found. A model whose cycle exists but
//! whose classes were not all witnessed within the search limits is reported as Elle does:
//! `<model>-cycle-exists`, with the component.

use super::explain::{cycle_witness, Explainer};
use super::graph::{Local, Rel, ALL, PROCESS, REALTIME, RW, WR, WW};
use super::lattice::{self, AnomalyType, ConsistencyModel};
use super::report::{Collector, Witness};
use super::scc::{tarjan, Digraph, Extension, Masked};
use super::search::{classify, search, Base, Class, Cut, Variant, CLASSES};
use super::txns::Txns;

/// A subgraph that must be acyclic for a model to hold.
struct Spec {
    model: &'static str,
    anomaly: &'static str,
    /// Relationships allowed (for an extension: the non-rw ones).
    mask: Rel,
    /// rw edges allowed too, but never two adjacent.
    extension: bool,
    words: &'static str,
}

const SPECS: [Spec; 13] = [
    Spec {
        model: "PL-1",
        anomaly: "PL-1-cycle-exists",
        mask: WW,
        extension: false,
        words: "ww",
    },
    Spec {
        model: "PL-2",
        anomaly: "PL-2-cycle-exists",
        mask: WW | WR,
        extension: false,
        words: "ww, wr",
    },
    Spec {
        model: "PL-SI",
        anomaly: "PL-SI-cycle-exists",
        mask: WW | WR,
        extension: true,
        words: "ww, wr, non-adjacent rw",
    },
    Spec {
        model: "PL-2.99",
        anomaly: "PL-2.99-cycle-exists",
        mask: WW | WR | RW,
        extension: false,
        words: "ww, wr, rw",
    },
    Spec {
        model: "PL-3",
        anomaly: "PL-3-cycle-exists",
        mask: WW | WR | RW,
        extension: false,
        words: "ww, wr, rw",
    },
    Spec {
        model: "strong-session-PL-1",
        anomaly: "strong-session-PL-1-cycle-exists",
        mask: WW | PROCESS,
        extension: false,
        words: "ww, process",
    },
    Spec {
        model: "strong-session-PL-2",
        anomaly: "strong-session-PL-2-cycle-exists",
        mask: WW | WR | PROCESS,
        extension: false,
        words: "ww, wr, process",
    },
    Spec {
        model: "strong-session-snapshot-isolation",
        anomaly: "strong-session-snapshot-isolation-cycle-exists",
        mask: WW | WR | PROCESS,
        extension: true,
        words: "ww, wr, process, non-adjacent rw",
    },
    Spec {
        model: "strong-session-serializable",
        anomaly: "strong-session-serializable-cycle-exists",
        mask: WW | WR | RW | PROCESS,
        extension: false,
        words: "ww, wr, rw, process",
    },
    Spec {
        model: "strong-PL-1",
        anomaly: "strong-PL-1-cycle-exists",
        mask: WW | PROCESS | REALTIME,
        extension: false,
        words: "ww, process, realtime",
    },
    Spec {
        model: "strong-PL-2",
        anomaly: "strong-PL-2-cycle-exists",
        mask: WW | WR | PROCESS | REALTIME,
        extension: false,
        words: "ww, wr, process, realtime",
    },
    Spec {
        model: "strong-snapshot-isolation",
        anomaly: "strong-snapshot-isolation-cycle-exists",
        mask: WW | WR | PROCESS | REALTIME,
        extension: true,
        words: "ww, wr, process, realtime, non-adjacent rw",
    },
    Spec {
        model: "PL-SS",
        anomaly: "PL-SS-cycle-exists",
        mask: ALL,
        extension: false,
        words: "ww, wr, rw, process, realtime",
    },
];

/// The spec whose acyclicity rules out every cycle of `c`.
fn guard(c: Class) -> usize {
    let base = match c.base {
        Base::G0 => 0,
        Base::G1c => 1,
        Base::Single | Base::Nonadjacent => 2,
        Base::G2Item => 4,
    };
    match (c.variant, base) {
        (Variant::Plain, b) => b,
        (Variant::Process, 4) => 8,
        (Variant::Process, b) => 5 + b,
        (Variant::Realtime, 4) => 12,
        (Variant::Realtime, b) => 9 + b,
    }
}

/// Limits for one component's witness searches.
pub(crate) struct Limits<'a> {
    /// States one class search may expand.
    pub work: usize,
    /// Polled during searches; false stops them (deadline, memory).
    pub keep_going: &'a mut dyn FnMut() -> bool,
}

/// The smallest cyclic component of `spec`'s subgraph, as local vertex ids; `None` if acyclic.
fn smallest_cycle_component(local: &Local, spec: &Spec) -> Option<Vec<u32>> {
    let mut best: Option<Vec<u32>> = None;
    let mut keep = |comp: &[u32], halve: bool| {
        let mut vs: Vec<u32> = comp
            .iter()
            .map(|v| if halve { v / 2 } else { *v })
            .collect();
        vs.sort_unstable();
        vs.dedup();
        vs.retain(|v| !local.aux[*v as usize]);
        if best.as_ref().is_none_or(|b| vs.len() < b.len()) {
            best = Some(vs);
        }
        true
    };
    if spec.extension {
        let g = Extension {
            g: &local.g,
            base: spec.mask,
        };
        run(&g, |c| keep(c, true));
    } else {
        let g = Masked {
            g: &local.g,
            mask: spec.mask,
        };
        run(&g, |c| keep(c, false));
    }
    best
}

fn run<G: Digraph>(g: &G, f: impl FnMut(&[u32]) -> bool) {
    tarjan(g, f);
}

/// Find the cycle anomalies of one component and add them to `c`. Returns false when the
/// caller's budget stopped the search.
pub(crate) fn analyze(
    t: &Txns,
    data: &dyn Explainer,
    local: &Local,
    c: &mut Collector,
    limits: &mut Limits,
) -> bool {
    let exists: Vec<Option<Vec<u32>>> = SPECS
        .iter()
        .map(|s| smallest_cycle_component(local, s))
        .collect();
    let mut found: Vec<AnomalyType> = Vec::new();
    let mut clean: Vec<AnomalyType> = Vec::new();
    let mut stopped = false;
    for class in CLASSES {
        if exists[guard(class)].is_none()
            || lattice::implied_anomalies(&found).contains(&class.name())
        {
            continue;
        }
        let f = search(local, class, limits.work, limits.keep_going);
        let mut hit = false;
        for cyc in &f.cycles {
            let Some(k) = classify(cyc) else { continue };
            hit |= k == class;
            if found.contains(&k.name()) {
                continue;
            }
            found.push(k.name());
            let global: Vec<(u32, Rel)> = cyc
                .iter()
                .map(|&(v, r)| (local.nodes[v as usize], r))
                .collect();
            c.add_typed(k.name(), cycle_witness(t, data, k.name(), &global));
        }
        match (hit, f.cut) {
            (true, _) => {}
            (false, None) => clean.push(class.name()),
            (false, Some(cut)) => {
                c.add("cycle-search-timeout", || {
                    timeout(local, class, &clean, limits.work, cut)
                });
                if cut == Cut::Budget {
                    stopped = true;
                    break;
                }
            }
        }
    }
    cycle_exists(t, local, &exists, &found, c);
    !stopped
}

fn timeout(local: &Local, class: Class, clean: &[AnomalyType], work: usize, cut: Cut) -> Witness {
    let why = match cut {
        Cut::Work => format!("its limit of {work} search states"),
        Cut::Budget => "the time or memory budget".to_string(),
    };
    Witness::SearchTimeout {
        anomaly_spec_type: class.name(),
        does_not_contain: clean.to_vec(),
        scc_size: local.txn_count(),
        explanation: vec![format!(
            "the search for a {} cycle among {} transactions stopped at {why}",
            class.name(),
            local.txn_count()
        )],
    }
}

/// Elle's fallback: report each model whose cycle exists but that no named witness rules out.
fn cycle_exists(
    t: &Txns,
    local: &Local,
    exists: &[Option<Vec<u32>>],
    found: &[AnomalyType],
    c: &mut Collector,
) {
    let ruled_out = lattice::impossible_models(found);
    let mut redundant = std::collections::BTreeSet::new();
    for (spec, comp) in SPECS.iter().zip(exists) {
        let model = ConsistencyModel::from_canonical(spec.model);
        let Some(comp) = comp else { continue };
        if redundant.contains(&model) {
            continue;
        }
        redundant.extend(lattice::models_implying(model));
        if ruled_out.contains(&model) {
            continue;
        }
        let indices: Vec<u64> = comp
            .iter()
            .map(|v| t.txns[local.nodes[*v as usize] as usize].index())
            .collect();
        c.add(spec.anomaly, || Witness::CycleExists {
            not: model,
            subgraph: spec.words.to_string(),
            scc_size: indices.len(),
            scc: indices.iter().copied().take(100).collect(),
            explanation: vec![format!(
                "a cycle of {} edges exists among these {} transactions, so the history is not \
                 {}; no witness of a named class was found within the search limits",
                spec.words,
                indices.len(),
                model.name()
            )],
        });
    }
}
