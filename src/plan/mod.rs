//! The validated, resolved test plan: flags + the cluster, workload and nemesis TOML files + the
//! seed. The one place defaults live and cross-field checks ("nodes must be odd", "--bug needs the
//! bundled node") are made. Does no I/O beyond reading those TOML files.
//!
//! - [`PlanInput`]: the raw flags, as `cli` parsed them (nothing below `cli` sees clap).
//! - [`Plan`]: the result, consumed by `runner`.
//! - [`bundled`]: the workload, nemesis and cluster files compiled into the binary, so `--workload
//!   kv` or a run outside the repository works.
//! - `rerun`: a stored run's `test.toml` read back (`faultline test --rerun RUN`).
//! - [`Series`]: `--test-count N` / `--keep-going`, the same plan with a fresh seed per run.

mod bundled;
mod check_plan;
mod input;
mod rerun;
mod series;
mod toml_out;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cluster::{ClientKind, ClusterSpec, SpecError};
use crate::host::config::{HostsError, HostsFile};
use crate::nemesis::{NemesisSchedule, ScheduleError};
use crate::workload::{WorkloadError, WorkloadSpec};

pub use bundled::resolve_file;
pub use check_plan::{CheckPlan, DEFAULT_CONSISTENCY_MODEL};
pub use input::{NetKind, PlanInput};
pub use series::{Series, MAX_TEST_COUNT};

/// Default cluster spec.
pub const DEFAULT_CLUSTER: &str = "clusters/raft.toml";
/// Default workload: a few hot keys for contention, many cold ones that keep lost writes visible.
pub const DEFAULT_WORKLOAD: &str = "workloads/contention.toml";
/// Default nemesis schedule: every fault family the run can do, once per round.
pub const DEFAULT_NEMESIS: &str = "nemesis/default.toml";
/// Default node count when neither `--nodes` nor the cluster spec says otherwise.
pub const DEFAULT_NODES: usize = 5;
/// Default number of client workers.
pub const DEFAULT_CLIENTS: usize = 10;
/// Default total rate, ops/s.
pub const DEFAULT_RATE: f64 = 200.0;
/// Default workload duration.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(30);
/// Default per-request client timeout.
pub const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(1);

/// A bad flag or input file. Each message names the flag or file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A flag value is invalid.
    #[error("--{flag}: {message}")]
    Flag {
        /// The flag, without dashes.
        flag: &'static str,
        /// What is wrong and what to pass instead.
        message: String,
    },
    /// The cluster spec is invalid.
    #[error(transparent)]
    Cluster(#[from] SpecError),
    /// The workload file is invalid.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// The nemesis schedule is invalid.
    #[error(transparent)]
    Nemesis(#[from] ScheduleError),
    /// The hosts file is invalid.
    #[error(transparent)]
    Hosts(#[from] HostsError),
    /// The stored run given to `--rerun` cannot be read back.
    #[error("--rerun {}: {message}", file.display())]
    Rerun {
        /// The stored `test.toml`.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// A validated test plan. Invariants: `cluster.nodes` is odd; `clients >= 1`; `rate >= 0`
/// (0 = unlimited); `time_limit > 0`; `bug` is only set for the bundled node.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Test name: the directory under `results_dir`.
    pub name: String,
    /// Where the cluster spec came from (as given, or the default).
    pub cluster_path: PathBuf,
    /// The cluster spec, node count and `--bug` applied.
    pub cluster: ClusterSpec,
    /// Where the workload came from.
    pub workload_path: PathBuf,
    /// The workload.
    pub workload: WorkloadSpec,
    /// What the history is checked against (from the workload).
    pub check: CheckPlan,
    /// Where the nemesis schedule came from.
    pub nemesis_path: PathBuf,
    /// The fault schedule.
    pub nemesis: NemesisSchedule,
    /// Client workers.
    pub clients: usize,
    /// Total ops/s; 0 = unlimited.
    pub rate: f64,
    /// How long the workload runs.
    pub time_limit: Duration,
    /// The seed for op generation and the fault schedule.
    pub seed: u64,
    /// True when no `--seed` was given and one was drawn at random.
    pub seed_was_random: bool,
    /// Partition backend.
    pub net: NetKind,
    /// Seeded bug of the bundled node, if any.
    pub bug: Option<String>,
    /// Where to write JUnit XML, if asked.
    pub junit: Option<PathBuf>,
    /// Root of stored runs.
    pub results_dir: PathBuf,
    /// Per-request client timeout.
    pub client_timeout: Duration,
    /// The checker's time budget.
    pub check_time_limit: Duration,
    /// Where each node runs, when not on this machine (`--hosts`), and the file it came from.
    pub hosts: Option<(PathBuf, HostsFile)>,
}

fn flag(flag: &'static str, message: impl Into<String>) -> PlanError {
    PlanError::Flag {
        flag,
        message: message.into(),
    }
}

fn duration(
    name: &'static str,
    v: &Option<String>,
    default: Duration,
) -> Result<Duration, PlanError> {
    let Some(s) = v else { return Ok(default) };
    let d = humantime::parse_duration(s.trim()).map_err(|e| {
        flag(
            name,
            format!("{s:?} is not a duration ({e}); write e.g. 30s, 2m, 500ms"),
        )
    })?;
    if d.is_zero() {
        return Err(flag(name, "must be greater than zero"));
    }
    Ok(d)
}

impl Plan {
    /// Resolve flags and files into a plan; with `--rerun`, the stored run's flags and specs
    /// under the flags given.
    pub fn resolve(input: &PlanInput) -> Result<Plan, PlanError> {
        match &input.rerun {
            Some(path) => {
                let (merged, embedded) = rerun::read(path, input)?;
                Self::resolve_with(&merged, &embedded)
            }
            None => Self::resolve_with(input, &rerun::Embedded::default()),
        }
    }

    fn resolve_with(input: &PlanInput, embedded: &rerun::Embedded) -> Result<Plan, PlanError> {
        let cluster_path = input
            .cluster
            .clone()
            .unwrap_or_else(|| DEFAULT_CLUSTER.into());
        let workload_path = input
            .workload
            .clone()
            .unwrap_or_else(|| DEFAULT_WORKLOAD.into());
        let nemesis_path = input
            .nemesis
            .clone()
            .unwrap_or_else(|| DEFAULT_NEMESIS.into());

        let stored = |table: &str| format!("{} [{table}]", embedded.file.display());
        let cluster = match (&embedded.cluster, resolve_file(&cluster_path, "clusters")) {
            // Relative commands resolve against the original spec's place, as in the first run.
            (Some(text), bundled::Source::File(p)) => ClusterSpec::parse(text, &p)?,
            (Some(text), bundled::Source::Bundled(p, _)) => ClusterSpec::parse(text, Path::new(p))?,
            (None, bundled::Source::File(p)) => ClusterSpec::load(&p)?,
            (None, bundled::Source::Bundled(p, text)) => ClusterSpec::parse(text, Path::new(p))?,
        };
        let workload = match (
            &embedded.workload,
            resolve_file(&workload_path, "workloads"),
        ) {
            (Some(text), _) => WorkloadSpec::parse(text, &stored("workload"))?,
            (None, bundled::Source::File(p)) => WorkloadSpec::load(&p)?,
            (None, bundled::Source::Bundled(p, text)) => WorkloadSpec::parse(text, p)?,
        };
        let nemesis = match (&embedded.nemesis, resolve_file(&nemesis_path, "nemesis")) {
            (Some(text), _) => NemesisSchedule::parse(text, Path::new(&stored("nemesis")))?,
            (None, bundled::Source::File(p)) => NemesisSchedule::load(&p)?,
            (None, bundled::Source::Bundled(p, text)) => {
                NemesisSchedule::parse(text, Path::new(p))?
            }
        };

        let mut cluster = match input.nodes {
            Some(n) if n < 1 || n % 2 == 0 => {
                return Err(flag(
                    "nodes",
                    format!("must be odd and >= 1 (a majority must be well defined), got {n}"),
                ))
            }
            Some(n) => cluster.with_nodes(n)?,
            None => cluster,
        };
        if cluster.nodes == 0 {
            cluster = cluster.with_nodes(DEFAULT_NODES as i64)?;
        }

        // Fail before anything starts if the node binary cannot be found.
        cluster.resolve_command()?;
        // With --hosts the requirements are the hosts' (checked on each when the cluster starts).
        if input.hosts.is_none() {
            cluster.check_requires()?;
        }
        let check = CheckPlan::for_workload(&workload, &workload_path, cluster.client)?;

        let clients = match input.clients {
            None => DEFAULT_CLIENTS,
            Some(c) if (1..=1000).contains(&c) => c as usize,
            Some(c) => {
                return Err(flag(
                    "clients",
                    format!("must be between 1 and 1000, got {c}"),
                ))
            }
        };
        let rate = match input.rate {
            None => DEFAULT_RATE,
            Some(r) if r.is_finite() && r >= 0.0 => r,
            Some(r) => {
                return Err(flag(
                    "rate",
                    format!("must be >= 0 ops/s (0 = unlimited), got {r}"),
                ))
            }
        };
        let time_limit = duration("time-limit", &input.time_limit, DEFAULT_TIME_LIMIT)?;
        let client_timeout = duration(
            "client-timeout",
            &input.client_timeout,
            DEFAULT_CLIENT_TIMEOUT,
        )?;
        let check_time_limit = duration(
            "check-time-limit",
            &input.check_time_limit,
            Duration::from_secs(60),
        )?;
        let hosts = match &input.hosts {
            None => None,
            Some(path) => {
                let file = HostsFile::load(path)?;
                file.targets_for(&cluster.node_ids())
                    .map_err(|m| flag("hosts", m))?;
                Some((path.clone(), file))
            }
        };
        let net = match (input.net.as_deref(), &hosts) {
            (None | Some("hosts"), Some(_)) => NetKind::Hosts,
            (Some(other), Some(_)) => {
                return Err(flag(
                    "net",
                    format!(
                        "{other:?} cannot be combined with --hosts: nodes on remote hosts are \
                         partitioned by nftables rules on the hosts themselves; drop --net"
                    ),
                ))
            }
            (None | Some("proxy"), None) => NetKind::Proxy,
            (Some("netns"), None) => NetKind::Netns,
            (Some("hosts"), None) => {
                return Err(flag(
                    "net",
                    "hosts needs --hosts FILE (which node runs where)",
                ))
            }
            (Some(other), None) => {
                return Err(flag(
                    "net",
                    format!("unknown backend {other:?}; use proxy or netns"),
                ))
            }
        };
        // Static membership lists (etcd's --initial-cluster) must name the same peer URLs on every
        // node; the proxy gives each node its own per-link addresses, so such clusters never form.
        let static_members = cluster.client == ClientKind::Etcd
            || cluster.args.iter().any(|a| a.contains("{initial_cluster}"));
        if net == NetKind::Proxy && static_members {
            return Err(flag(
                "net",
                format!(
                    "{}: this cluster lists its members statically ({{initial_cluster}} / etcd), \
                     which the proxy backend cannot partition; run with --net netns (needs root)",
                    cluster_path.display()
                ),
            ));
        }

        let bug = match &input.bug {
            None => None,
            Some(b) => {
                if crate::raft::bugs::Bug::from_name(b).is_none() {
                    let names: Vec<&str> = crate::raft::bugs::ALL
                        .iter()
                        .map(|(_, n, _, _)| *n)
                        .collect();
                    return Err(flag(
                        "bug",
                        format!("unknown bug {b:?}; known bugs: {}", names.join(", ")),
                    ));
                }
                let bundled = Path::new(&cluster.command)
                    .file_name()
                    .is_some_and(|f| f == "faultline-raft");
                if !bundled {
                    return Err(flag("bug", format!(
                        "seeded bugs exist only in the bundled faultline-raft node, but the cluster runs {:?}",
                        cluster.command
                    )));
                }
                cluster.args.push("--bug".into());
                cluster.args.push(b.clone());
                Some(b.clone())
            }
        };

        let (seed, seed_was_random) = match input.seed {
            Some(s) => (s, false),
            None => (rand::random::<u64>() >> 1, true),
        };

        let name = match &input.name {
            Some(n) => {
                let ok = !n.is_empty()
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    && !n.starts_with('.');
                if !ok {
                    return Err(flag(
                        "name",
                        format!(
                            "{n:?} must be letters, digits, '-', '_' or '.' (it names a directory)"
                        ),
                    ));
                }
                n.clone()
            }
            None => {
                let mut n = format!("{}-{}-{}", cluster.name, workload.name, nemesis.name);
                if let Some(b) = &bug {
                    n.push_str(&format!("-bug-{b}"));
                }
                n.chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect()
            }
        };

        Ok(Plan {
            name,
            cluster_path,
            cluster,
            workload_path,
            workload,
            check,
            nemesis_path,
            nemesis,
            clients,
            rate,
            time_limit,
            seed,
            seed_was_random,
            net,
            bug,
            junit: input.junit.clone(),
            results_dir: input
                .results_dir
                .clone()
                .unwrap_or_else(|| "results".into()),
            client_timeout,
            check_time_limit,
            hosts,
        })
    }

    /// `test.toml`: the effective configuration (flags, seed and the three specs as resolved).
    pub fn to_toml(&self) -> String {
        toml_out::render(self)
    }
}

#[cfg(test)]
mod tests;
