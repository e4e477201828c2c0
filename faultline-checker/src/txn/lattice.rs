//! Consistency models and anomalies, Elle's lattice: which anomalies a set of models forbids,
//! which models a set of observed anomalies rules out, and the weakest of those (the `not` of a
//! report). Names are exactly Elle's; the tables live in `lattice_data.rs`.

use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::sync::OnceLock;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::lattice_data::{Dag, CANONICAL, FRIENDLY, IMPLIED, MODELS, PROSCRIBED, UNKNOWN_TYPES};

/// A consistency model from Elle's lattice, stored under its canonical (Adya) name.
///
/// Parse with [`str::parse`] from a friendly name (`serializable`, `snapshot-isolation`,
/// `strict-serializable`, its alias `strong-serializable`, ...) or a canonical one (`PL-3`);
/// displays and serializes as the friendly name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConsistencyModel(&'static str);

/// An anomaly name from Elle's lattice (`G0`, `G1c`, `G-single-item-realtime`, `internal`,
/// `lost-update`, ...). Groups are anomalies too: `G1` is implied by `G1a`, `G1b` and `G1c`, and
/// `G2` by every anti-dependency cycle, so asking for `G1` or `G2` covers the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AnomalyType(&'static str);

/// The models `faultline check` lists in its help and error messages, weakest first.
pub const MAIN_MODELS: [&str; 10] = [
    "read-uncommitted",
    "read-committed",
    "repeatable-read",
    "snapshot-isolation",
    "serializable",
    "strong-session-snapshot-isolation",
    "strong-snapshot-isolation",
    "strong-session-serializable",
    "strict-serializable",
    "strong-serializable",
];

struct Tables {
    implied: Graph,
    models: Graph,
    proscribed: Graph,
    anomalies: FxHashSet<&'static str>,
}

/// Forward and backward adjacency of one DAG.
#[derive(Default)]
struct Graph {
    out: FxHashMap<&'static str, Vec<&'static str>>,
    into: FxHashMap<&'static str, Vec<&'static str>>,
}

impl Graph {
    fn new(dag: Dag) -> Self {
        let mut g = Graph::default();
        for &(a, bs) in dag {
            for &b in bs {
                g.out.entry(a).or_default().push(b);
                g.into.entry(b).or_default().push(a);
            }
        }
        g
    }

    /// Every vertex reachable from `start` (included) along `out` or `into` edges.
    fn reach(
        &self,
        start: impl IntoIterator<Item = &'static str>,
        forward: bool,
    ) -> BTreeSet<&'static str> {
        let adj = if forward { &self.out } else { &self.into };
        let mut seen: BTreeSet<&'static str> = BTreeSet::new();
        let mut queue: VecDeque<&'static str> = start.into_iter().collect();
        while let Some(v) = queue.pop_front() {
            if seen.insert(v) {
                queue.extend(adj.get(v).into_iter().flatten().copied());
            }
        }
        seen
    }
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut anomalies: FxHashSet<&'static str> = UNKNOWN_TYPES.iter().copied().collect();
        for &(a, bs) in IMPLIED {
            anomalies.insert(a);
            anomalies.extend(bs.iter().copied());
        }
        for &(_, bs) in PROSCRIBED {
            anomalies.extend(bs.iter().copied());
        }
        Tables {
            implied: Graph::new(IMPLIED),
            models: Graph::new(MODELS),
            proscribed: Graph::new(PROSCRIBED),
            anomalies,
        }
    })
}

fn canonical(name: &str) -> Option<&'static str> {
    if let Some(&(_, c)) = CANONICAL.iter().find(|(f, _)| *f == name) {
        return Some(c);
    }
    let t = tables();
    t.models
        .out
        .keys()
        .chain(t.models.into.keys())
        .chain(t.proscribed.out.keys())
        .find(|m| **m == name)
        .copied()
}

impl ConsistencyModel {
    /// The canonical (Adya) name, e.g. `PL-3`.
    pub fn canonical(self) -> &'static str {
        self.0
    }

    /// The friendly name, e.g. `serializable`.
    pub fn name(self) -> &'static str {
        FRIENDLY
            .iter()
            .find(|(c, _)| *c == self.0)
            .map(|(_, f)| *f)
            .unwrap_or(self.0)
    }

    /// Strict serializability, the default model to check.
    pub fn strict_serializable() -> Self {
        ConsistencyModel("PL-SS")
    }

    pub(crate) fn from_canonical(name: &'static str) -> Self {
        ConsistencyModel(name)
    }
}

impl std::str::FromStr for ConsistencyModel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        canonical(s.trim()).map(ConsistencyModel).ok_or_else(|| {
            format!(
                "unknown consistency model {s:?}; known models include {}",
                MAIN_MODELS.join(", ")
            )
        })
    }
}

impl fmt::Display for ConsistencyModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for ConsistencyModel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ConsistencyModel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl AnomalyType {
    /// The anomaly's name, exactly as Elle spells it.
    pub fn name(self) -> &'static str {
        self.0
    }

    /// A name known to be in the lattice (crate-internal constants).
    pub(crate) fn known(name: &'static str) -> Self {
        debug_assert!(
            tables().anomalies.contains(name),
            "{name} is not in the lattice"
        );
        AnomalyType(name)
    }
}

impl std::str::FromStr for AnomalyType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        tables()
            .anomalies
            .get(s)
            .map(|n| AnomalyType(n))
            .ok_or_else(|| {
                format!(
                    "unknown anomaly {s:?}; use Elle's names, e.g. G0, G1a, G1b, G1c, G1 (the three), \
                     G-single-item, G-nonadjacent-item, G2-item, G2 (every anti-dependency cycle), \
                     their -process and -realtime variants, internal, lost-update, \
                     incompatible-order, duplicate-elements, dirty-update, future-read, \
                     cyclic-versions"
                )
            })
    }
}

impl fmt::Display for AnomalyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for AnomalyType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for AnomalyType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Every anomaly that implies one of `anomalies` (those included): asking for `G1` asks for
/// `G1a`, `G1b`, `G1c`, `G0`, ...
pub fn anomalies_implying(anomalies: &[AnomalyType]) -> BTreeSet<AnomalyType> {
    let t = tables();
    t.implied
        .reach(anomalies.iter().map(|a| a.0), false)
        .into_iter()
        .map(AnomalyType)
        .collect()
}

/// Every anomaly implied by one of `anomalies` (those included).
pub fn implied_anomalies(anomalies: &[AnomalyType]) -> BTreeSet<AnomalyType> {
    let t = tables();
    t.implied
        .reach(anomalies.iter().map(|a| a.0), true)
        .into_iter()
        .map(AnomalyType)
        .collect()
}

/// The anomalies that cannot be present if all of `models` hold.
pub fn prohibited_by(models: &[ConsistencyModel]) -> BTreeSet<AnomalyType> {
    let t = tables();
    let implied = t.models.reach(models.iter().map(|m| m.0), true);
    let direct: Vec<AnomalyType> = implied
        .iter()
        .flat_map(|m| t.proscribed.out.get(m).into_iter().flatten())
        .map(|a| AnomalyType(a))
        .collect();
    anomalies_implying(&direct)
}

/// The models that cannot hold given that `anomalies` were observed.
pub fn impossible_models(anomalies: &[AnomalyType]) -> BTreeSet<ConsistencyModel> {
    let t = tables();
    let direct: Vec<&'static str> = implied_anomalies(anomalies)
        .iter()
        .flat_map(|a| t.proscribed.into.get(a.0).into_iter().flatten())
        .copied()
        .collect();
    t.models
        .reach(direct, false)
        .into_iter()
        .map(ConsistencyModel)
        .collect()
}

/// Models a history violating `impossible` cannot satisfy, split as a report shows them: the
/// weakest ones (`not`) and every stronger one (`also_not`), friendly names, sorted.
pub fn boundary(anomalies: &[AnomalyType]) -> (Vec<String>, Vec<String>) {
    let t = tables();
    let impossible = impossible_models(anomalies);
    let weakest: BTreeSet<&'static str> = impossible
        .iter()
        .filter(|m| {
            // Drop m when it implies another impossible model: that one is weaker.
            let below = t.models.reach([m.0], true);
            !impossible.iter().any(|o| o.0 != m.0 && below.contains(o.0))
        })
        .map(|m| m.0)
        .collect();
    let names = |it: &mut dyn Iterator<Item = &'static str>| -> Vec<String> {
        let set: BTreeSet<&'static str> = it.map(|c| ConsistencyModel(c).name()).collect();
        set.into_iter().map(String::from).collect()
    };
    let not = names(&mut weakest.iter().copied());
    let also = names(
        &mut impossible
            .iter()
            .map(|m| m.0)
            .filter(|m| !weakest.contains(m)),
    );
    (not, also)
}

/// `model` and every model that implies it: all impossible once `model` is.
pub(crate) fn models_implying(model: ConsistencyModel) -> BTreeSet<ConsistencyModel> {
    tables()
        .models
        .reach([model.0], false)
        .into_iter()
        .map(ConsistencyModel)
        .collect()
}

/// True for the anomaly types that make a verdict `unknown` when nothing forbidden is found.
pub fn is_unknown_type(a: AnomalyType) -> bool {
    UNKNOWN_TYPES.contains(&a.0)
}

#[cfg(test)]
#[path = "lattice_tests.rs"]
mod tests;
