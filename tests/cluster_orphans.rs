//! A controller killed with SIGKILL (no destructors run) still leaves no node behind: nodes carry
//! a parent-death signal. The test re-runs this test binary as a throw-away controller.

mod support;

use std::time::{Duration, Instant};

use faultline::cluster::Cluster;
use faultline::net::ProxyBackend;
use support::{can_run_nodes, group_gone, node_spec};

const HELPER_ENV: &str = "FAULTLINE_ORPHAN_HELPER_OUT";

/// Not a test: the throw-away controller, run by the test below with `--ignored`. Starts a
/// cluster, publishes its pids, then hangs until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "helper process for a_controller_killed_with_sigkill_leaves_no_orphans"]
async fn orphan_helper_controller() {
    let Ok(out) = std::env::var(HELPER_ENV) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let net = ProxyBackend::for_nodes(&tokio::runtime::Handle::current(), 3).unwrap();
    let c = Cluster::start(&node_spec(3, &[]), &net, dir.path())
        .await
        .unwrap();
    let pids: Vec<String> = c
        .node_ids()
        .iter()
        .filter_map(|id| c.pid(id))
        .map(|p| p.to_string())
        .collect();
    std::fs::write(format!("{out}.tmp"), pids.join("\n")).unwrap();
    std::fs::rename(format!("{out}.tmp"), &out).unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
}

#[test]
fn a_controller_killed_with_sigkill_leaves_no_orphans() {
    if !can_run_nodes("a_controller_killed_with_sigkill_leaves_no_orphans") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pids");
    let mut helper = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "orphan_helper_controller",
            "--ignored",
            "--nocapture",
        ])
        .env(HELPER_ENV, &out)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !out.exists() {
        assert!(
            Instant::now() < deadline,
            "helper did not start its cluster"
        );
        assert!(helper.try_wait().unwrap().is_none(), "helper exited early");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pids: Vec<u32> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 3);
    helper.kill().unwrap(); // SIGKILL: no Drop runs in the helper
    helper.wait().unwrap();
    for pid in pids {
        assert!(group_gone(pid), "node group {pid} outlived its controller");
    }
}
