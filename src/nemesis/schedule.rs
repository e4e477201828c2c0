//! Fault schedules (`nemesis/*.toml`): which faults, how long to wait between them and how long
//! each lasts. Parsing rejects unknown fields; errors name the file and the field.
//!
//! ```toml
//! name = "mixed"
//! faults = ["kill", "pause", "partition-halves", "partition-leader", "partition-ring", "bridge"]
//! interval = "5s"      # quiet time before each fault
//! duration = "3s"      # how long each fault lasts before it is healed
//! targets = "one"      # kill / pause: one | minority | majority | all (default one)
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// One kind of fault a schedule can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// SIGKILL some nodes; restart them when the fault ends.
    Kill,
    /// SIGSTOP some nodes; SIGCONT them when the fault ends.
    Pause,
    /// SIGKILL the current leader (a random node if unknown); restart it when the fault ends.
    KillLeader,
    /// SIGSTOP the current leader (a random node if unknown); SIGCONT it when the fault ends.
    /// The classic way to make an old leader come back believing it still leads.
    PauseLeader,
    /// Split the nodes into a random minority and majority.
    PartitionHalves,
    /// Isolate one random node from all others.
    PartitionOne,
    /// Isolate the current leader (asked from the `LeaderProbe`; a random node if unknown).
    PartitionLeader,
    /// Majority ring: every node sees a majority, but no two nodes see the same one.
    PartitionRing,
    /// Two halves joined by one bridge node that sees both.
    Bridge,
    /// Depose the leader while clients write to it, let a majority commit other entries at the
    /// same indices, heal, then make the deposed leader win again (see `nemesis::sequences`).
    ReelectDeposed,
    /// Kill the leader, then kill and restart the other nodes one by one during the election
    /// that follows (see `nemesis::sequences`).
    ElectionFlap,
    /// Steer one election so that a majority votes, restarts, and is asked again in the same term
    /// by a second candidate (see `nemesis::vote_twice`; needs a node without pre-vote).
    VoteTwice,
    /// Power loss: SIGKILL some nodes, discard every write their lazy filesystem holds that was
    /// not fsynced, restart them when the fault ends (see `disk`; needs root and FUSE).
    LoseUnfsynced,
    /// Like [`FaultKind::LoseUnfsynced`], but a prefix of the last unsynced write reaches the disk.
    TornWrite,
    /// Writes and fsyncs on some nodes' data directories fail with EIO while the fault lasts.
    DiskError,
    /// Writes on some nodes' data directories fail with ENOSPC while the fault lasts.
    DiskFull,
}

impl FaultKind {
    /// Every fault with its schedule name.
    pub const ALL: [(FaultKind, &'static str); 16] = [
        (FaultKind::Kill, "kill"),
        (FaultKind::Pause, "pause"),
        (FaultKind::KillLeader, "kill-leader"),
        (FaultKind::PauseLeader, "pause-leader"),
        (FaultKind::PartitionHalves, "partition-halves"),
        (FaultKind::PartitionOne, "partition-one"),
        (FaultKind::PartitionLeader, "partition-leader"),
        (FaultKind::PartitionRing, "partition-ring"),
        (FaultKind::Bridge, "bridge"),
        (FaultKind::ReelectDeposed, "reelect-deposed"),
        (FaultKind::ElectionFlap, "election-flap"),
        (FaultKind::VoteTwice, "vote-twice"),
        (FaultKind::LoseUnfsynced, "lose-unfsynced"),
        (FaultKind::TornWrite, "torn-write"),
        (FaultKind::DiskError, "disk-error"),
        (FaultKind::DiskFull, "disk-full"),
    ];

    /// Whether this fault acts through the lazy filesystem (mounted over every node's data
    /// directory; needs [`crate::disk::requirements`]).
    pub fn needs_lazyfs(self) -> bool {
        matches!(
            self,
            FaultKind::LoseUnfsynced
                | FaultKind::TornWrite
                | FaultKind::DiskError
                | FaultKind::DiskFull
        )
    }

    /// The name used in schedule files.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, n)| *n)
            .unwrap_or("?")
    }

    /// Parse a schedule name.
    pub fn from_name(s: &str) -> Option<FaultKind> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(k, _)| *k)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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

/// A validated fault schedule. Invariant: when `faults` is non-empty, `interval` and `duration`
/// are non-zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NemesisSchedule {
    /// File it came from.
    pub source: PathBuf,
    /// Schedule name (`none`, `kill`, `mixed`, ...).
    pub name: String,
    /// Faults to pick from, uniformly at random (seeded), one at a time. Empty = no faults.
    pub faults: Vec<FaultKind>,
    /// Quiet time before each fault.
    pub interval: Duration,
    /// How long each fault lasts.
    pub duration: Duration,
    /// How many nodes kill and pause hit.
    pub targets: Targets,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: String,
    #[serde(default)]
    faults: Vec<String>,
    #[serde(default = "default_interval")]
    interval: String,
    #[serde(default = "default_duration")]
    duration: String,
    #[serde(default = "default_targets")]
    targets: Targets,
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

    /// Check that this host can inject every fault of the schedule; the error names the fault,
    /// the schedule file and what is missing.
    pub fn check_requirements(&self) -> Result<(), crate::disk::Missing> {
        if let Some(f) = self.faults.iter().find(|f| f.needs_lazyfs()) {
            crate::disk::requirements().map_err(|m| {
                crate::disk::Missing(format!(
                    "{}: fault \"{f}\" {} (it mounts a FUSE lazy filesystem over each node's data directory); run as root with fuse3 installed, or leave the disk faults out",
                    self.source.display(),
                    m.0
                ))
            })?;
        }
        Ok(())
    }

    /// A schedule that injects nothing.
    pub fn none() -> NemesisSchedule {
        NemesisSchedule {
            source: PathBuf::from("<none>"),
            name: "none".into(),
            faults: Vec::new(),
            interval: Duration::from_secs(5),
            duration: Duration::from_secs(3),
            targets: Targets::One,
        }
    }

    /// The schedule as TOML, for a rerunnable `test.toml`; parses back to an equal schedule.
    pub fn to_toml(&self) -> String {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            name: &'a str,
            faults: Vec<&'static str>,
            interval: String,
            duration: String,
            targets: &'static str,
        }
        let out = Out {
            name: &self.name,
            faults: self.faults.iter().map(|f| f.name()).collect(),
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
        let mut faults = Vec::new();
        for (i, f) in raw.faults.iter().enumerate() {
            let kind = FaultKind::from_name(f).ok_or_else(|| {
                let known: Vec<&str> = FaultKind::ALL.iter().map(|(_, n)| *n).collect();
                field(
                    &format!("faults[{i}]"),
                    format!("unknown fault {f:?}; known: {}", known.join(", ")),
                )
            })?;
            faults.push(kind);
        }
        let dur = |name: &str, s: &str| {
            humantime::parse_duration(s).map_err(|e| {
                field(
                    name,
                    format!("{s:?} is not a duration ({e}); write e.g. \"5s\""),
                )
            })
        };
        let interval = dur("interval", &raw.interval)?;
        let duration = dur("duration", &raw.duration)?;
        if !faults.is_empty() {
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
            interval,
            duration,
            targets: raw.targets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Result<NemesisSchedule, ScheduleError> {
        NemesisSchedule::parse(t, Path::new("nemesis/x.toml"))
    }

    #[test]
    fn parses_a_schedule() {
        let s = parse(
            "name='m'\nfaults=['kill','bridge']\ninterval='2s'\nduration='500ms'\ntargets='minority'\n",
        )
        .unwrap();
        assert_eq!(s.faults, [FaultKind::Kill, FaultKind::Bridge]);
        assert_eq!(s.interval, Duration::from_secs(2));
        assert_eq!(s.duration, Duration::from_millis(500));
        assert_eq!(s.targets.count(5), 2);
    }

    #[test]
    fn errors_name_file_and_field() {
        let e = parse("name='m'\nfaults=['kill','explode']\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("nemesis/x.toml: field \"faults[1]\": unknown fault \"explode\""),
            "{e}"
        );
        let e = parse("name='m'\nfaults=['kill']\ninterval='often'\n").unwrap_err();
        assert!(e.to_string().contains("field \"interval\""), "{e}");
        let e = parse("name='m'\nfaults=['kill']\nduration='0s'\n").unwrap_err();
        assert!(e.to_string().contains("field \"duration\""), "{e}");
        let e = parse("name='m'\nfrequency=3\n").unwrap_err();
        assert!(e.to_string().contains("frequency"), "{e}");
        assert!(e.to_string().starts_with("nemesis/x.toml: "), "{e}");
    }

    #[test]
    fn to_toml_round_trips() {
        let s = parse(
            "name='m'\nfaults=['pause','partition-ring']\ninterval='1s 500ms'\ntargets='all'\n",
        )
        .unwrap();
        assert_eq!(parse(&s.to_toml()).unwrap(), s);
    }

    #[test]
    fn target_counts() {
        assert_eq!(Targets::One.count(5), 1);
        assert_eq!(Targets::Minority.count(3), 1);
        assert_eq!(Targets::Majority.count(5), 3);
        assert_eq!(Targets::All.count(3), 3);
    }
}
