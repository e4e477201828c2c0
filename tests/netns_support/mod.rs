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

/// Make this process the reaper of its orphaned descendants, so node processes a `faultline`
/// child failed to stop become visible to [`leftovers`] as our children.
pub fn adopt_orphans() {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer flag and affects only this process.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    assert_eq!(rc, 0, "prctl(PR_SET_CHILD_SUBREAPER)");
}

/// What a run could leave behind: `fl-` namespaces, `fl-` root links, node processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftovers {
    names: BTreeSet<String>,
    pids: BTreeSet<u32>,
}

/// The current `fl-` namespaces and links, and the live `etcd` / `faultline-raft` / `java` processes that
/// are children of this test process. Calls [`adopt_orphans`] first.
pub fn leftovers() -> Leftovers {
    adopt_orphans();
    let ip = |args: &[&str]| {
        let out = Command::new("ip").args(args).output().expect("ip");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let mut names = BTreeSet::new();
    for line in ip(&["netns", "list"]).lines() {
        if let Some(n) = line
            .split_whitespace()
            .next()
            .filter(|n| n.starts_with("fl-") && !owned_by_other_live_run(n))
        {
            names.insert(n.to_string());
        }
    }
    for line in ip(&["-o", "link", "show"]).lines() {
        if let Some(n) = line.split(": ").nth(1).filter(|n| n.starts_with("fl-")) {
            let n = n.split('@').next().unwrap_or(n);
            if !owned_by_other_live_run(n) {
                names.insert(n.to_string());
            }
        }
    }
    // Only our own descendants count (other work on the host may run etcd too): orphans of a
    // `faultline` child are re-parented to this process, see `adopt_orphans`.
    let me = std::process::id();
    let mut pids = BTreeSet::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = stat[..close].split_once('(').map_or("", |(_, c)| c);
        let mut rest = stat[close + 1..].split_whitespace();
        let (state, ppid) = (rest.next(), rest.next().and_then(|p| p.parse::<u32>().ok()));
        let live = state.is_some_and(|s| s != "Z" && s != "X");
        if live && ppid == Some(me) && matches!(comm, "etcd" | "faultline-raft" | "java") {
            pids.insert(pid);
        }
    }
    Leftovers { names, pids }
}

/// Whether `name` (`fl-<rid>-...`) belongs to a netns run whose owner, per the backend's registry,
/// is alive and is neither this test process nor one of its children: concurrent work on the
/// host (another test binary, a benchmark), which cleans up after itself.
fn owned_by_other_live_run(name: &str) -> bool {
    let Some(rid) = name.strip_prefix("fl-").and_then(|r| r.get(..6)) else {
        return false;
    };
    let record = std::fs::read_to_string(format!("/run/faultline/netns/{rid}.json"));
    let owner = record.ok().and_then(|text| {
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v.get("pid")?.as_u64()
    });
    let me = u64::from(std::process::id());
    owner.is_some_and(|pid| {
        // Alive, and neither this process nor one of its children (a `faultline` we started).
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u64>().ok());
        !stat.is_empty() && pid != me && ppid != Some(me)
    })
}

/// `fl-` namespaces and links that exist now but not in `before`.
pub fn new_names(before: &Leftovers) -> Vec<String> {
    leftovers()
        .names
        .difference(&before.names)
        .cloned()
        .collect()
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
