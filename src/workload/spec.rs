//! The workload file: op mix, keys and their distribution, value range and the checker model;
//! for transaction workloads (`model = "list-append"` or `"rw-register"`) also the transaction
//! length, key rotation and the consistency models to check.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::rate::Arrivals;
use crate::checker::ModelKind;

/// A workload file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The file could not be read.
    #[error("cannot read workload file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for a workload.
    #[error("workload file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong (from the TOML parser, names the field).
        message: String,
    },
    /// A field has a value that cannot work.
    #[error("workload file {path}: field `{field}`: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// The field.
        field: &'static str,
        /// What is wrong and what to write instead.
        message: String,
    },
}

/// How keys are picked for each op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum KeyDistribution {
    /// Every key equally likely.
    #[default]
    Uniform,
    /// Key `i` (0-based) has weight `1 / (i + 1)^zipf_exponent`: a few hot keys.
    Zipf,
    /// `hot_share` of the ops go to the first `hot_keys` keys (uniformly), the rest to the other
    /// keys (uniformly): the hot keys keep concurrent ops colliding, while a write lost or served
    /// stale on a cold key stays visible until the key is written again, seconds later.
    #[serde(rename = "hot-cold")]
    HotCold,
}

/// What a workload generates, decided by its `model`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WorkloadKind {
    /// Single-key reads, writes and cas, checked for linearizability against this model.
    Single(ModelKind),
    /// Transactions of micro-ops, checked for isolation.
    Txn(TxnShape),
}

/// The micro-ops a transaction workload writes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnKind {
    /// `["append", k, v]` to lists; reads return the list.
    ListAppend,
    /// `["w", k, v]` to registers; reads return the value.
    RwRegister,
}

impl TxnKind {
    /// The `model` name in workload files (and the checker's data model of the same name).
    pub fn name(self) -> &'static str {
        match self {
            TxnKind::ListAppend => "list-append",
            TxnKind::RwRegister => "rw-register",
        }
    }

    /// The transaction checker's data model of the same name.
    pub fn checker_model(self) -> crate::checker::txn::TxnModel {
        match self {
            TxnKind::ListAppend => crate::checker::txn::TxnModel::ListAppend,
            TxnKind::RwRegister => crate::checker::txn::TxnModel::RwRegister,
        }
    }
}

/// How transactions are generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnShape {
    /// Append or write.
    pub kind: TxnKind,
    /// Micro-ops per transaction, inclusive; `1 <= min <= max`.
    pub length: [u32; 2],
    /// Writes a key takes before a fresh key replaces it (Jepsen's `max-writes-per-key`).
    pub max_writes_per_key: u32,
}

/// Default micro-ops per transaction.
pub const DEFAULT_TXN_LENGTH: [u32; 2] = [1, 4];
/// Default writes per key before it is replaced.
pub const DEFAULT_MAX_WRITES_PER_KEY: u32 = 32;

/// Relative weights of the op kinds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    /// Weight of reads.
    #[serde(default)]
    pub read: u32,
    /// Weight of writes (appends in list-append).
    #[serde(default)]
    pub write: u32,
    /// Weight of compare-and-sets.
    #[serde(default)]
    pub cas: u32,
}

/// A workload definition (`workloads/*.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// Name, used as the default test name.
    pub name: String,
    /// Checker model name (`register`, `cas-register`, `kv`; `list-append`, `rw-register` for
    /// transactions).
    pub model: String,
    /// Number of keys (`k0`, `k1`, ...). Each key is an independent register. For transactions:
    /// the keys in use at once (retired keys are replaced by fresh ones).
    #[serde(default = "one")]
    pub keys: u32,
    /// How keys are chosen.
    #[serde(default)]
    pub key_distribution: KeyDistribution,
    /// Exponent of the zipf distribution.
    #[serde(default = "one_f")]
    pub zipf_exponent: f64,
    /// `hot-cold`: how many keys are hot (`k0` .. `k{hot_keys-1}`). Invariant once validated:
    /// set exactly when the distribution is `hot-cold`, and `1 <= hot_keys < keys`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hot_keys: Option<u32>,
    /// `hot-cold`: the share of ops that go to the hot keys, in (0, 1]. Invariant once
    /// validated: set exactly when `hot_keys` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hot_share: Option<f64>,
    /// Inclusive range of values written and compared (default `[0, 4]`; on the hot keys of
    /// `hot-cold`). Not for transactions,
    /// whose values are unique per key (1, 2, 3, ... in the order generated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<[i64; 2]>,
    /// `hot-cold`: inclusive range of values on the cold keys (default: the `values` range). A wide range
    /// tells every write apart, so a lost one cannot hide behind an equal value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_values: Option<[i64; 2]>,
    /// How op starts are spread over time (`even` or `poisson`).
    #[serde(default, skip_serializing_if = "is_even")]
    pub arrivals: Arrivals,
    /// Op mix weights; for transactions, of read and write micro-ops.
    pub mix: Mix,
    /// Transactions: micro-ops per transaction, inclusive (default `[1, 4]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txn_length: Option<[u32; 2]>,
    /// Transactions: writes a key takes before a fresh key replaces it (default 32), so reads
    /// stay short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_writes_per_key: Option<u32>,
    /// Transactions: consistency models the history must satisfy (default
    /// `["strict-serializable"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency_models: Option<Vec<String>>,
}

fn is_even(a: &Arrivals) -> bool {
    *a == Arrivals::Even
}

fn one() -> u32 {
    1
}
fn one_f() -> f64 {
    1.0
}
/// Values single-key workloads write when the file does not say.
const DEFAULT_VALUES: [i64; 2] = [0, 4];

impl WorkloadSpec {
    /// Read and validate a workload file.
    pub fn load(path: &Path) -> Result<Self, WorkloadError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| WorkloadError::Read {
            path: p.clone(),
            source,
        })?;
        Self::parse(&text, &p)
    }

    /// Parse and validate workload TOML; `path` names the source in errors.
    pub fn parse(text: &str, path: &str) -> Result<Self, WorkloadError> {
        let spec: WorkloadSpec = toml::from_str(text).map_err(|e| WorkloadError::Parse {
            path: path.to_string(),
            message: e.message().to_string(),
        })?;
        spec.validate(path)?;
        Ok(spec)
    }

    fn validate(&self, path: &str) -> Result<(), WorkloadError> {
        let bad = |field, message: String| WorkloadError::Invalid {
            path: path.to_string(),
            field,
            message,
        };
        let kind = self.kind().map_err(|m| bad("model", m))?;
        if self.keys == 0 || self.keys > 100_000 {
            return Err(bad(
                "keys",
                format!("{} is out of range 1..=100000", self.keys),
            ));
        }
        if !(self.zipf_exponent.is_finite() && self.zipf_exponent > 0.0) {
            return Err(bad("zipf_exponent", "must be a positive number".into()));
        }
        self.validate_hot_cold(path)?;
        let Mix { read, write, cas } = self.mix;
        if read + write + cas == 0 {
            return Err(bad(
                "mix",
                "at least one of read, write, cas must be > 0".into(),
            ));
        }
        match kind {
            WorkloadKind::Single(model) => {
                let txn_only = [
                    ("txn_length", self.txn_length.is_some()),
                    ("max_writes_per_key", self.max_writes_per_key.is_some()),
                    ("consistency_models", self.consistency_models.is_some()),
                ];
                if let Some((field, _)) = txn_only.iter().find(|f| f.1) {
                    return Err(bad(
                        field,
                        "applies to transaction workloads only (model = \"list-append\" or \"rw-register\")".into(),
                    ));
                }
                let [lo, hi] = self.value_range();
                if lo > hi {
                    return Err(bad("values", "write [min, max] with min <= max".into()));
                }
                if cas > 0 && model == ModelKind::Register {
                    return Err(bad(
                        "mix.cas",
                        "the register model has no cas; set cas = 0 or model = \"cas-register\""
                            .into(),
                    ));
                }
            }
            WorkloadKind::Txn(shape) => {
                if self.values.is_some() {
                    return Err(bad(
                        "values",
                        "transactions write unique values per key (1, 2, 3, ...); remove the field"
                            .into(),
                    ));
                }
                if cas > 0 {
                    return Err(bad(
                        "mix.cas",
                        "transactions have no cas micro-op; set cas = 0".into(),
                    ));
                }
                let [lo, hi] = shape.length;
                if lo == 0 || lo > hi || hi > 1000 {
                    return Err(bad(
                        "txn_length",
                        format!("[{lo}, {hi}]: write [min, max] with 1 <= min <= max <= 1000"),
                    ));
                }
                if shape.max_writes_per_key == 0 {
                    return Err(bad("max_writes_per_key", "must be at least 1".into()));
                }
                if self.consistency_models.as_ref().is_some_and(Vec::is_empty) {
                    return Err(bad(
                        "consistency_models",
                        "name at least one, e.g. [\"strict-serializable\"]".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// What this workload generates (from `model`); the error lists the known models.
    pub fn kind(&self) -> Result<WorkloadKind, String> {
        let txn = |kind| {
            WorkloadKind::Txn(TxnShape {
                kind,
                length: self.txn_length.unwrap_or(DEFAULT_TXN_LENGTH),
                max_writes_per_key: self
                    .max_writes_per_key
                    .unwrap_or(DEFAULT_MAX_WRITES_PER_KEY),
            })
        };
        match self.model.as_str() {
            "list-append" => return Ok(txn(TxnKind::ListAppend)),
            "rw-register" => return Ok(txn(TxnKind::RwRegister)),
            _ => {}
        }
        let model: ModelKind = self.model.parse()?;
        if !matches!(
            model,
            ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv
        ) {
            return Err(format!(
                "{:?} needs ops this workload cannot generate; use register, cas-register, kv, list-append or rw-register",
                self.model
            ));
        }
        Ok(WorkloadKind::Single(model))
    }

    /// The inclusive range single-key writes draw values from.
    pub fn value_range(&self) -> [i64; 2] {
        self.values.unwrap_or(DEFAULT_VALUES)
    }

    fn validate_hot_cold(&self, path: &str) -> Result<(), WorkloadError> {
        let bad = |field, message: String| WorkloadError::Invalid {
            path: path.to_string(),
            field,
            message,
        };
        if self.key_distribution != KeyDistribution::HotCold {
            for (field, set) in [
                ("hot_keys", self.hot_keys.is_some()),
                ("hot_share", self.hot_share.is_some()),
                ("cold_values", self.cold_values.is_some()),
            ] {
                if set {
                    return Err(bad(
                        field,
                        "only applies to key_distribution = \"hot-cold\"".into(),
                    ));
                }
            }
            return Ok(());
        }
        let (Some(hot), Some(share)) = (self.hot_keys, self.hot_share) else {
            let field = if self.hot_keys.is_none() {
                "hot_keys"
            } else {
                "hot_share"
            };
            return Err(bad(
                field,
                "key_distribution = \"hot-cold\" needs hot_keys (how many keys are hot) and hot_share (the share of ops they get, e.g. 0.5)".into(),
            ));
        };
        if hot == 0 || hot >= self.keys {
            return Err(bad(
                "hot_keys",
                format!(
                    "{hot} must be at least 1 and fewer than keys ({}), so that cold keys remain",
                    self.keys
                ),
            ));
        }
        if !(share.is_finite() && share > 0.0 && share <= 1.0) {
            return Err(bad(
                "hot_share",
                format!("{share} must be a share of the ops in (0, 1], e.g. 0.5"),
            ));
        }
        if let Some([lo, hi]) = self.cold_values {
            if lo > hi {
                return Err(bad(
                    "cold_values",
                    "write [min, max] with min <= max".into(),
                ));
            }
        }
        Ok(())
    }

    /// Every key this workload may touch, in order.
    pub fn key_names(&self) -> Vec<String> {
        (0..self.keys).map(|i| format!("k{i}")).collect()
    }
}

#[cfg(test)]
mod tests;
