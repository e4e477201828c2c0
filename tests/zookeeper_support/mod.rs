//! Shared helpers of the ZooKeeper tests: when they may run, the bundled specs, and what a
//! ZooKeeper server could leave outside its run directory.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use faultline::cluster::ClusterSpec;

use crate::netns_support::can_run;

/// The jar every ZooKeeper spec needs.
pub const JAR: &str = "/usr/share/java/zookeeper.jar";

/// Root, nftables and a JVM with ZooKeeper's jars (always under `CI=true`).
pub fn can_run_zk() -> bool {
    if !can_run(false) {
        return false;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        return true;
    }
    if !Path::new(JAR).exists()
        || std::process::Command::new("java")
            .arg("-version")
            .output()
            .is_err()
    {
        eprintln!("skipping: needs java and {JAR} (apt-get install zookeeper; CI=true forces)");
        return false;
    }
    true
}

pub fn spec(name: &str) -> ClusterSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("clusters")
        .join(name);
    ClusterSpec::load(&path).expect("bundled zookeeper spec parses")
}

/// Where the JVM may have files open or mapped: its run directory and read-only system paths.
pub fn allowed(path: &str, run_dir: &Path) -> bool {
    Path::new(path).starts_with(run_dir)
        || [
            "/usr/",
            "/etc/",
            "/dev/",
            "/proc/",
            "/sys/",
            "/lib",
            "/run/netns/",
        ]
        .iter()
        .any(|p| path.starts_with(p))
}

/// Every file the process `pid` holds open (fd) or mapped (maps) outside the allowed paths.
pub fn stray_open_files(pid: u32, run_dir: &Path) -> Vec<String> {
    let mut paths = BTreeSet::new();
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fd dir")
        .flatten()
    {
        if let Ok(t) = std::fs::read_link(fd.path()) {
            paths.insert(t.to_string_lossy().into_owned());
        }
    }
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("maps");
    for line in maps.lines() {
        if let Some(p) = line.split_whitespace().nth(5) {
            paths.insert(p.to_string());
        }
    }
    paths
        .into_iter()
        .filter(|p| p.starts_with('/') && !allowed(p, run_dir))
        .collect()
}

/// Names ZooKeeper or the JVM write when left to their defaults, in the places they write them.
pub fn default_droppings() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let dirs = [
        PathBuf::from("/tmp"),
        PathBuf::from(home),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    ];
    for dir in dirs {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name == "zookeeper.out"
                || name.starts_with("hs_err_pid")
                || name == "zookeeper_server.pid"
            {
                found.insert(e.path().display().to_string());
            }
        }
    }
    for dir in ["/var/log/zookeeper", "/var/lib/zookeeper", "/tmp/zookeeper"] {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            found.insert(e.path().display().to_string());
        }
    }
    found
}
