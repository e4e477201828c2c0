//! `faultline bench checker`, the rows that start from a file: a keyed cas-register history
//! (1M calls = 2M lines over 1,000 keys; `--quick`: a tenth) written to a temporary JSONL file,
//! then read and checked twice: in this process, timing the read (parse + validate) apart from
//! the check, and as a user runs it, `faultline check --stats` as a child process, which reports
//! its own read and check times, CPU time and peak RSS. Then start-up: `faultline check` on a
//! 2-op history, many times.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::BenchError;
use crate::checker::synth::{generate, SynthConfig};
use crate::checker::{check_compact, CheckOptions, ModelKind, Verdict};
use crate::history::{self, Format, History, Key, OpType, Process};

/// A file removed when dropped (on every exit path of the bench).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// One line as the harness writes it, without the informative `index` and `time`.
#[derive(Serialize)]
struct Line<'a> {
    process: Process,
    #[serde(rename = "type")]
    kind: OpType,
    f: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a Key>,
    value: &'a Value,
}

fn write_history(h: &History, path: &Path) -> Result<u64, BenchError> {
    let err = |e: std::io::Error| BenchError(format!("{}: {e}", path.display()));
    let file = std::fs::File::create(path).map_err(err)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    for op in &h.ops {
        let line = Line {
            process: op.process,
            kind: op.kind,
            f: &op.f,
            key: op.key.as_ref(),
            value: &op.value,
        };
        serde_json::to_writer(&mut w, &line).map_err(|e| err(e.into()))?;
        w.write_all(b"\n").map_err(err)?;
    }
    // Written back before timing, so the read does not compete with writeback of its own file.
    let file = w.into_inner().map_err(|e| err(e.into_error()))?;
    file.sync_all().map_err(err)?;
    Ok(file.metadata().map_err(err)?.len())
}

/// `faultline check ARGS` as a child process: its wall time (seen from here), exit code, and
/// its `--stats` line when asked for.
fn run_child(args: &[&str]) -> Result<(Duration, i32, String), BenchError> {
    let exe = std::env::current_exe().map_err(|e| BenchError(format!("own binary: {e}")))?;
    let start = Instant::now();
    let out = Command::new(exe)
        .arg("check")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| BenchError(format!("faultline check: {e}")))?;
    let wall = start.elapsed();
    let stats = String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("stats: "))
        .unwrap_or("")
        .to_string();
    Ok((wall, out.status.code().unwrap_or(-1), stats))
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn mib(b: u64) -> String {
    format!("{:.0} MiB", b as f64 / (1 << 20) as f64)
}

/// The file rows and the start-up row, as a table.
pub(super) fn run(quick: bool) -> Result<String, BenchError> {
    let scale = if quick { 10 } else { 1 };
    let (calls, keys) = (1_000_000 / scale, 1000 / scale);
    let cfg = SynthConfig {
        seed: 11,
        calls,
        processes: 50,
        keys: Some(keys),
        info_rate: 0.05,
        values: 5,
    };
    let dir = std::env::temp_dir();
    let file = TempFile(dir.join(format!("faultline-bench-{}.jsonl", std::process::id())));
    let h = generate(&cfg);
    let lines = h.ops.len();
    let bytes = write_history(&h, &file.0)?;
    drop(h);
    let path = file.0.to_string_lossy().to_string();
    let bad = |e: &dyn std::fmt::Display| BenchError(format!("{path}: {e}"));

    // In process: read (parse + validate) and check timed apart.
    let start = Instant::now();
    let mut c = history::load_compact(&file.0, Some(Format::Jsonl)).map_err(|e| bad(&e))?;
    c.validate().map_err(|e| bad(&e))?;
    let read = start.elapsed();
    let start = Instant::now();
    let opts = CheckOptions {
        model: ModelKind::Kv,
        ..CheckOptions::default()
    };
    let report = check_compact(&c, &opts).map_err(|e| bad(&e))?;
    let check = start.elapsed();
    let held = c.heap_bytes() as u64;
    drop(c);
    let verdict = match report.verdict {
        Verdict::Valid => "valid",
        Verdict::Invalid { .. } => "invalid",
        Verdict::Unknown { .. } => "unknown",
    };

    // As a user runs it; `--stats` reports its own read and check times, CPU and peak RSS.
    let (wall, code, stats) = run_child(&["--model", "kv", "--stats", &path])?;

    // Start-up: a 2-op history.
    let tiny = TempFile(dir.join(format!("faultline-bench-{}-2.jsonl", std::process::id())));
    std::fs::write(
        &tiny.0,
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n\
         {\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1}\n",
    )
    .map_err(|e| bad(&e))?;
    let tiny_path = tiny.0.to_string_lossy().to_string();
    let runs = if quick { 20 } else { 200 };
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(run_child(&[&tiny_path])?.0);
    }
    let (_, _, tiny_stats) = run_child(&["--stats", &tiny_path])?;
    times.sort();
    let mean = times.iter().sum::<Duration>() / runs as u32;

    let mut out = format!(
        "\nreading files: {lines} lines ({:.0} MB JSONL), {keys} keys, model kv\n",
        bytes as f64 / 1e6
    );
    out.push_str(&format!(
        "{:<34} {:>10} {:>10} {:>10} {:>12}  {}\n",
        "case", "read", "check", "wall", "memory", "verdict"
    ));
    out.push_str(&format!(
        "{:<34} {:>10} {:>10} {:>10} {:>12}  {verdict}\n",
        "in process (read = parse+validate)",
        secs(read),
        secs(check),
        secs(read + check),
        format!("{} held", mib(held)),
    ));
    out.push_str(&format!(
        "faultline check --stats (child process, exit {code}, {} wall seen from here):\n  {stats}\n",
        secs(wall)
    ));
    out.push_str(&format!(
        "start-up, 2-op history, {runs} runs: mean {:.2} ms, median {:.2} ms, min {:.2} ms\n",
        mean.as_secs_f64() * 1e3,
        times[runs / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    ));
    out.push_str(&format!("  one of them with --stats: {tiny_stats}\n"));
    Ok(out)
}
