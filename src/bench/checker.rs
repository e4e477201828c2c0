//! `faultline bench checker`: checker throughput on the Knossos fixtures and on generated
//! cas-register histories (single key 10k / 100k ops, 1M ops over 1,000 keys), each valid and
//! mutated invalid. Peak memory is the checker's own accounting of its search state (memo tables
//! and configuration sets), not the process RSS. Then the rows that start from a file
//! (`checker_files.rs`): read vs check time, `faultline check` wall time and peak RSS, start-up.
//! Then the transaction checker on 1M-transaction histories (`checker_txn.rs`), measured as a
//! child process's time and peak RSS.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{BenchError, BenchOptions};
use crate::checker::synth::{generate, mutate, SynthConfig};
use crate::checker::{check_measured, CheckOptions, ModelKind, Strategy, Verdict};
use crate::history::{parse_edn, History};

/// Per-case budgets: generous, but a case can never hang the suite.
const TIME_LIMIT: Duration = Duration::from_secs(30);
const MEMORY_LIMIT: usize = 1 << 30;

struct Row {
    case: String,
    ops: usize,
    verdict: String,
    time: Duration,
    peak: usize,
    /// Why the verdict is unknown, printed under the table.
    note: Option<String>,
}

fn opts(model: ModelKind, init: Value) -> CheckOptions {
    CheckOptions {
        model,
        init,
        time_limit: Some(TIME_LIMIT),
        memory_limit: MEMORY_LIMIT,
        ..CheckOptions::default()
    }
}

fn word(v: &Verdict) -> &'static str {
    match v {
        Verdict::Valid => "valid",
        Verdict::Invalid { .. } => "invalid",
        Verdict::Unknown { .. } => "unknown",
    }
}

fn run_case(case: String, h: &History, o: &CheckOptions) -> Result<Row, BenchError> {
    let start = Instant::now();
    let (report, stats) =
        check_measured(h, o, Strategy::Compete).map_err(|e| BenchError(format!("{case}: {e}")))?;
    let time = start.elapsed();
    let note = match &report.verdict {
        Verdict::Unknown { reason } => Some(reason.clone()),
        _ => None,
    };
    Ok(Row {
        case,
        ops: h.ops.len(),
        verdict: word(&report.verdict).to_string(),
        time,
        peak: stats.peak_bytes,
        note,
    })
}

fn fixtures_dir() -> PathBuf {
    std::env::var_os("FAULTLINE_KNOSSOS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/knossos")
        })
}

/// All fixtures of `MANIFEST.tsv`, checked one after another; one row with the totals.
fn knossos_row() -> Result<Row, BenchError> {
    let dir = fixtures_dir();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).map_err(|e| {
        BenchError(format!(
            "{}: {e}; set FAULTLINE_KNOSSOS_DIR to the knossos fixtures directory",
            dir.join("MANIFEST.tsv").display()
        ))
    })?;
    let mut cases = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [path, model, _init, expected, ..] = cols[..] else {
            continue;
        };
        let text = std::fs::read_to_string(dir.join(path))
            .map_err(|e| BenchError(format!("{path}: {e}")))?;
        let h = parse_edn(&text).map_err(|e| BenchError(format!("{path}: {e}")))?;
        let o = match model {
            "multi-register" => opts(ModelKind::MultiRegister, json!({"x": 0, "y": 0})),
            "mutex" => opts(ModelKind::Mutex, Value::Null),
            _ => opts(ModelKind::CasRegister, Value::Null),
        };
        cases.push((h, o, expected.to_string()));
    }
    let (mut ops, mut peak, mut wrong) = (0, 0, 0);
    let start = Instant::now();
    for (h, o, expected) in &cases {
        let (report, stats) = check_measured(h, o, Strategy::Compete)
            .map_err(|e| BenchError(format!("fixture: {e}")))?;
        ops += h.ops.len();
        peak = peak.max(stats.peak_bytes);
        wrong += usize::from(word(&report.verdict) != expected);
    }
    let verdict = if wrong == 0 {
        format!("{} as expected", cases.len())
    } else {
        format!("{wrong} of {} WRONG", cases.len())
    };
    Ok(Row {
        case: format!("knossos fixtures ({})", cases.len()),
        ops,
        verdict,
        time: start.elapsed(),
        peak,
        note: None,
    })
}

fn synthetic_rows(quick: bool) -> Result<Vec<Row>, BenchError> {
    let scale = if quick { 10 } else { 1 };
    let single = [
        (10_000, 10),
        (10_000, 20),
        (10_000, 30),
        (10_000, 50),
        (100_000, 10),
        (100_000, 50),
    ];
    let mut configs: Vec<(String, SynthConfig)> = single
        .iter()
        .map(|&(ops, p)| {
            let ops = ops / scale;
            (
                format!("1 key, {p} procs"),
                SynthConfig {
                    seed: 7,
                    calls: ops / 2,
                    processes: p,
                    keys: None,
                    info_rate: 0.05,
                    values: 5,
                },
            )
        })
        .collect();
    let (ops, keys) = (1_000_000 / scale, 1000 / scale);
    configs.push((
        format!("{keys} keys, 50 procs"),
        SynthConfig {
            seed: 11,
            calls: ops / 2,
            processes: 50,
            keys: Some(keys),
            info_rate: 0.05,
            values: 5,
        },
    ));
    let mut rows = Vec::new();
    for (name, cfg) in configs {
        let h = generate(&cfg);
        let o = opts(ModelKind::Kv, Value::Null);
        rows.push(run_case(format!("{name}, valid"), &h, &o)?);
        if let Some(bad) = mutate(&h) {
            drop(h);
            rows.push(run_case(format!("{name}, mutated"), &bad, &o)?);
        }
    }
    Ok(rows)
}

fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<32} {:>9}  {:<24} {:>10} {:>12}\n",
        "case", "ops", "verdict", "time", "peak memory"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<32} {:>9}  {:<24} {:>8.3} s {:>9.1} MiB\n",
            r.case,
            r.ops,
            r.verdict,
            r.time.as_secs_f64(),
            r.peak as f64 / (1 << 20) as f64
        ));
    }
    for r in rows {
        if let Some(n) = &r.note {
            out.push_str(&format!("\n{}: {n}", r.case));
        }
    }
    out.push('\n');
    out.push_str(&format!(
        "\nthreads: {} (rayon); budgets per case: {} s, {} MiB; memory = checker's own accounting of search state\n",
        rayon::current_num_threads(),
        TIME_LIMIT.as_secs(),
        MEMORY_LIMIT >> 20
    ));
    out
}

/// Run the checker suite and return its table: linearizability rows, then transaction rows.
pub fn run(opts: &BenchOptions) -> Result<String, BenchError> {
    // Transactions first, while this process is small: a child's peak RSS as the kernel
    // reports it starts from its parent's RSS at spawn time.
    let txn = super::checker_txn::rows(opts.quick)?;
    let files = super::checker_files::run(opts.quick)?;
    let mut rows = vec![knossos_row()?];
    rows.extend(synthetic_rows(opts.quick)?);
    let mut out = table(&rows);
    out.push_str(&files);
    out.push('\n');
    out.push_str(&super::checker_txn::table(&txn));
    Ok(out)
}
