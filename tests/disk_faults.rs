//! Disk faults end to end (`faultline test` with a FUSE lazy filesystem over every data dir):
//! the seeded `no-fsync` bug is valid under kill -9 and invalid under power loss, the correct
//! node is valid under every disk fault, a foreign node that appends its log without fsync is
//! caught the same way, `--net netns` works too, a schedule with disk faults fails before it
//! starts without root, and no mount, node or namespace outlives a run, including a controller
//! killed with -9 (the next run sweeps its mounts). The lazy filesystem's own behaviour is in
//! `disk/lazyfs.rs`. Needs root and /dev/fuse.

#[path = "disk/support.rs"]
mod disk_support;
/// The lazy filesystem on its own, without a cluster.
#[path = "disk/lazyfs.rs"]
mod lazyfs;
mod run_support;
mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use disk_support::{assert_no_mounts_under, lazyfs_available, mounts_under, netns_available};
use run_support::*;

/// Every disk fault, one after another in a seeded order, quickly.
const ALL_DISK_FAULTS: &str = r#"
name = "all-disk-faults"
faults = ["lose-unfsynced", "torn-write", "disk-error", "disk-full"]
interval = "700ms"
duration = "700ms"
targets = "majority"
"#;

/// Power loss on every node, often.
const POWER_LOSS: &str = r#"
name = "power-loss"
faults = ["lose-unfsynced"]
interval = "1500ms"
duration = "500ms"
targets = "all"
"#;

/// Kill every node, as often.
const KILL_ALL: &str = r#"
name = "kill-all"
faults = ["kill"]
interval = "1500ms"
duration = "500ms"
targets = "all"
"#;

/// Mostly reads of one register: a lost write is seen at once.
const READ_HEAVY: &str = r#"
name = "read-heavy"
model = "cas-register"
keys = 1
values = [0, 4]
[mix]
read = 6
write = 2
cas = 1
"#;

/// `faultline test` on 3 bundled nodes for `secs` seconds (seed 3 unless `extra` sets one);
/// returns the exit code and history.
fn run_raft(
    dir: &Path,
    nemesis: &str,
    bug: Option<&str>,
    extra: &[&str],
    secs: u32,
) -> (i32, String) {
    let workload = write(dir, "read-heavy.toml", READ_HEAVY);
    let limit = format!("{secs}s");
    let mut args = vec![
        "--nemesis",
        nemesis,
        "--workload",
        &workload,
        "--nodes",
        "3",
        "--clients",
        "6",
        "--rate",
        "200",
        "--time-limit",
        &limit,
    ];
    if !extra.contains(&"--seed") {
        args.extend(["--seed", "3"]);
    }
    if let Some(b) = bug {
        args.extend(["--bug", b]);
    }
    args.extend(extra);
    let out = run_test(dir, &args);
    assert_no_nodes_left(dir);
    assert_no_mounts_under(dir);
    let history = std::fs::read_to_string(latest(dir).join("history.jsonl")).unwrap_or_default();
    (out.status.code().unwrap_or(-1), history)
}

#[test]
fn no_fsync_is_valid_under_kill_and_invalid_under_power_loss() {
    if !lazyfs_available("no_fsync_is_valid_under_kill_and_invalid_under_power_loss") {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let kill = write(dir.path(), "kill-all.toml", KILL_ALL);
    let (code, history) = run_raft(dir.path(), &kill, Some("no-fsync"), &[], 5);
    assert_eq!(
        code, 0,
        "the page cache survives kill -9: no-fsync must pass"
    );
    assert!(history.contains("\"f\":\"kill\""));
    let loss = write(dir.path(), "power-loss.toml", POWER_LOSS);
    let (code, history) = run_raft(dir.path(), &loss, Some("no-fsync"), &[], 5);
    assert!(history.contains("\"f\":\"lose-unfsynced\""), "{history}");
    assert_eq!(
        code, 1,
        "a power loss must reveal acknowledged writes that were never fsynced"
    );
}

#[test]
fn the_correct_node_is_valid_under_every_disk_fault() {
    if !lazyfs_available("the_correct_node_is_valid_under_every_disk_fault") {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let all = write(dir.path(), "all-disk-faults.toml", ALL_DISK_FAULTS);
    // Seed 1 draws each of the four disk faults among its first four faults.
    let (code, history) = run_raft(dir.path(), &all, None, &["--seed", "1"], 9);
    assert_eq!(code, 0, "the correct node fsyncs before it acknowledges");
    for f in [
        "lose-unfsynced",
        "torn-write",
        "disk-error",
        "disk-full",
        "disk-heal",
    ] {
        assert!(
            history.contains(&format!("\"f\":\"{f}\"")),
            "seed 1 should draw {f}: {history}"
        );
    }
    // A correct node fsyncs, so a power loss finds nothing to lose.
    assert!(history.contains("lost 0 B in 0 files"), "{history}");
    // Each disk fault is a coverage window with its targets' roles, and ends at its heal.
    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(latest(dir.path()).join("results.json")).expect("results.json"),
    )
    .expect("results.json is JSON");
    let windows = results["coverage"]["windows"].as_array().expect("windows");
    for f in ["lose-unfsynced", "torn-write", "disk-error", "disk-full"] {
        let w = windows
            .iter()
            .find(|w| w["fault"] == f)
            .unwrap_or_else(|| panic!("no coverage window for {f}: {windows:?}"));
        assert_eq!(w["targets"].as_object().map(|t| t.len()), Some(2), "{w}");
        let record = results["faults"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["f"] == f))
            .unwrap_or_else(|| panic!("no fault record for {f}"));
        assert!(
            record["end_ns"].is_i64(),
            "{f} never paired with its heal: {record}"
        );
    }
}

#[test]
fn power_loss_works_with_the_netns_backend() {
    if !lazyfs_available("power_loss_works_with_the_netns_backend")
        || !netns_available("power_loss_works_with_the_netns_backend")
    {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let loss = write(dir.path(), "power-loss.toml", POWER_LOSS);
    let (code, history) = run_raft(dir.path(), &loss, Some("no-fsync"), &["--net", "netns"], 5);
    assert!(history.contains("\"f\":\"lose-unfsynced\""), "{history}");
    assert_eq!(code, 1, "nodes in namespaces see their lazy filesystem too");
}

/// A one-node cluster of `tests/support/log_kv_node.py` (with `--fsync` if asked).
fn foreign_spec(dir: &Path, fsync: bool) -> String {
    let node = repo().join("tests/support/log_kv_node.py");
    let python = support::python().expect("python3").display().to_string();
    let fsync = if fsync { ", \"--fsync\"" } else { "" };
    write(
        dir,
        "log-kv.toml",
        &format!(
            "name = \"log-kv\"\nnodes = 1\ncommand = {python:?}\nargs = [{:?}, \"--id\", \"{{id}}\", \"--client-addr\", \"{{client_addr}}\", \"--data-dir\", \"{{data_dir}}\"{fsync}]\nclient = \"http-kv\"\nready = {{ http_get = \"/health\", timeout = \"10s\" }}\n",
            node.display().to_string()
        ),
    )
}

fn run_foreign(dir: &Path, nemesis: &str, fsync: bool) -> (i32, String) {
    let spec = foreign_spec(dir, fsync);
    let workload = write(dir, "read-heavy.toml", READ_HEAVY);
    let out = run_test(
        dir,
        &[
            "--cluster",
            &spec,
            "--nemesis",
            nemesis,
            "--workload",
            &workload,
            "--clients",
            "4",
            "--rate",
            "150",
            "--time-limit",
            "4s",
            "--seed",
            "5",
        ],
    );
    assert_no_mounts_under(dir);
    let history = std::fs::read_to_string(latest(dir).join("history.jsonl")).unwrap_or_default();
    (out.status.code().unwrap_or(-1), history)
}

#[test]
fn a_foreign_node_that_appends_without_fsync_loses_writes_only_to_power_loss() {
    let test = "a_foreign_node_that_appends_without_fsync_loses_writes_only_to_power_loss";
    if !lazyfs_available(test) || !support::can_run_nodes(test) {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let kill = write(dir.path(), "kill-all.toml", KILL_ALL);
    let loss = write(dir.path(), "power-loss.toml", POWER_LOSS);
    assert_eq!(
        run_foreign(dir.path(), &kill, false).0,
        0,
        "kill -9 keeps the page cache"
    );
    let (code, history) = run_foreign(dir.path(), &loss, false);
    assert!(history.contains("\"f\":\"lose-unfsynced\""), "{history}");
    assert_eq!(code, 1, "acknowledged, never fsynced writes vanish");
    assert_eq!(
        run_foreign(dir.path(), &loss, true).0,
        0,
        "with --fsync it survives"
    );
}

#[test]
fn mounts_of_a_controller_killed_with_9_are_swept_by_the_next_run() {
    let test = "mounts_of_a_controller_killed_with_9_are_swept_by_the_next_run";
    if !lazyfs_available(test) {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let loss = write(dir.path(), "power-loss.toml", POWER_LOSS);
    let mut child = test_cmd(
        dir.path(),
        &[
            "--nemesis",
            &loss,
            "--nodes",
            "3",
            "--time-limit",
            "60s",
            "--seed",
            "1",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("start faultline");
    let deadline = Instant::now() + Duration::from_secs(30);
    while mounts_under(dir.path()).len() < 3 {
        assert!(
            Instant::now() < deadline,
            "the run never mounted its 3 filesystems"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    assert_no_nodes_left(dir.path());
    // The FUSE server died with the controller; its mountpoints stay until swept.
    assert_eq!(mounts_under(dir.path()).len(), 3);
    let out = run_test(
        dir.path(),
        &[
            "--nemesis",
            "disk-full",
            "--nodes",
            "1",
            "--time-limit",
            "1s",
            "--seed",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_no_mounts_under(dir.path());
}

#[test]
fn ctrl_c_during_a_disk_fault_unmounts_everything() {
    if !lazyfs_available("ctrl_c_during_a_disk_fault_unmounts_everything") {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    // A disk error still in force when the run is interrupted.
    let long = write(
        dir.path(),
        "long-error.toml",
        "name = \"long-error\"\nfaults = [\"disk-error\"]\ninterval = \"300ms\"\nduration = \"30s\"\n",
    );
    let mut child = test_cmd(
        dir.path(),
        &[
            "--nemesis",
            &long,
            "--nodes",
            "3",
            "--time-limit",
            "60s",
            "--seed",
            "1",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("start faultline");
    wait_for_history(dir.path(), "the disk error never started", |h| {
        h.matches("\"f\":\"disk-error\"").count() >= 2
    });
    assert_eq!(mounts_under(dir.path()).len(), 3);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT");
    let status = child.wait().expect("wait");
    assert_eq!(
        status.code(),
        Some(3),
        "an interrupted run is a harness error"
    );
    assert_no_nodes_left(dir.path());
    assert_no_mounts_under(dir.path());
}

#[test]
fn disk_faults_without_root_stop_before_the_run_starts() {
    if unsafe { libc::geteuid() } != 0 {
        // Not root: the plain command already lacks what it needs.
        let dir = tempfile::tempdir().unwrap();
        let out = run_test(
            dir.path(),
            &["--nemesis", "lose-unfsynced", "--time-limit", "1s"],
        );
        assert_eq!(out.status.code(), Some(3));
        return;
    }
    // As root, run the controller as `nobody` (setpriv, util-linux).
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    std::fs::create_dir(&results).unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    std::fs::set_permissions(
        &results,
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .arg(faultline())
        .current_dir(repo())
        .args([
            "test",
            "--nemesis",
            "disk-error",
            "--time-limit",
            "1s",
            "--results-dir",
        ])
        .arg(&results)
        .output()
        .expect("run setpriv (util-linux)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let line = stderr.lines().next().unwrap_or("");
    assert!(
        line.starts_with("error:") && line.contains("disk-error") && line.contains("root"),
        "{line}"
    );
    // Nothing was started or recorded.
    assert_eq!(std::fs::read_dir(&results).unwrap().count(), 0);
}

#[test]
fn a_lazy_filesystem_unmounted_from_outside_makes_the_run_unjudgeable_not_invalid() {
    let test = "a_lazy_filesystem_unmounted_from_outside_makes_the_run_unjudgeable_not_invalid";
    if !lazyfs_available(test) {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    // The power loss comes 2 s in: long after the filesystems are detached below.
    let late = write(
        dir.path(),
        "late-power-loss.toml",
        "name = \"late-power-loss\"\nfaults = [\"lose-unfsynced\"]\ninterval = \"2s\"\nduration = \"500ms\"\n",
    );
    let child = test_cmd(
        dir.path(),
        &[
            "--nemesis",
            &late,
            "--nodes",
            "3",
            "--time-limit",
            "4s",
            "--seed",
            "1",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start faultline");
    // Wait for the workload (the mounts are complete once a client op succeeded: a mountpoint
    // shows in mountinfo before its FUSE handshake is over).
    wait_for_history(dir.path(), "the workload never started", |h| {
        h.contains("\"type\":\"ok\"")
    });
    let mounted = mounts_under(dir.path());
    assert_eq!(mounted.len(), 3, "{mounted:?}");
    // What a careless sweep of another process did: detach them from under the run.
    for m in &mounted {
        nix::mount::umount2(m, nix::mount::MntFlags::MNT_DETACH).expect("detach");
    }
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "a run whose disks vanished must not give a verdict; stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("cannot be judged") && stderr.contains("no longer mounted"),
        "{stderr}"
    );
    assert_no_nodes_left(dir.path());
    assert_no_mounts_under(dir.path());
}

/// Poll the history of the one run under `dir/results` (for up to 30 s) until `ready` holds;
/// panic with `never` otherwise.
fn wait_for_history(dir: &Path, never: &str, ready: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let history = std::fs::read_dir(dir.join("results"))
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .and_then(|e| std::fs::read_dir(e.path()).ok()?.next()?.ok())
            .and_then(|run| std::fs::read_to_string(run.path().join("history.jsonl")).ok())
            .unwrap_or_default();
        if ready(&history) {
            return;
        }
        assert!(Instant::now() < deadline, "{never}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
