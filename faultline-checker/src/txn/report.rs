//! What a transaction check returns: the three-valued verdict, the anomalies found (a few
//! witnesses per type, each explained in words), the consistency models they rule out, and the
//! [`Collector`] the inference passes add anomalies to.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lattice::{self, AnomalyType, ConsistencyModel};
use super::TxnModel;
use crate::history::Op;

/// `true`, `false` or `"unknown"`, as Elle's `:valid?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnVerdict {
    /// No forbidden anomaly, and nothing left unknown.
    Valid,
    /// A forbidden anomaly was found.
    Invalid,
    /// Nothing forbidden was found, but the analysis is incomplete (an empty dependency graph,
    /// a cycle search cut short, or a time / memory budget ran out).
    Unknown,
}

impl Serialize for TxnVerdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TxnVerdict::Valid => s.serialize_bool(true),
            TxnVerdict::Invalid => s.serialize_bool(false),
            TxnVerdict::Unknown => s.serialize_str("unknown"),
        }
    }
}

impl<'de> Deserialize<'de> for TxnVerdict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(true) => Ok(TxnVerdict::Valid),
            Value::Bool(false) => Ok(TxnVerdict::Invalid),
            Value::String(s) if s == "unknown" => Ok(TxnVerdict::Unknown),
            other => Err(serde::de::Error::custom(format!(
                "valid must be true, false or \"unknown\", got {other}"
            ))),
        }
    }
}

/// The result of checking a transactional history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TxnReport {
    /// The verdict against the requested models and anomalies.
    pub valid: TxnVerdict,
    /// The reported anomaly types, sorted (those requested, plus the ones that make a verdict
    /// unknown).
    pub anomaly_types: Vec<AnomalyType>,
    /// The weakest consistency models every anomaly found rules out (Elle's `:not`).
    pub not: Vec<String>,
    /// Stronger models also ruled out (Elle's `:also-not`).
    pub also_not: Vec<String>,
    /// Witnesses per reported anomaly type (at most `TxnOptions::max_witnesses` each).
    pub anomalies: BTreeMap<AnomalyType, Vec<Witness>>,
    /// How many instances of each reported anomaly type were found (witnesses are capped).
    pub counts: BTreeMap<AnomalyType, usize>,
    /// Why the verdict is unknown because a budget ran out, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
    /// The data model checked.
    pub model: TxnModel,
    /// The consistency models checked against.
    pub consistency_models: Vec<ConsistencyModel>,
    /// Sizes and timing.
    pub stats: TxnStats,
}

/// Sizes and timing of one check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnStats {
    /// Transactions invoked.
    pub txns: usize,
    /// Of those, committed (`ok`), unknown (`info` or never completed) and aborted (`fail`).
    pub ok: usize,
    /// See `ok`.
    pub info: usize,
    /// See `ok`.
    pub fail: usize,
    /// Distinct dependency edges (auxiliary real-time edges included).
    pub edges: usize,
    /// Strongly connected components with a cycle.
    pub sccs: usize,
    /// Transactions in the largest of them.
    pub largest_scc: usize,
    /// Wall-clock time of the check.
    pub elapsed_ms: u64,
}

/// Evidence for one anomaly, with an explanation a person can check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Witness {
    /// A dependency cycle.
    Cycle(Box<CycleWitness>),
    /// One transaction's read (or micro-op) shows the anomaly: G1a, G1b, internal, future-read,
    /// duplicate-elements.
    Op(Box<OpWitness>),
    /// Reads of one key that cannot all come from one order of appends.
    IncompatibleOrder {
        /// The key.
        key: Value,
        /// Two read results, neither a prefix of the other.
        values: Vec<Value>,
        /// In words.
        explanation: Vec<String>,
    },
    /// An aborted transaction's write was built upon by a committed one.
    DirtyUpdate {
        /// The key.
        key: Value,
        /// The versions from the aborted write to the committed one.
        values: Vec<Value>,
        /// The aborted writer and the committed one.
        txns: Vec<Op>,
        /// In words.
        explanation: Vec<String>,
    },
    /// Committed transactions that read the same version of a key and all wrote it.
    LostUpdate {
        /// The key.
        key: Value,
        /// The version they all read.
        value: Value,
        /// The transactions.
        txns: Vec<Op>,
        /// In words.
        explanation: Vec<String>,
    },
    /// Register version orders inferred for one key contradict each other.
    CyclicVersions {
        /// The key.
        key: Value,
        /// Values on the cycle of the version order.
        scc: Vec<Value>,
        /// The inference rules that produced the contradiction.
        sources: Vec<String>,
        /// In words.
        explanation: Vec<String>,
    },
    /// A cycle that violates `not` exists among these transactions, but no witness of a named
    /// class was found within the search limits.
    CycleExists {
        /// The model the cycle rules out.
        not: ConsistencyModel,
        /// The relationships the cycle uses.
        subgraph: String,
        /// Transactions in the smallest such component.
        scc_size: usize,
        /// Their history indices (first 100).
        scc: Vec<u64>,
        /// In words.
        explanation: Vec<String>,
    },
    /// A witness search stopped at its work limit.
    SearchTimeout {
        /// The class being searched.
        anomaly_spec_type: AnomalyType,
        /// Classes searched completely in that component without a find.
        does_not_contain: Vec<AnomalyType>,
        /// Transactions in the component.
        scc_size: usize,
        /// In words.
        explanation: Vec<String>,
    },
    /// No dependency between any two transactions could be inferred.
    EmptyGraph {
        /// In words.
        explanation: Vec<String>,
    },
}

/// A dependency cycle: `cycle[i]` depends on `cycle[i+1]` as `steps[i]` says; the last step
/// leads back to the first transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleWitness {
    /// Elle's name for the cycle's class.
    #[serde(rename = "type")]
    pub anomaly: AnomalyType,
    /// The transactions (completion ops; the invoke for ones that never completed).
    pub cycle: Vec<Op>,
    /// Why each transaction precedes the next.
    pub steps: Vec<StepWitness>,
    /// The cycle in words, one edge a line, as Elle prints it.
    pub explanation: Vec<String>,
}

/// One edge of a cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepWitness {
    /// `ww`, `wr`, `rw`, `process` or `realtime`.
    #[serde(rename = "type")]
    pub rel: String,
    /// The key involved (data dependencies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Value>,
    /// The earlier version (`null` for the initial state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// The later version.
    #[serde(rename = "value'", default, skip_serializing_if = "Option::is_none")]
    pub value_next: Option<Value>,
    /// Position of the micro-op in the earlier transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a_mop_index: Option<usize>,
    /// Position of the micro-op in the later transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b_mop_index: Option<usize>,
    /// The process, for process edges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<u64>,
    /// "T1 < T2, because ..." without the names.
    pub explanation: String,
}

/// One transaction's micro-op shows the anomaly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpWitness {
    /// The transaction.
    pub op: Op,
    /// The micro-op.
    pub mop: Value,
    /// The transaction that wrote what was read, when relevant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer: Option<Op>,
    /// The element or value concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<Value>,
    /// What the transaction should have read (internal; `"..."` marks an unknown prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    /// Repeated elements and how often each occurs (duplicate-elements).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<Vec<(Value, usize)>>,
    /// In words.
    pub explanation: Vec<String>,
}

impl Witness {
    /// The explanation lines of any witness.
    pub fn explanation(&self) -> &[String] {
        match self {
            Witness::Cycle(c) => &c.explanation,
            Witness::Op(o) => &o.explanation,
            Witness::IncompatibleOrder { explanation, .. }
            | Witness::DirtyUpdate { explanation, .. }
            | Witness::LostUpdate { explanation, .. }
            | Witness::CyclicVersions { explanation, .. }
            | Witness::CycleExists { explanation, .. }
            | Witness::SearchTimeout { explanation, .. }
            | Witness::EmptyGraph { explanation } => explanation,
        }
    }
}

/// Anomalies found so far: a count and the first few witnesses per type.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    pub max: usize,
    pub found: BTreeMap<AnomalyType, (usize, Vec<Witness>)>,
}

impl Collector {
    /// A collector keeping `max` witnesses per type.
    pub(crate) fn new(max: usize) -> Self {
        Collector {
            max,
            found: BTreeMap::new(),
        }
    }

    /// Count one instance of `t`; build its witness only if there is room for it.
    pub(crate) fn add(&mut self, t: &'static str, witness: impl FnOnce() -> Witness) {
        let e = self.found.entry(AnomalyType::known(t)).or_default();
        e.0 += 1;
        if e.1.len() < self.max {
            e.1.push(witness());
        }
    }

    /// Count one instance of `t` with a witness already built.
    pub(crate) fn add_typed(&mut self, t: AnomalyType, witness: Witness) {
        let e = self.found.entry(t).or_default();
        e.0 += 1;
        if e.1.len() < self.max {
            e.1.push(witness);
        }
    }

    /// Add everything `other` found.
    pub(crate) fn merge(&mut self, other: Collector) {
        for (t, (n, ws)) in other.found {
            let e = self.found.entry(t).or_default();
            e.0 += n;
            let room = self.max.saturating_sub(e.1.len());
            e.1.extend(ws.into_iter().take(room));
        }
    }

    /// Every type found.
    pub(crate) fn types(&self) -> Vec<AnomalyType> {
        self.found.keys().copied().collect()
    }
}

/// The parts of a report decided from what was found.
pub(crate) struct Assembled {
    pub verdict: TxnVerdict,
    pub types: Vec<AnomalyType>,
    pub anomalies: BTreeMap<AnomalyType, Vec<Witness>>,
    pub counts: BTreeMap<AnomalyType, usize>,
    pub not: Vec<String>,
    pub also_not: Vec<String>,
    pub unknown_reason: Option<String>,
}

/// Turn what was found into a report: keep the reportable types, drop `*-cycle-exists` ones
/// that a named anomaly already explains, and decide the verdict as Elle does.
pub(crate) fn assemble(
    mut c: Collector,
    prohibited: &std::collections::BTreeSet<AnomalyType>,
    unknown_reason: Option<String>,
) -> Assembled {
    let all = c.types();
    let named: Vec<AnomalyType> = all
        .iter()
        .copied()
        .filter(|a| !a.name().ends_with("-cycle-exists"))
        .collect();
    let ruled_out = lattice::impossible_models(&named);
    c.found.retain(|a, (_, ws)| match ws.first() {
        Some(Witness::CycleExists { not, .. }) if a.name().ends_with("-cycle-exists") => {
            !ruled_out.contains(not)
        }
        _ => true,
    });
    let reportable = |a: &AnomalyType| prohibited.contains(a) || lattice::is_unknown_type(*a);
    let bad = c.found.keys().any(|a| prohibited.contains(a));
    let mut anomalies = BTreeMap::new();
    let mut counts = BTreeMap::new();
    for (a, (n, ws)) in c.found {
        if reportable(&a) {
            anomalies.insert(a, ws);
            counts.insert(a, n);
        }
    }
    let types: Vec<AnomalyType> = anomalies.keys().copied().collect();
    let verdict = if bad {
        TxnVerdict::Invalid
    } else if !types.is_empty() || unknown_reason.is_some() {
        TxnVerdict::Unknown
    } else {
        TxnVerdict::Valid
    };
    let (not, also_not) = if types.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        lattice::boundary(&all)
    };
    Assembled {
        verdict,
        types,
        anomalies,
        counts,
        not,
        also_not,
        unknown_reason,
    }
}
