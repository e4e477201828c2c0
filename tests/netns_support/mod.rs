//! Shared helpers of the netns end-to-end tests: when they may run, running `faultline test` with
//! a bounded wall-clock time, and checking that a run left no namespace or node process behind.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// End-to-end runs share the host's namespaces and node processes: one at a time per binary.
pub static SERIAL: Mutex<()> = Mutex::new(());

/// Longest one `faultline test` may take before the test kills it and fails.
const RUN_LIMIT: Duration = Duration::from_secs(240);

/// Whether root-only end-to-end tests may run here (always under `CI=true`); prints why not.
pub fn can_run(need_etcd: bool) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        return true;
    }
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: --net netns needs root (CI=true forces)");
        return false;
    }
    if need_etcd && Command::new("etcd").arg("--version").output().is_err() {
        eprintln!("skipping: `etcd` is not on PATH (apt-get install etcd-server; CI=true forces)");
        return false;
    }
    true
}

/// The outcome of one `faultline test`.
#[derive(Debug)]
pub struct Run {
    /// Exit code (0 valid, 1 invalid, 2 unknown, 3 harness error).
    pub code: i32,
    /// Captured stdout.
    pub stdout: String,
    /// Captured stderr.
    pub stderr: String,
}

/// Run `faultline test ARGS --results-dir RESULTS` from the crate root.
pub fn faultline_test(args: &[&str], results: &Path) -> Run {
    let dir = tempfile::tempdir().expect("output dir");
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("test")
        .args(args)
        .arg("--results-dir")
        .arg(results)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("spawn faultline");
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait faultline") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("faultline test {args:?} ran longer than {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(out).unwrap_or_default(),
        stderr: std::fs::read_to_string(err).unwrap_or_default(),
    }
}

/// What a run could leave behind: `fl-` namespaces, `fl-` root links, node processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftovers {
    names: BTreeSet<String>,
    pids: BTreeSet<u32>,
}

/// The current `fl-` namespaces and links and the pids of `etcd` / `faultline-raft` processes.
pub fn leftovers() -> Leftovers {
    let ip = |args: &[&str]| {
        let out = Command::new("ip").args(args).output().expect("ip");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let mut names = BTreeSet::new();
    for line in ip(&["netns", "list"]).lines() {
        if let Some(n) = line
            .split_whitespace()
            .next()
            .filter(|n| n.starts_with("fl-"))
        {
            names.insert(n.to_string());
        }
    }
    for line in ip(&["-o", "link", "show"]).lines() {
        if let Some(n) = line.split(": ").nth(1).filter(|n| n.starts_with("fl-")) {
            names.insert(n.split('@').next().unwrap_or(n).to_string());
        }
    }
    let mut pids = BTreeSet::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if matches!(comm.trim(), "etcd" | "faultline-raft") {
            pids.insert(pid);
        }
    }
    Leftovers { names, pids }
}

/// Assert nothing new exists compared with `before`.
pub fn assert_nothing_left(before: &Leftovers, what: &str) {
    let now = leftovers();
    let names: Vec<_> = now.names.difference(&before.names).collect();
    let pids: Vec<_> = now.pids.difference(&before.pids).collect();
    assert!(
        names.is_empty(),
        "{what}: namespaces/links left behind: {names:?}"
    );
    assert!(
        pids.is_empty(),
        "{what}: node processes left behind: {pids:?}"
    );
}
