//! `faultline bench throughput`: ops/s the harness drives and records against a 5-node bundled
//! cluster with no nemesis (unlimited rate), and the share of one CPU the faultline process used
//! (utime + stime from `/proc/self/stat` over the workload phase; the nodes are separate
//! processes).

use tabled::builder::Builder;
use tabled::settings::Style;

use super::harness_run::{run_plan, runtime, scratch};
use super::{BenchError, BenchOptions};
use crate::plan::PlanInput;

/// Run the suite.
pub fn run(opts: &BenchOptions) -> Result<String, BenchError> {
    let rt = runtime()?;
    let secs = if opts.quick { 5 } else { 15 };
    let mut b = Builder::default();
    b.push_record([
        "clients",
        "ok ops/s",
        "all ops/s",
        "p50 ms",
        "p99 ms",
        "faultline CPU",
        "verdict",
        "check (s)",
    ]);
    for clients in [16i64, 64] {
        let dir = scratch()?;
        let input = PlanInput {
            nemesis: Some("none".into()),
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
            format!("{:.0}", r.throughput),
            format!("{total:.0}"),
            format!("{:.2}", lat.p50_us as f64 / 1000.0),
            format!("{:.2}", lat.p99_us as f64 / 1000.0),
            match done.report.workload_cpu {
                Some(cpu) => format!("{:.0}%", 100.0 * cpu.as_secs_f64() / r.duration_s.max(1e-9)),
                None => "?".into(),
            },
            r.check.verdict_word().to_string(),
            format!("{:.1}", r.check.elapsed_ms() as f64 / 1000.0),
        ]);
    }
    let mut table = b.build();
    table.with(Style::rounded());
    Ok(format!(
        "{table}\nkv workload (16 keys, zipf), no nemesis, no rate limit, {secs} s per run; CPU share = faultline process CPU time (utime + stime, /proc/self/stat) over the workload phase (workers, recording, nemesis; checking excluded), 100% = one core"
    ))
}
