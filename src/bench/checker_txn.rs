//! The transaction rows of `faultline bench checker`: generated list-append and rw-register
//! histories of 1M transactions (1-6 micro-ops each, 10 clients, 2% crashed, 5% aborted),
//! valid and with one injected anomaly, checked by `faultline check` in a child process so the
//! time includes reading and parsing the JSONL file and the memory is that process's peak RSS.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::BenchError;
use crate::checker::txn::generate::{generate_jsonl, GenConfig, Inject};
use crate::checker::txn::TxnModel;

/// One measured check.
pub(super) struct TxnRow {
    pub case: String,
    pub txns: usize,
    pub bytes: u64,
    pub verdict: String,
    pub time: Duration,
    /// User + system CPU time of the check (load on the machine inflates `time`, not this).
    pub cpu: Duration,
    pub rss_kib: u64,
}

/// A generated history file, removed when dropped.
struct TempHistory(PathBuf);

impl Drop for TempHistory {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What one child check measured.
struct Measured {
    time: Duration,
    cpu: Duration,
    rss_kib: u64,
    report: Value,
}

/// Run `faultline check` on `path` in a child; its wall and CPU time, peak RSS and JSON report.
fn check_child(path: &Path, model: TxnModel) -> Result<Measured, BenchError> {
    let exe =
        std::env::current_exe().map_err(|e| BenchError(format!("cannot find faultline: {e}")))?;
    let start = Instant::now();
    let child = Command::new(exe)
        .args([
            "check",
            "--json",
            "--model",
            model.name(),
            "--time-limit",
            "120s",
        ])
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| BenchError(format!("cannot run faultline check: {e}")))?;
    let out = wait_rusage(child)?;
    let time = start.elapsed();
    let report: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        BenchError(format!(
            "faultline check printed no report ({e}): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    })?;
    Ok(Measured {
        time,
        cpu: out.cpu,
        rss_kib: out.rss_kib,
        report,
    })
}

/// A reaped child's output and resource usage.
struct Reaped {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    cpu: Duration,
    rss_kib: u64,
}

/// Read a child's output and reap it with `wait4`, which also returns its CPU time and peak RSS.
fn wait_rusage(mut child: std::process::Child) -> Result<Reaped, BenchError> {
    {
        let pid = child.id() as libc::pid_t;
        use std::io::Read;
        let mut stdout = child.stdout.take();
        let mut stderr = child.stderr.take();
        let err_reader = std::thread::spawn(move || {
            let mut b = Vec::new();
            if let Some(e) = stderr.as_mut() {
                let _ = e.read_to_end(&mut b);
            }
            b
        });
        let mut out = Vec::new();
        if let Some(o) = stdout.as_mut() {
            let _ = o.read_to_end(&mut out);
        }
        let err = err_reader.join().unwrap_or_default();
        let mut status = 0;
        // SAFETY: plain FFI call with valid pointers; `rusage` is plain old data.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r != pid {
            return Err(BenchError(format!(
                "waiting for faultline check: {}",
                std::io::Error::last_os_error()
            )));
        }
        let tv = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec.max(0) as u64)
                + Duration::from_micros(t.tv_usec.max(0) as u64)
        };
        // ru_maxrss is in KiB on Linux.
        Ok(Reaped {
            stdout: out,
            stderr: err,
            cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
            rss_kib: usage.ru_maxrss.max(0) as u64,
        })
    }
}

fn row(case: &str, cfg: &GenConfig) -> Result<TxnRow, BenchError> {
    let path = std::env::temp_dir().join(format!(
        "faultline-bench-txn-{}-{}.jsonl",
        std::process::id(),
        case.replace([' ', ','], "-")
    ));
    let file =
        std::fs::File::create(&path).map_err(|e| BenchError(format!("{}: {e}", path.display())))?;
    let guard = TempHistory(path);
    generate_jsonl(cfg, std::io::BufWriter::with_capacity(1 << 20, file))
        .map_err(|e| BenchError(format!("{}: {e}", guard.0.display())))?;
    let bytes = std::fs::metadata(&guard.0).map(|m| m.len()).unwrap_or(0);
    let Measured {
        time,
        cpu,
        rss_kib,
        report,
    } = check_child(&guard.0, cfg.model)?;
    let valid = match &report["valid"] {
        Value::Bool(true) => "valid".to_string(),
        Value::Bool(false) => "invalid".to_string(),
        other => other.as_str().unwrap_or("?").to_string(),
    };
    let types: Vec<String> = report["anomaly_types"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(String::from))
        .collect();
    let verdict = if types.is_empty() {
        valid
    } else {
        format!("{valid}: {}", types.join(" "))
    };
    Ok(TxnRow {
        case: case.to_string(),
        txns: cfg.txns,
        bytes,
        verdict,
        time,
        cpu,
        rss_kib,
    })
}

/// Measure every transaction case; `quick` uses 100k transactions instead of 1M.
pub(super) fn rows(quick: bool) -> Result<Vec<TxnRow>, BenchError> {
    let txns = if quick { 100_000 } else { 1_000_000 };
    let mut out = Vec::new();
    for model in [TxnModel::ListAppend, TxnModel::RwRegister] {
        for inject in [None, Some(Inject::GSingle)] {
            let cfg = GenConfig {
                seed: 42,
                model,
                txns,
                processes: 10,
                inject,
                ..GenConfig::default()
            };
            let case = format!(
                "{} {}k, {}",
                model.name(),
                txns / 1000,
                if inject.is_some() {
                    "read skew"
                } else {
                    "valid"
                }
            );
            out.push(row(&case, &cfg)?);
        }
    }
    Ok(out)
}

/// The rows as a table.
pub(super) fn table(rows: &[TxnRow]) -> String {
    let mut out = format!(
        "{:<28} {:>9} {:>6}  {:<26} {:>9} {:>9} {:>11} {:>9}\n",
        "transactions", "txns", "MB", "verdict", "time", "cpu", "txns/s", "peak RSS"
    );
    for r in rows {
        let secs = r.time.as_secs_f64().max(1e-9);
        out.push_str(&format!(
            "{:<28} {:>9} {:>6.0}  {:<26} {:>7.3} s {:>7.3} s {:>11.0} {:>5.0} MiB\n",
            r.case,
            r.txns,
            r.bytes as f64 / 1e6,
            r.verdict,
            secs,
            r.cpu.as_secs_f64(),
            r.txns as f64 / secs,
            r.rss_kib as f64 / 1024.0
        ));
    }
    out.push_str(
        "time, cpu (user + system) and peak RSS of `faultline check --json --model M FILE` in a \
         child process, reading and parsing the JSONL file included; txns/s = txns / time; \
         default consistency model strict-serializable\n",
    );
    out
}
