//! `faultline test`: flags -> [`Plan`] -> [`runner::run`] on a tokio runtime built here; prints
//! the summary table and maps the verdict to the exit code.

use std::path::PathBuf;

use clap::Args;

use crate::exit::Outcome;
use crate::plan::{Plan, PlanInput};
use crate::runner::{self, RunEnd, RunError};

/// Flags of `faultline test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Cluster spec (TOML, or a bundled name: raft, raft-no-prevote, etcd).
    #[arg(long, value_name = "FILE")]
    pub cluster: Option<PathBuf>,
    /// Workload (TOML, or a bundled name: register, cas-register, kv).
    #[arg(long, value_name = "FILE")]
    pub workload: Option<PathBuf>,
    /// Fault schedule (TOML, or a bundled name: none, kill, kill-all, pause, kill-leader,
    /// pause-leader, partition-halves, partition-leader, partition-ring, bridge, reelect-deposed,
    /// election-flap, vote-twice, clock-skew, clock-strobe, skew-isolate-leader, delay, slow,
    /// flaky, loss, lose-unfsynced, torn-write, disk-error, disk-full, mixed).
    #[arg(long, value_name = "FILE")]
    pub nemesis: Option<PathBuf>,
    /// Number of nodes (odd) [default: the cluster spec's, 5].
    #[arg(long)]
    pub nodes: Option<i64>,
    /// Concurrent client workers [default: 10].
    #[arg(long)]
    pub clients: Option<i64>,
    /// Total ops/s across all clients, 0 = unlimited [default: 200].
    #[arg(long)]
    pub rate: Option<f64>,
    /// How long the workload runs, e.g. 30s, 2m [default: 30s].
    #[arg(long, value_name = "DURATION")]
    pub time_limit: Option<String>,
    /// Seed for op generation and the fault schedule [default: random, printed].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Partition backend: proxy (no root) or netns (root) [default: proxy; with --hosts,
    /// nftables on the hosts].
    #[arg(long, value_name = "BACKEND")]
    pub net: Option<String>,
    /// Start the bundled node with this seeded bug (see `faultline-raft --list-bugs`).
    #[arg(long, value_name = "NAME")]
    pub bug: Option<String>,
    /// Also write JUnit XML here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Test name (directory under the results dir) [default: cluster-workload-nemesis].
    #[arg(long)]
    pub name: Option<String>,
    /// Where runs are stored [default: results].
    #[arg(long, value_name = "DIR")]
    pub results_dir: Option<PathBuf>,
    /// Per-request client timeout; slower answers are recorded as info [default: 1s].
    #[arg(long, value_name = "DURATION")]
    pub client_timeout: Option<String>,
    /// The checker's time budget; past it the verdict is unknown [default: 60s].
    #[arg(long, value_name = "DURATION")]
    pub check_time_limit: Option<String>,
    /// Repeat a stored run (its directory, e.g. results/latest, or its test.toml): same specs,
    /// flags and seed; flags given here override.
    #[arg(long, value_name = "RUN")]
    pub rerun: Option<PathBuf>,
    /// Run each node on a remote host over SSH, as this file says (node id -> user@host[:port];
    /// `faultline lab up` writes one for namespaced hosts on this machine).
    #[arg(long, value_name = "FILE")]
    pub hosts: Option<PathBuf>,
}

impl TestArgs {
    /// The flags as plan input (nothing below `cli` sees clap).
    pub fn to_input(&self) -> PlanInput {
        PlanInput {
            cluster: self.cluster.clone(),
            workload: self.workload.clone(),
            nemesis: self.nemesis.clone(),
            nodes: self.nodes,
            clients: self.clients,
            rate: self.rate,
            time_limit: self.time_limit.clone(),
            seed: self.seed,
            net: self.net.clone(),
            bug: self.bug.clone(),
            junit: self.junit.clone(),
            name: self.name.clone(),
            results_dir: self.results_dir.clone(),
            client_timeout: self.client_timeout.clone(),
            check_time_limit: self.check_time_limit.clone(),
            rerun: self.rerun.clone(),
            hosts: self.hosts.clone(),
        }
    }
}

/// Run `faultline test`.
pub fn run(args: TestArgs) -> anyhow::Result<Outcome> {
    let plan = Plan::resolve(&args.to_input())?;
    if plan.seed_was_random {
        println!(
            "seed {} (random; rerun with --seed {})",
            plan.seed, plan.seed
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let report = rt.block_on(runner::run(&plan)).map_err(|f| match f.error {
        // Checked before anything was created: there is nothing to point at.
        RunError::Unmet(_) => anyhow::anyhow!("{}", f.error),
        _ => anyhow::anyhow!(
            "{}\n(what was recorded is kept in {})",
            f.error,
            f.run_dir.display()
        ),
    })?;
    // Nodes are stopped; let background tasks (proxies) go without waiting.
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    print!("{}", report.summary);
    match report.end {
        RunEnd::Verdict(outcome) => Ok(outcome),
        RunEnd::Aborted(why) => anyhow::bail!(
            "{why}; partial history kept in {}",
            report.run_dir.join("history.jsonl").display()
        ),
    }
}
