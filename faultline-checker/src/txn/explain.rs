//! Witness cycles in words: name the transactions T1..Tn, explain each edge (data edges by the
//! data model's [`Explainer`], process and real-time edges here), and render the lines the way
//! Elle prints them ("T1 < T2, because ...; However, Tn < T1, because ...: a contradiction!").

use super::graph::{Rel, PROCESS, REALTIME};
use super::lattice::AnomalyType;
use super::report::{CycleWitness, StepWitness, Witness};
use super::show;
use super::txns::{Txns, NONE};

/// Explains the data dependencies one data model infers.
pub(crate) trait Explainer {
    /// Why `b` depends on `a` through `rel` (ww, wr or rw), naming them `an` and `bn`; `None`
    /// when this model did not infer such an edge.
    fn explain(
        &self,
        t: &Txns,
        a: u32,
        b: u32,
        rel: Rel,
        an: &str,
        bn: &str,
    ) -> Option<StepWitness>;

    /// Heap bytes held by the model's indices.
    fn bytes(&self) -> usize;
}

fn plain(rel: &str, words: String) -> StepWitness {
    StepWitness {
        rel: rel.into(),
        key: None,
        value: None,
        value_next: None,
        a_mop_index: None,
        b_mop_index: None,
        process: None,
        explanation: words,
    }
}

/// One edge `a -> b` of a witness.
pub(crate) fn step(
    t: &Txns,
    data: &dyn Explainer,
    a: u32,
    b: u32,
    rel: Rel,
    an: &str,
    bn: &str,
) -> StepWitness {
    let (x, y) = (&t.txns[a as usize], &t.txns[b as usize]);
    match rel {
        PROCESS => StepWitness {
            process: Some(x.process),
            ..plain(
                "process",
                format!("process {} ran {an} before {bn}", x.process),
            )
        },
        REALTIME => {
            let gap = match (x.complete_time, y.invoke_time) {
                (Some(c), Some(i)) if i > c => format!(", {:.3} s earlier", (i - c) as f64 / 1e9),
                _ => String::new(),
            };
            let done = if x.complete == NONE {
                x.invoke
            } else {
                x.complete
            };
            plain(
                "realtime",
                format!(
                    "{an} completed at index {done}{gap}, before {bn} was invoked at index {}",
                    y.invoke
                ),
            )
        }
        _ => data.explain(t, a, b, rel, an, bn).unwrap_or_else(|| {
            plain(
                super::graph::rel_name(rel),
                format!("{bn} depends on {an} ({})", super::graph::rel_name(rel)),
            )
        }),
    }
}

/// A cycle of transactions (global ids) with the relationship leaving each, explained.
pub(crate) fn cycle_witness(
    t: &Txns,
    data: &dyn Explainer,
    anomaly: AnomalyType,
    cycle: &[(u32, Rel)],
) -> Witness {
    let n = cycle.len();
    let names: Vec<String> = (1..=n).map(|i| format!("T{i}")).collect();
    let mut lines = vec!["Let:".to_string()];
    for (i, (x, _)) in cycle.iter().enumerate() {
        lines.push(format!("  {} = {}", names[i], show::txn(t, *x)));
    }
    lines.push("Then:".into());
    let mut steps = Vec::with_capacity(n);
    for i in 0..n {
        let j = (i + 1) % n;
        let (a, rel) = cycle[i];
        let b = cycle[j].0;
        let s = step(t, data, a, b, rel, &names[i], &names[j]);
        let line = if i + 1 == n {
            format!(
                "  - However, {} < {}, because {} ({}): a contradiction!",
                names[i], names[j], s.explanation, s.rel
            )
        } else {
            format!(
                "  - {} < {}, because {} ({}).",
                names[i], names[j], s.explanation, s.rel
            )
        };
        lines.push(line);
        steps.push(s);
    }
    Witness::Cycle(Box::new(CycleWitness {
        anomaly,
        cycle: cycle.iter().map(|(x, _)| show::txn_op(t, *x)).collect(),
        steps,
        explanation: lines,
    }))
}
