//! The raw inputs of a plan: the flags of `faultline test` as `cli` parsed them, and the
//! partition backend choice.

use std::path::PathBuf;

/// The raw flags of `faultline test` (all optional; defaults are applied by [`Plan::resolve`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanInput {
    /// `--cluster`.
    pub cluster: Option<PathBuf>,
    /// `--workload`.
    pub workload: Option<PathBuf>,
    /// `--nemesis`.
    pub nemesis: Option<PathBuf>,
    /// `--nodes`.
    pub nodes: Option<i64>,
    /// `--clients`.
    pub clients: Option<i64>,
    /// `--rate`.
    pub rate: Option<f64>,
    /// `--time-limit` (e.g. `30s`, `2m`).
    pub time_limit: Option<String>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--net` (`proxy` or `netns`).
    pub net: Option<String>,
    /// `--bug`.
    pub bug: Option<String>,
    /// `--junit`.
    pub junit: Option<PathBuf>,
    /// `--name`.
    pub name: Option<String>,
    /// `--results-dir`.
    pub results_dir: Option<PathBuf>,
    /// `--client-timeout` (e.g. `1s`, `500ms`).
    pub client_timeout: Option<String>,
    /// `--check-time-limit`: the checker's wall-clock budget.
    pub check_time_limit: Option<String>,
    /// `--rerun`: a stored run (its directory or `test.toml`) whose flags and specs to repeat.
    pub rerun: Option<PathBuf>,
    /// `--test-count`: how many runs, each with a fresh seed (see [`super::Series`]).
    pub test_count: Option<i64>,
    /// `--keep-going`: do not stop a series at its first invalid run.
    pub keep_going: bool,
    /// `--hosts`: a hosts file placing each node on a remote host reached over SSH.
    pub hosts: Option<PathBuf>,
}

/// Which partition backend to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetKind {
    /// Userspace TCP proxies (default, no root).
    Proxy,
    /// Network namespaces + nftables (root).
    Netns,
    /// nftables rules on remote hosts (implied by `--hosts`).
    Hosts,
}

impl NetKind {
    /// The flag value.
    pub fn name(self) -> &'static str {
        match self {
            NetKind::Proxy => "proxy",
            NetKind::Netns => "netns",
            NetKind::Hosts => "hosts",
        }
    }
}
