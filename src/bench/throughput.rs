//! `faultline bench throughput`: ops/s the harness drives and records against a 5-node bundled
//! cluster with no nemesis (unlimited rate), and the share of one CPU the faultline process used
//! (utime + stime from `/proc/self/stat` over the workload phase; the nodes are separate
//! processes). Each row runs twice: data directories on the plain filesystem, and under the lazy
//! filesystem of the disk faults (mounted, no fault injected; needs root and /dev/fuse), so the
//! cost of the FUSE layer shows.

use tabled::builder::Builder;
use tabled::settings::Style;

use super::harness_run::{run_plan, runtime, scratch};
use super::{BenchError, BenchOptions};
use crate::plan::PlanInput;

/// A schedule that mounts the lazy filesystem but injects nothing within any bench run.
const LAZYFS_IDLE: &str =
    "name = \"lazyfs-idle\"\nfaults = [\"disk-full\"]\ninterval = \"1h\"\nduration = \"1s\"\n";

/// Run the suite.
pub fn run(opts: &BenchOptions) -> Result<String, BenchError> {
    let rt = runtime()?;
    let secs = if opts.quick { 5 } else { 15 };
    let mut b = Builder::default();
    b.push_record([
        "clients",
        "data dir",
        "ok ops/s",
        "all ops/s",
        "p50 ms",
        "p99 ms",
        "faultline CPU",
        "verdict",
        "check (s)",
    ]);
    let lazyfs = crate::disk::requirements();
    let disks: &[bool] = if lazyfs.is_ok() {
        &[false, true]
    } else {
        &[false]
    };
    for (clients, lazy) in [16i64, 64]
        .into_iter()
        .flat_map(|c| disks.iter().map(move |d| (c, *d)))
    {
        let dir = scratch()?;
        let nemesis = if lazy {
            let p = dir.path().join("lazyfs-idle.toml");
            std::fs::write(&p, LAZYFS_IDLE)
                .map_err(|e| BenchError(format!("cannot write {}: {e}", p.display())))?;
            p
        } else {
            "none".into()
        };
        let input = PlanInput {
            nemesis: Some(nemesis),
            workload: Some("kv".into()),
            nodes: Some(5),
            clients: Some(clients),
            rate: Some(0.0),
            time_limit: Some(format!("{secs}s")),
            seed: Some(1),
            check_time_limit: Some("20s".into()),
            name: Some("bench-throughput".into()),
            ..Default::default()
        };
        let done = run_plan(&rt, &dir.path().join("results"), input)?;
        let r = &done.report.results;
        let all = r.outcomes.get("all").cloned().unwrap_or_default();
        let lat = r.latency.get("all").cloned().unwrap_or_default();
        let total = (all.ok + all.fail + all.info) as f64 / r.duration_s.max(1e-9);
        b.push_record([
            clients.to_string(),
            if lazy { "lazyfs" } else { "plain" }.to_string(),
            format!("{:.0}", r.throughput),
            format!("{total:.0}"),
            format!("{:.2}", lat.p50_us as f64 / 1000.0),
            format!("{:.2}", lat.p99_us as f64 / 1000.0),
            match done.report.workload_cpu {
                Some(cpu) => format!("{:.0}%", 100.0 * cpu.as_secs_f64() / r.duration_s.max(1e-9)),
                None => "?".into(),
            },
            crate::report::summary::verdict_word(&r.check.verdict).to_string(),
            format!("{:.1}", r.check.elapsed_ms as f64 / 1000.0),
        ]);
    }
    let mut table = b.build();
    table.with(Style::rounded());
    let note = match lazyfs {
        Ok(()) => String::new(),
        Err(m) => format!("\nlazyfs rows skipped: the lazy filesystem {m}"),
    };
    Ok(format!(
        "{table}{note}\nkv workload (16 keys, zipf), no nemesis, no rate limit, {secs} s per run; CPU share = faultline process CPU time (utime + stime, /proc/self/stat) over the workload phase (workers, recording, nemesis; checking excluded), 100% = one core"
    ))
}
