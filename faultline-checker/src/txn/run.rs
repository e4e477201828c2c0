//! The check pipeline: data-model inference (edges + non-cycle anomalies), process and
//! real-time edges when the requested models need them, the graph, its strongly connected
//! components, the cycle analysis of each, and the verdict. Budgets are checked between phases
//! and during cycle searches.

use std::collections::BTreeSet;
use std::time::Instant;

use super::cycles::{self, Limits};
use super::explain::Explainer;
use super::graph::{Edges, Graph, ALL};
use super::lattice::{self, AnomalyType};
use super::report::{assemble, Collector, TxnReport, TxnStats, Witness};
use super::scc::{tarjan, Masked};
use super::txns::{Status, Txns};
use super::{append, ordering, register, TxnError, TxnModel, TxnOptions};

/// The anomalies that make a history invalid under `opts`.
pub(crate) fn prohibited(opts: &TxnOptions) -> BTreeSet<AnomalyType> {
    let mut p = lattice::anomalies_implying(&opts.anomalies);
    p.extend(lattice::prohibited_by(&opts.consistency_models));
    p
}

struct Budget {
    deadline: Option<Instant>,
    memory: usize,
    limit_text: String,
}

impl Budget {
    /// Why to stop now, if the budget is spent.
    fn spent(&self, bytes: usize, phase: &str) -> Option<String> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(format!(
                "time limit{} reached while {phase}",
                self.limit_text
            ));
        }
        (bytes > self.memory).then(|| {
            format!(
                "memory limit of {} MiB reached while {phase} (about {} MiB needed)",
                self.memory >> 20,
                bytes >> 20
            )
        })
    }
}

/// Which ordering edges the requested models need.
#[derive(Clone, Copy)]
struct Order {
    process: bool,
    realtime: bool,
}

/// The dependency graph, or why the budget stopped before it.
struct Built {
    graph: Option<Graph>,
    reason: Option<String>,
}

/// Add the ordering edges and build the graph, within the memory budget.
fn graph(t: &Txns, mut edges: Edges, order: Order, data_bytes: usize, budget: &Budget) -> Built {
    if order.process {
        ordering::process_edges(t, &mut edges);
    }
    let aux = if order.realtime {
        let mut rt = Edges::default();
        let aux = ordering::realtime_edges(t, &mut rt);
        edges.append(rt);
        aux
    } else {
        0
    };
    let bytes = t.bytes() + data_bytes + edges.bytes();
    if edges.over_limit() {
        let reason = format!(
            "memory limit of {} MiB reached while inferring dependencies (more than {} edges)",
            budget.memory >> 20,
            edges.len()
        );
        return Built {
            graph: None,
            reason: Some(reason),
        };
    }
    if let Some(reason) = budget.spent(bytes, "inferring dependencies") {
        return Built {
            graph: None,
            reason: Some(reason),
        };
    }
    let n_txn = t.txns.len() as u32;
    let graph = Graph::build(n_txn, n_txn + aux, edges);
    Built {
        graph: Some(graph),
        reason: None,
    }
}

/// Run the whole check on compact transactions.
pub(crate) fn run(t: Txns, opts: &TxnOptions, start: Instant) -> Result<TxnReport, TxnError> {
    let budget = Budget {
        deadline: opts.time_limit.map(|d| start + d),
        memory: opts.memory_limit,
        limit_text: opts
            .time_limit
            .map(|d| format!(" of {:.1} s", d.as_secs_f64()))
            .unwrap_or_default(),
    };
    let prohibited = prohibited(opts);
    let wants = |suffix: &str| prohibited.iter().any(|a| a.name().contains(suffix));
    let realtime = opts.linearizable_keys || wants("-realtime");
    let process = realtime || opts.sequential_keys || wants("-process");
    let max = opts.max_witnesses.max(1);
    let mut c = Collector::new(max);
    let mut stats = stats_of(&t);
    // Each edge costs about 9 bytes collected and 5 in the graph.
    let room = opts.memory_limit.saturating_sub(t.bytes()) / 14;
    let mut edges = Edges::with_limit(room);
    edges.reserve((t.mops.len() + 4 * t.txns.len()).min(room));
    let order = Order { process, realtime };
    // The data model's edges and the ordering edges, then the graph. For list-append, the
    // non-cycle checks run on the other core meanwhile (they only read the indices).
    let (data, built): (Box<dyn Explainer + Sync>, Built) = match t.model {
        TxnModel::ListAppend => {
            let (a, reads) = append::prepare(&t, &mut edges)?;
            let mut found = Collector::new(max);
            let ((), built) = rayon::join(
                || append::checks(&t, &a, &reads, &mut found),
                || {
                    append::write_edges(&t, &a, &mut edges);
                    graph(&t, edges, order, a.bytes(), &budget)
                },
            );
            c.merge(found);
            (Box::new(a), built)
        }
        TxnModel::RwRegister => {
            let sources = register::Sources {
                wfr: opts.wfr_keys,
                sequential: opts.sequential_keys,
                linearizable: opts.linearizable_keys,
            };
            let r = register::analyze(&t, sources, &mut c, &mut edges)?;
            let built = graph(&t, edges, order, r.bytes(), &budget);
            (Box::new(r), built)
        }
    };
    let mut reason = built.reason;
    if let Some(graph) = built.graph {
        stats.edges = graph.edge_count();
        if graph.edge_count() == 0 {
            c.add("empty-transaction-graph", || Witness::EmptyGraph {
                explanation: vec![
                    "no dependency between any two transactions could be inferred, so nothing \
                     can be concluded about their order"
                        .into(),
                ],
            });
        }
        reason = budget.spent(
            t.bytes() + data.bytes() + graph.bytes(),
            "building the dependency graph",
        );
        if reason.is_none() {
            reason = components(&t, data.as_ref(), &graph, opts, &budget, &mut c, &mut stats);
        }
    }
    let a = assemble(c, &prohibited, reason);
    stats.elapsed_ms = start.elapsed().as_millis() as u64;
    Ok(TxnReport {
        valid: a.verdict,
        anomaly_types: a.types,
        not: a.not,
        also_not: a.also_not,
        anomalies: a.anomalies,
        counts: a.counts,
        unknown_reason: a.unknown_reason,
        model: t.model,
        consistency_models: opts.consistency_models.clone(),
        stats,
    })
}

fn stats_of(t: &Txns) -> TxnStats {
    let count = |s: Status| t.txns.iter().filter(|x| x.status == s).count();
    TxnStats {
        txns: t.txns.len(),
        ok: count(Status::Ok),
        info: count(Status::Info),
        fail: count(Status::Fail),
        ..TxnStats::default()
    }
}

/// Analyze every cyclic component; returns why the budget stopped it, if it did.
fn components(
    t: &Txns,
    data: &dyn Explainer,
    graph: &Graph,
    opts: &TxnOptions,
    budget: &Budget,
    c: &mut Collector,
    stats: &mut TxnStats,
) -> Option<String> {
    let mut comps: Vec<Vec<u32>> = Vec::new();
    tarjan(
        &Masked {
            g: graph,
            mask: ALL,
        },
        |comp| {
            let mut v = comp.to_vec();
            v.sort_unstable();
            comps.push(v);
            true
        },
    );
    comps.sort_unstable_by_key(|v| v[0]);
    for comp in &comps {
        let local = graph.induced(comp);
        stats.sccs += 1;
        stats.largest_scc = stats.largest_scc.max(local.txn_count());
        let mut keep_going = || budget.deadline.is_none_or(|d| Instant::now() < d);
        let mut limits = Limits {
            work: opts.cycle_search_limit,
            keep_going: &mut keep_going,
        };
        if !cycles::analyze(t, data, &local, c, &mut limits) {
            return budget.spent(0, "searching for cycles");
        }
    }
    None
}

/// The report when the memory budget ran out before the history was even read.
pub(crate) fn over_budget(opts: &TxnOptions, reason: String, start: Instant) -> TxnReport {
    TxnReport {
        valid: super::report::TxnVerdict::Unknown,
        anomaly_types: Vec::new(),
        not: Vec::new(),
        also_not: Vec::new(),
        anomalies: Default::default(),
        counts: Default::default(),
        unknown_reason: Some(reason),
        model: opts.model,
        consistency_models: opts.consistency_models.clone(),
        stats: TxnStats {
            elapsed_ms: start.elapsed().as_millis() as u64,
            ..TxnStats::default()
        },
    }
}
