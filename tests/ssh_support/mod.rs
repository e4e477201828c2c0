//! Shared helpers of the SSH lab tests: one 3-host lab per test binary (up on first use, down at
//! exit), turn-taking runs of `faultline test --hosts`, and what is left running on the hosts.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::netns_support::faultline_test;

/// Runs share the lab's hosts and ports: one at a time.
pub static SERIAL: Mutex<()> = Mutex::new(());
static LAB: OnceLock<Lab> = OnceLock::new();

/// The shared lab.
pub struct Lab {
    /// The lab's directory.
    pub dir: PathBuf,
    /// Its registry run id.
    pub run_id: String,
}

/// Whether the lab tests may run here (always under `CI=true`); prints why not.
pub fn can_run() -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        return true;
    }
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: faultline lab needs root (CI=true forces)");
        return false;
    }
    for (program, package) in [
        ("/usr/sbin/sshd", "openssh-server"),
        ("/usr/bin/etcd", "etcd-server"),
    ] {
        if !Path::new(program).exists() {
            eprintln!("skipping: {program} is missing (apt-get install {package}; CI=true forces)");
            return false;
        }
    }
    true
}

/// `faultline ARGS`, waited for.
pub fn faultline(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run faultline")
}

extern "C" fn lab_down_at_exit() {
    if let Some(lab) = LAB.get() {
        let _ = faultline(&["lab", "down", "--dir", &lab.dir.display().to_string()]);
    }
}

/// The registry run id of the lab in `dir`.
pub fn run_id(dir: &Path) -> String {
    let state = std::fs::read_to_string(dir.join("lab.json")).expect("lab.json");
    let v: serde_json::Value = serde_json::from_str(&state).expect("lab.json is JSON");
    v["run_id"].as_str().expect("run_id").to_string()
}

/// Bring up a lab of `n` hosts in `dir` (after removing one a killed test run left there).
pub fn lab_up(n: usize, dir: &Path) -> String {
    let d = dir.display().to_string();
    let _ = faultline(&["lab", "down", "--dir", &d]);
    let out = faultline(&["lab", "up", &n.to_string(), "--dir", &d]);
    assert!(
        out.status.success(),
        "lab up failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    run_id(dir)
}

/// The shared 3-host lab, brought up on first use and removed when the test binary exits.
pub fn lab() -> &'static Lab {
    LAB.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ssh-lab");
        let run_id = lab_up(3, &dir);
        // SAFETY: registers a plain function with no captured state.
        unsafe { libc::atexit(lab_down_at_exit) };
        Lab { dir, run_id }
    })
}

/// The shared lab's `hosts.toml`.
pub fn hosts_toml() -> String {
    lab().dir.join("hosts.toml").display().to_string()
}

/// `faultline test --hosts <lab> ARGS` for 8 s on 3 nodes; the exit code (harness errors fail).
pub fn remote_run(args: &[&str]) -> i32 {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let results = tempfile::tempdir().expect("results dir");
    let hosts = hosts_toml();
    let mut all = vec![
        "--hosts",
        hosts.as_str(),
        "--nodes",
        "3",
        "--time-limit",
        "8s",
    ];
    all.extend(["--seed", "7", "--clients", "6", "--rate", "100"]);
    all.extend(args);
    let run = faultline_test(&all, results.path());
    assert!(
        matches!(run.code, 0 | 1),
        "{args:?}: harness error {}: {}{}",
        run.code,
        run.stdout,
        run.stderr
    );
    assert_nothing_running(&lab().run_id, Duration::from_secs(5));
    run.code
}

/// Node processes (`faultline-raft`, `etcd`) in the lab's host namespaces.
pub fn nodes_in(run_id: &str) -> Vec<String> {
    processes_in(run_id)
        .into_iter()
        .filter(|p| p.ends_with(" faultline-raft") || p.ends_with(" etcd"))
        .collect()
}

/// Every live process but sshd in the lab's host namespaces (nodes, wrappers, guards).
pub fn processes_in(run_id: &str) -> Vec<String> {
    let mut found = Vec::new();
    for k in 1..=3 {
        let ns = format!("fl-{run_id}-n{k}");
        let out = Command::new("ip")
            .args(["netns", "pids", &ns])
            .output()
            .expect("ip");
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let comm = comm.trim();
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie = stat
                .rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
            if !comm.is_empty() && comm != "sshd" && !zombie {
                found.push(format!("{ns}: {pid} {comm}"));
            }
        }
    }
    found
}

/// `faultline_*` nft tables on the lab's hosts.
pub fn tables_in(run_id: &str) -> Vec<String> {
    (1..=3)
        .flat_map(|k| {
            let ns = format!("fl-{run_id}-n{k}");
            let out = Command::new("ip")
                .args(["netns", "exec", &ns, "nft", "list", "tables"])
                .output()
                .expect("nft");
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.contains("faultline_"))
                .map(|l| format!("{ns}: {l}"))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Within `grace`, no process but sshd and no partition table is left on any host.
pub fn assert_nothing_running(run_id: &str, grace: Duration) {
    let deadline = Instant::now() + grace;
    loop {
        let (nodes, tables) = (processes_in(run_id), tables_in(run_id));
        if nodes.is_empty() && tables.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "left on the hosts after {grace:?}: nodes {nodes:?}, tables {tables:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `/proc/<pid>` state letter (the lab's hosts share this machine's pid namespace).
pub fn proc_state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .and_then(|(_, r)| r.trim().chars().next())
        .unwrap_or('-')
}

/// Poll `f` until it holds (at most 10 s).
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "{what} within 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}
