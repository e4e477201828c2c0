//! Shared helpers for the `faultline test` behaviour tests: run the built binary with its results
//! in a tempdir, one run at a time (the CI box has 2 cores), and prove no node outlived its run.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Runs in one test binary go one at a time: each starts a cluster, and timing-sensitive fault
/// tests should not compete for the CPU.
pub static SERIAL: Mutex<()> = Mutex::new(());

/// Take the serial lock (a panicking test must not block the others).
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The built controller.
pub fn faultline() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_faultline"))
}

/// The repository root (bundled cluster, workload and nemesis files live here).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `faultline test` command with results under `dir` and cwd at the repository root.
pub fn test_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(faultline());
    cmd.current_dir(repo())
        .arg("test")
        .arg("--results-dir")
        .arg(dir.join("results"))
        .args(args)
        .env("NO_COLOR", "1");
    cmd
}

/// Run `faultline test` to completion.
pub fn run_test(dir: &Path, args: &[&str]) -> Output {
    let out = test_cmd(dir, args).output().expect("run faultline");
    eprintln!(
        "faultline test {args:?} -> {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Pids of live processes whose command line mentions `needle` and `faultline-raft`.
pub fn surviving_nodes(needle: &Path) -> Vec<(u32, String)> {
    let needle = needle.to_string_lossy().to_string();
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(raw) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
        if cmdline.contains("faultline-raft") && cmdline.contains(&needle) {
            // Zombies have an empty cmdline, so anything here is alive.
            found.push((pid, cmdline));
        }
    }
    found
}

/// Assert that no node process of the runs under `dir` is left (allowing a moment for reaping).
pub fn assert_no_nodes_left(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left = surviving_nodes(dir);
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            panic!("node processes outlived the run: {left:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Write a file into `dir` and return its path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write test file");
    p.to_string_lossy().to_string()
}

/// The newest run directory (`results/latest`).
pub fn latest(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir.join("results").join("latest")).expect("results/latest exists")
}
