//! The workload file: op mix, keys and their distribution, value range and the checker model.

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

/// Relative weights of the op kinds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    /// Weight of reads.
    #[serde(default)]
    pub read: u32,
    /// Weight of writes.
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
    /// Checker model name (`register`, `cas-register`, `kv`).
    pub model: String,
    /// Number of keys (`k0`, `k1`, ...). Each key is an independent register.
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
    /// Inclusive range of values written and compared (on the hot keys of `hot-cold`).
    #[serde(default = "default_values")]
    pub values: [i64; 2],
    /// `hot-cold`: inclusive range of values on the cold keys (default: `values`). A wide range
    /// tells every write apart, so a lost one cannot hide behind an equal value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_values: Option<[i64; 2]>,
    /// How op starts are spread over time (`even` or `poisson`).
    #[serde(default, skip_serializing_if = "is_even")]
    pub arrivals: Arrivals,
    /// Op mix weights.
    pub mix: Mix,
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
fn default_values() -> [i64; 2] {
    [0, 4]
}

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
        let model = self.model_kind().map_err(|m| bad("model", m))?;
        if !matches!(
            model,
            ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv
        ) {
            return Err(bad(
                "model",
                format!(
                    "{:?} needs ops this workload cannot generate; use register, cas-register or kv",
                    self.model
                ),
            ));
        }
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
        if self.values[0] > self.values[1] {
            return Err(bad("values", "write [min, max] with min <= max".into()));
        }
        let Mix { read, write, cas } = self.mix;
        if read + write + cas == 0 {
            return Err(bad(
                "mix",
                "at least one of read, write, cas must be > 0".into(),
            ));
        }
        if cas > 0 && model == ModelKind::Register {
            return Err(bad(
                "mix.cas",
                "the register model has no cas; set cas = 0 or model = \"cas-register\"".into(),
            ));
        }
        Ok(())
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

    /// The checker model.
    pub fn model_kind(&self) -> Result<ModelKind, String> {
        self.model.parse()
    }

    /// Every key this workload may touch, in order.
    pub fn key_names(&self) -> Vec<String> {
        (0..self.keys).map(|i| format!("k{i}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_workloads_load() {
        for f in ["register", "cas-register", "kv", "contention"] {
            let path = format!("{}/workloads/{f}.toml", env!("CARGO_MANIFEST_DIR"));
            let spec = WorkloadSpec::load(Path::new(&path)).unwrap();
            assert_eq!(spec.name, f);
        }
    }

    #[test]
    fn errors_name_the_field() {
        let e = WorkloadSpec::parse("name='x'\nmodel='register'\n[mix]\ncas=1\n", "w.toml");
        assert!(e.unwrap_err().to_string().contains("mix.cas"));
        let e = WorkloadSpec::parse("name='x'\nmodel='nope'\n[mix]\nread=1\n", "w.toml");
        assert!(e.unwrap_err().to_string().contains("`model`"));
        let e = WorkloadSpec::parse("name='x'\nmodel='kv'\nkeyz=3\n[mix]\nread=1\n", "w.toml");
        assert!(e.unwrap_err().to_string().contains("keyz"));
        let e = WorkloadSpec::parse("name='x'\nmodel='kv'\n[mix]\nread=0\n", "w.toml");
        assert!(e.unwrap_err().to_string().contains("`mix`"));
    }

    #[test]
    fn hot_cold_fields_are_checked_and_named() {
        let parse = |extra: &str| {
            WorkloadSpec::parse(
                &format!("name='x'\nmodel='kv'\nkeys=10\n{extra}\n[mix]\nread=1\n"),
                "w.toml",
            )
        };
        let ok = parse(
            "key_distribution='hot-cold'\nhot_keys=2\nhot_share=0.5\ncold_values=[10,99]\narrivals='poisson'",
        )
        .unwrap();
        assert_eq!(ok.cold_values, Some([10, 99]));
        assert_eq!(ok.key_distribution, KeyDistribution::HotCold);
        assert_eq!((ok.hot_keys, ok.hot_share), (Some(2), Some(0.5)));
        for (extra, field) in [
            ("key_distribution='hot-cold'\nhot_share=0.5", "`hot_keys`"),
            ("key_distribution='hot-cold'\nhot_keys=2", "`hot_share`"),
            (
                "key_distribution='hot-cold'\nhot_keys=10\nhot_share=0.5",
                "`hot_keys`",
            ),
            (
                "key_distribution='hot-cold'\nhot_keys=0\nhot_share=0.5",
                "`hot_keys`",
            ),
            (
                "key_distribution='hot-cold'\nhot_keys=2\nhot_share=1.5",
                "`hot_share`",
            ),
            (
                "key_distribution='hot-cold'\nhot_keys=2\nhot_share=0",
                "`hot_share`",
            ),
            ("hot_keys=2", "`hot_keys`"),
            ("key_distribution='zipf'\nhot_share=0.2", "`hot_share`"),
            ("cold_values=[1,9]", "`cold_values`"),
            (
                "key_distribution='hot-cold'\nhot_keys=2\nhot_share=0.5\ncold_values=[9,1]",
                "`cold_values`",
            ),
        ] {
            let e = parse(extra).unwrap_err().to_string();
            assert!(e.contains(field), "{extra}: {e}");
            assert!(e.starts_with("workload file w.toml"), "{e}");
        }
        // The parsed spec renders back to TOML that parses to the same spec (test.toml).
        let again = WorkloadSpec::parse(&toml::to_string(&ok).unwrap(), "t").unwrap();
        assert_eq!(again, ok);
    }
}
