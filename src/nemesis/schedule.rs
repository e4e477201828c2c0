//! Fault schedules (`nemesis/*.toml`): which faults, how long to wait between them and how long
//! each lasts. Parsing rejects unknown fields; errors name the file and the field.
//!
//! ```toml
//! name = "mixed"
//! faults = ["kill", "pause", "partition-halves", "partition-leader", "partition-ring", "bridge"]
//! optional_faults = ["clock-skew", "loss"]  # used only when the run can do them
//! order = "random"     # or "families": every fault family once per round (see `families`)
//! overlap = 1          # how many faults may be active at once (never two on one resource)
//! interval = "5s"      # quiet time before each fault
//! duration = "3s"      # how long each fault lasts before it is healed
//! targets = "one"      # kill / pause / clock / link: one | minority | majority | all
//! [clock]              # optional, see `params`
//! [link]               # optional, see `params`
//! ```
//!
//! [`NemesisSchedule::restrict`] checks a schedule against what the run can do: a fault in
//! `faults` that the run cannot do is an error; one in `optional_faults` is left out, and the
//! caller records which and why.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use super::kind::FaultKind;
use super::params::{ClockParams, LinkParams, RawClock, RawLink};
use super::requirements::{Capabilities, Missing};

/// How many nodes a kill or pause hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Targets {
    /// One random node.
    One,
    /// A random minority (at least one node).
    Minority,
    /// A random majority.
    Majority,
    /// Every node.
    All,
}

impl Targets {
    /// How many of `n` nodes this selects.
    pub fn count(self, n: usize) -> usize {
        match self {
            Targets::One => 1.min(n),
            Targets::Minority => ((n.saturating_sub(1)) / 2).max(1).min(n),
            Targets::Majority => n / 2 + 1,
            Targets::All => n,
        }
        .min(n)
    }
}

/// In which order a schedule's faults are injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Each fault drawn uniformly at random (seeded) from the schedule's faults.
    #[default]
    Random,
    /// Rounds that hit every fault family once, in a seeded order, each family taking its
    /// faults in the order listed; when the run has a time limit, faults are shortened so that a
    /// round fits in it ([`super::families::FamilyCycle`]).
    Families,
}

/// Most faults a schedule may keep active at once.
pub const MAX_OVERLAP: u32 = 4;

/// A validated fault schedule. Invariants: when `faults` is non-empty, `interval` and `duration`
/// are non-zero; `1 <= overlap <= MAX_OVERLAP`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NemesisSchedule {
    /// File it came from.
    pub source: PathBuf,
    /// Schedule name (`none`, `kill`, `mixed`, ...).
    pub name: String,
    /// Faults to pick from, uniformly at random (seeded), one at a time. Empty = no faults.
    pub faults: Vec<FaultKind>,
    /// Faults added to `faults` only when the run meets their requirements
    /// ([`NemesisSchedule::restrict`]); the others are left out, with the reason recorded.
    pub optional_faults: Vec<FaultKind>,
    /// Quiet time before each fault.
    pub interval: Duration,
    /// How long each fault lasts.
    pub duration: Duration,
    /// How many nodes kill, pause, clock and link faults hit.
    pub targets: Targets,
    /// How clock faults move clocks (`[clock]`).
    pub clock: ClockParams,
    /// How link faults degrade links (`[link]`).
    pub link: LinkParams,
    /// In which order faults are injected.
    pub order: Order,
    /// How many faults may be active at once: a fault starts `interval` after the previous one
    /// started, once none of the active faults holds what it needs (processes, links, clocks,
    /// network); multi-step and whole-cluster faults always run alone. 1 = one at a time.
    pub overlap: u32,
}

/// A schedule cut down to what the run can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restricted {
    /// The schedule to run: `faults` plus the usable optional faults; no optional faults left.
    pub schedule: NemesisSchedule,
    /// Optional faults left out, each with what is missing.
    pub left_out: Vec<(FaultKind, Missing)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: String,
    #[serde(default)]
    faults: Vec<String>,
    #[serde(default)]
    optional_faults: Vec<String>,
    #[serde(default = "default_interval")]
    interval: String,
    #[serde(default = "default_duration")]
    duration: String,
    #[serde(default = "default_targets")]
    targets: Targets,
    #[serde(default)]
    clock: RawClock,
    #[serde(default)]
    link: RawLink,
    #[serde(default)]
    order: Order,
    #[serde(default = "one")]
    overlap: u32,
}

fn one() -> u32 {
    1
}

fn default_interval() -> String {
    "5s".into()
}
fn default_duration() -> String {
    "3s".into()
}
fn default_targets() -> Targets {
    Targets::One
}

/// Errors loading a schedule; each names the file and, where it applies, the field.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The file could not be read.
    #[error("{file}: cannot read nemesis schedule: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Bad TOML, unknown or missing fields, wrong types.
    #[error("{file}: {message}")]
    Toml {
        /// The file.
        file: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A field has an invalid value.
    #[error("{file}: field \"{field}\": {message}")]
    Field {
        /// The file.
        file: PathBuf,
        /// The field.
        field: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The schedule asks for a fault this run cannot do.
    #[error("{file}: fault \"{fault}\" {missing} (or remove it from `faults`; faults listed in `optional_faults` are left out instead)")]
    Unmet {
        /// The file.
        file: PathBuf,
        /// The fault.
        fault: FaultKind,
        /// What the run lacks.
        missing: Missing,
    },
}

impl NemesisSchedule {
    /// Read and validate a schedule file.
    pub fn load(path: &Path) -> Result<NemesisSchedule, ScheduleError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScheduleError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Whether any fault of this schedule needs the lazy filesystem.
    pub fn needs_lazyfs(&self) -> bool {
        self.faults.iter().any(|f| f.needs_lazyfs())
    }

    /// A schedule that injects nothing.
    pub fn none() -> NemesisSchedule {
        NemesisSchedule {
            source: PathBuf::from("<none>"),
            name: "none".into(),
            faults: Vec::new(),
            optional_faults: Vec::new(),
            interval: Duration::from_secs(5),
            duration: Duration::from_secs(3),
            targets: Targets::One,
            clock: ClockParams::default(),
            link: LinkParams::default(),
            order: Order::Random,
            overlap: 1,
        }
    }

    /// Every fault this schedule may inject (`faults`, then `optional_faults`).
    pub fn all_faults(&self) -> impl Iterator<Item = FaultKind> + '_ {
        self.faults.iter().chain(&self.optional_faults).copied()
    }

    /// Check the schedule against `caps`: a fault in `faults` whose requirements are not met is
    /// an error naming the fault and what is missing; one in `optional_faults` is added when
    /// they are met and left out (with the reason) when not.
    pub fn restrict(&self, caps: &Capabilities) -> Result<Restricted, ScheduleError> {
        let unmet = |k: FaultKind| k.requirements().iter().find_map(|r| r.check(caps).err());
        for &fault in &self.faults {
            if let Some(missing) = unmet(fault) {
                return Err(ScheduleError::Unmet {
                    file: self.source.clone(),
                    fault,
                    missing,
                });
            }
        }
        let mut schedule = self.clone();
        schedule.optional_faults.clear();
        let mut left_out = Vec::new();
        for &fault in &self.optional_faults {
            match unmet(fault) {
                Some(missing) => left_out.push((fault, missing)),
                None if !schedule.faults.contains(&fault) => schedule.faults.push(fault),
                None => {}
            }
        }
        Ok(Restricted { schedule, left_out })
    }

    /// The schedule as TOML, for a rerunnable `test.toml`; parses back to an equal schedule.
    pub fn to_toml(&self) -> String {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            name: &'a str,
            faults: Vec<&'static str>,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            optional_faults: Vec<&'static str>,
            interval: String,
            duration: String,
            targets: &'static str,
            #[serde(skip_serializing_if = "is_random")]
            order: Order,
            #[serde(skip_serializing_if = "is_one")]
            overlap: u32,
            #[serde(skip_serializing_if = "Option::is_none")]
            clock: Option<RawClock>,
            #[serde(skip_serializing_if = "Option::is_none")]
            link: Option<RawLink>,
        }
        fn is_random(o: &Order) -> bool {
            *o == Order::Random
        }
        fn is_one(n: &u32) -> bool {
            *n == 1
        }
        let out = Out {
            order: self.order,
            overlap: self.overlap,
            name: &self.name,
            faults: self.faults.iter().map(|f| f.name()).collect(),
            optional_faults: self.optional_faults.iter().map(|f| f.name()).collect(),
            clock: RawClock::of(&self.clock),
            link: RawLink::of(&self.link),
            interval: humantime::format_duration(self.interval).to_string(),
            duration: humantime::format_duration(self.duration).to_string(),
            targets: match self.targets {
                Targets::One => "one",
                Targets::Minority => "minority",
                Targets::Majority => "majority",
                Targets::All => "all",
            },
        };
        toml::to_string(&out).unwrap_or_default()
    }

    /// Parse and validate schedule text; `source` is named in errors.
    pub fn parse(text: &str, source: &Path) -> Result<NemesisSchedule, ScheduleError> {
        let file = source.to_path_buf();
        let raw: Raw = toml::from_str(text).map_err(|e| ScheduleError::Toml {
            file: file.clone(),
            message: e
                .to_string()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('|') && *l != "^")
                .collect::<Vec<_>>()
                .join(" "),
        })?;
        let field = |field: &str, message: String| ScheduleError::Field {
            file: file.clone(),
            field: field.into(),
            message,
        };
        if raw.name.is_empty()
            || !raw
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(field(
                "name",
                format!(
                    "{:?} must be non-empty and use only letters, digits, '-', '_' and '.' (it names result directories)",
                    raw.name
                ),
            ));
        }
        let kinds = |name: &str, list: &[String]| -> Result<Vec<FaultKind>, ScheduleError> {
            let mut out = Vec::new();
            for (i, f) in list.iter().enumerate() {
                let kind = FaultKind::from_name(f).ok_or_else(|| {
                    let known: Vec<&str> = FaultKind::ALL.iter().map(|(_, n)| *n).collect();
                    field(
                        &format!("{name}[{i}]"),
                        format!("unknown fault {f:?}; known: {}", known.join(", ")),
                    )
                })?;
                out.push(kind);
            }
            Ok(out)
        };
        let faults = kinds("faults", &raw.faults)?;
        let optional_faults = kinds("optional_faults", &raw.optional_faults)?;
        let clock = raw.clock.resolve().map_err(|(f, m)| field(&f, m))?;
        let link = raw.link.resolve().map_err(|(f, m)| field(&f, m))?;
        let dur = |name: &str, s: &str| {
            humantime::parse_duration(s).map_err(|e| {
                field(
                    name,
                    format!("{s:?} is not a duration ({e}); write e.g. \"5s\""),
                )
            })
        };
        if !(1..=MAX_OVERLAP).contains(&raw.overlap) {
            return Err(field(
                "overlap",
                format!(
                    "{} must be between 1 (one fault at a time) and {MAX_OVERLAP}",
                    raw.overlap
                ),
            ));
        }
        let interval = dur("interval", &raw.interval)?;
        let duration = dur("duration", &raw.duration)?;
        if !faults.is_empty() || !optional_faults.is_empty() {
            if interval.is_zero() {
                return Err(field("interval", "must be greater than zero".into()));
            }
            if duration.is_zero() {
                return Err(field("duration", "must be greater than zero".into()));
            }
        }
        Ok(NemesisSchedule {
            source: file,
            name: raw.name,
            faults,
            optional_faults,
            interval,
            duration,
            targets: raw.targets,
            clock,
            link,
            order: raw.order,
            overlap: raw.overlap,
        })
    }
}

#[cfg(test)]
mod tests;
