//! Shared helpers for the cluster, proxy and nemesis behaviour tests: a stand-in node
//! (`test_node.py`), a spec for it, a fixed-address network backend, and orphan checks.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use faultline::cluster::ClusterSpec;
use faultline::net::{Link, NetBackend, NetError, NodeEndpoints};
use nix::errno::Errno;
use nix::sys::signal::killpg;
use nix::unistd::Pid;

/// The stand-in node script.
pub fn test_node() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/test_node.py")
}

/// The real python3 interpreter (not a version-manager shim, which costs ~0.3 s per node start),
/// or `None` if there is none.
pub fn python() -> Option<&'static Path> {
    static PYTHON: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let out = std::process::Command::new("python3")
                .args(["-c", "import sys; print(sys.executable)"])
                .output()
                .ok()
                .filter(|o| o.status.success())?;
            let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            path.is_file().then_some(path)
        })
        .as_deref()
}

/// Whether the stand-in node can run here. Under `CI=true` a missing python3 is a failure, not
/// a skip.
pub fn can_run_nodes(test: &str) -> bool {
    let ok = python().is_some();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: python3 is required for the stand-in node under CI"
        );
        eprintln!("skipping {test}: python3 not found (install python3 to run it)");
    }
    ok
}

/// A spec that starts `nodes` stand-in nodes; `extra` is appended to every node's args.
pub fn node_spec(nodes: usize, extra: &[&str]) -> ClusterSpec {
    let mut args = vec![
        test_node().display().to_string(),
        "--id".to_string(),
        "{id}".into(),
        "--client-addr".into(),
        "{client_addr}".into(),
        "--peer-addr".into(),
        "{peer_addr}".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args = args
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        "name = \"test\"\nnodes = {nodes}\ncommand = {:?}\nargs = [{args}]\nready = {{ http_get = \"/health\", timeout = \"10s\" }}\n",
        python()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "python3".into())
    );
    ClusterSpec::parse(&text, Path::new("tests/support/test.toml")).expect("test spec is valid")
}

/// A backend with fixed endpoints and no partitions (for port-collision tests).
pub struct StaticNet(pub Vec<NodeEndpoints>);

impl NetBackend for StaticNet {
    fn name(&self) -> &'static str {
        "static"
    }
    fn endpoints(&self) -> &[NodeEndpoints] {
        &self.0
    }
    fn set_cuts(&self, _: &BTreeSet<Link>) -> Result<(), NetError> {
        Err(NetError::Unsupported(
            "static backend cannot cut links".into(),
        ))
    }
    fn shutdown(&self) -> Result<(), NetError> {
        Ok(())
    }
}

/// Wait (up to 3 s) until no process is left in the group `pgid`; true if the group is gone.
pub fn group_gone(pgid: u32) -> bool {
    let pgid = Pid::from_raw(pgid as i32);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        if killpg(pgid, None) == Err(Errno::ESRCH) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// GET `http://addr/path` with a short timeout; the status code or `None` on any error.
pub async fn get(addr: std::net::SocketAddr, path: &str, timeout: Duration) -> Option<u16> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .ok()?;
    client
        .get(format!("http://{addr}{path}"))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}
