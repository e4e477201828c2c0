//! `faultline bench checker`, the rows that start from a file: a keyed cas-register history
//! (1M calls = 2M lines over 1,000 keys; `--quick`: a tenth) written to a temporary JSONL file,
//! then read and checked twice: in this process, timing the read (parse + validate) apart from
//! the check, and as a user runs it, `faultline check` as a child process, for its wall time and
//! peak RSS. Then start-up: `faultline check` on a 2-op history, many times.

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
    w.flush().map_err(err)?;
    Ok(std::fs::metadata(path).map_err(err)?.len())
}

/// Wall time and peak RSS (bytes) of `faultline check ARGS` as a child process.
fn run_child(args: &[&str]) -> Result<(Duration, u64, i32), BenchError> {
    let exe = std::env::current_exe().map_err(|e| BenchError(format!("own binary: {e}")))?;
    let start = Instant::now();
    let child = Command::new(exe)
        .arg("check")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| BenchError(format!("faultline check: {e}")))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; `pid` is our own child, not yet reaped
    // (the `Child` is never waited on after this).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if r != pid {
        return Err(BenchError(format!(
            "waiting for faultline check: {}",
            std::io::Error::last_os_error()
        )));
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((wall, usage.ru_maxrss as u64 * 1024, code))
}

/// This process's resident set (bytes), from /proc/self/status.
fn own_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
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

    // As a user runs it. A child's peak RSS includes this process's RSS at the moment it execs
    // (it is spawned sharing our memory), so give the freed history back to the OS first and say
    // what is left.
    // SAFETY: malloc_trim only returns free heap memory to the OS.
    unsafe { libc::malloc_trim(0) };
    let parent = own_rss();
    let (wall, rss, code) = run_child(&["--model", "kv", &path])?;

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
    times.sort();
    let mean = times.iter().sum::<Duration>() / runs as u32;

    let mut out = format!(
        "\nreading files: {lines} lines ({:.0} MB JSONL), {keys} keys, model kv\n",
        bytes as f64 / 1e6
    );
    out.push_str(&format!(
        "{:<34} {:>10} {:>10} {:>10} {:>12}  {}\n",
        "case", "read", "check", "wall", "peak RSS", "verdict"
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
        "{:<34} {:>10} {:>10} {:>10} {:>12}  exit {code}\n",
        "faultline check (child process)",
        "-",
        "-",
        secs(wall),
        mib(rss),
    ));
    out.push_str(&format!(
        "(a child's peak RSS cannot be below the bench's own RSS when it spawns: {})\n",
        mib(parent)
    ));
    out.push_str(&format!(
        "start-up, 2-op history, {runs} runs: mean {:.2} ms, median {:.2} ms, min {:.2} ms\n",
        mean.as_secs_f64() * 1e3,
        times[runs / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    ));
    Ok(out)
}
