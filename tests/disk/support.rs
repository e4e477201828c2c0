//! Shared helpers for the disk-fault tests: whether the lazy filesystem and the netns backend can
//! run here (a failure under `CI=true`, a printed skip elsewhere) and checks that no mount
//! outlived a test.

#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

/// Whether root and /dev/fuse are available. Under `CI=true` their absence fails the test.
pub fn lazyfs_available(test: &str) -> bool {
    match faultline::disk::requirements() {
        Ok(()) => true,
        Err(m) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: the lazy filesystem {m}; CI must run this test (as root, with fuse3)"
            );
            eprintln!("skipping {test}: the lazy filesystem {m}");
            false
        }
    }
}

/// Lazy-filesystem mounts under `dir` (from /proc/self/mountinfo).
pub fn mounts_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    faultline::disk::our_mounts()
        .into_iter()
        .filter(|m| m.starts_with(&dir))
        .collect()
}

/// Assert that no lazy filesystem is mounted under `dir` (allowing a moment for a lazy unmount).
pub fn assert_no_mounts_under(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left = mounts_under(dir);
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            panic!("lazy filesystems outlived the test: {left:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether `--net netns` works here. Under `CI=true` its absence fails the test.
pub fn netns_available(test: &str) -> bool {
    let ok = faultline::net::netns::NetnsBackend::check_supported().is_ok();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: --net netns needs root, ip and nft under CI"
        );
        eprintln!("skipping {test}: --net netns is not available");
    }
    ok
}
