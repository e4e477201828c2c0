//! The bundled cluster, workload and nemesis files, compiled in so that defaults and short names
//! (`--workload kv`, `--nemesis kill`) work from any directory.

use std::path::{Path, PathBuf};

/// Where a spec file's text comes from.
pub enum Source {
    /// A file on disk.
    File(PathBuf),
    /// A bundled file: its canonical relative path and text.
    Bundled(&'static str, &'static str),
}

const FILES: &[(&str, &str)] = &[
    (
        "clusters/raft.toml",
        include_str!("../../clusters/raft.toml"),
    ),
    (
        "workloads/register.toml",
        include_str!("../../workloads/register.toml"),
    ),
    (
        "workloads/cas-register.toml",
        include_str!("../../workloads/cas-register.toml"),
    ),
    ("workloads/kv.toml", include_str!("../../workloads/kv.toml")),
    (
        "workloads/list-append.toml",
        include_str!("../../workloads/list-append.toml"),
    ),
    (
        "workloads/rw-register.toml",
        include_str!("../../workloads/rw-register.toml"),
    ),
    (
        "workloads/contention.toml",
        include_str!("../../workloads/contention.toml"),
    ),
    ("nemesis/none.toml", include_str!("../../nemesis/none.toml")),
    ("nemesis/kill.toml", include_str!("../../nemesis/kill.toml")),
    (
        "nemesis/pause.toml",
        include_str!("../../nemesis/pause.toml"),
    ),
    (
        "nemesis/partition-halves.toml",
        include_str!("../../nemesis/partition-halves.toml"),
    ),
    (
        "nemesis/partition-leader.toml",
        include_str!("../../nemesis/partition-leader.toml"),
    ),
    (
        "nemesis/partition-ring.toml",
        include_str!("../../nemesis/partition-ring.toml"),
    ),
    (
        "nemesis/bridge.toml",
        include_str!("../../nemesis/bridge.toml"),
    ),
    (
        "nemesis/mixed.toml",
        include_str!("../../nemesis/mixed.toml"),
    ),
    (
        "nemesis/default.toml",
        include_str!("../../nemesis/default.toml"),
    ),
    (
        "clusters/etcd.toml",
        include_str!("../../clusters/etcd.toml"),
    ),
    (
        "nemesis/kill-all.toml",
        include_str!("../../nemesis/kill-all.toml"),
    ),
    (
        "nemesis/kill-leader.toml",
        include_str!("../../nemesis/kill-leader.toml"),
    ),
    (
        "nemesis/pause-leader.toml",
        include_str!("../../nemesis/pause-leader.toml"),
    ),
    (
        "nemesis/reelect-deposed.toml",
        include_str!("../../nemesis/reelect-deposed.toml"),
    ),
    (
        "nemesis/election-flap.toml",
        include_str!("../../nemesis/election-flap.toml"),
    ),
    (
        "nemesis/vote-twice.toml",
        include_str!("../../nemesis/vote-twice.toml"),
    ),
    (
        "nemesis/lose-unfsynced.toml",
        include_str!("../../nemesis/lose-unfsynced.toml"),
    ),
    (
        "nemesis/torn-write.toml",
        include_str!("../../nemesis/torn-write.toml"),
    ),
    (
        "nemesis/disk-error.toml",
        include_str!("../../nemesis/disk-error.toml"),
    ),
    (
        "nemesis/disk-full.toml",
        include_str!("../../nemesis/disk-full.toml"),
    ),
    (
        "clusters/raft-no-prevote.toml",
        include_str!("../../clusters/raft-no-prevote.toml"),
    ),
    (
        "clusters/zookeeper.toml",
        include_str!("../../clusters/zookeeper.toml"),
    ),
    (
        "clusters/zookeeper-sync.toml",
        include_str!("../../clusters/zookeeper-sync.toml"),
    ),
    (
        "nemesis/clock-skew.toml",
        include_str!("../../nemesis/clock-skew.toml"),
    ),
    (
        "nemesis/clock-strobe.toml",
        include_str!("../../nemesis/clock-strobe.toml"),
    ),
    (
        "nemesis/skew-isolate-leader.toml",
        include_str!("../../nemesis/skew-isolate-leader.toml"),
    ),
    (
        "nemesis/delay.toml",
        include_str!("../../nemesis/delay.toml"),
    ),
    ("nemesis/slow.toml", include_str!("../../nemesis/slow.toml")),
    (
        "nemesis/flaky.toml",
        include_str!("../../nemesis/flaky.toml"),
    ),
    ("nemesis/loss.toml", include_str!("../../nemesis/loss.toml")),
];

/// Resolve `path` (a flag value) in directory `dir` (`clusters`, `workloads`, `nemesis`): an
/// existing file wins; otherwise a bundled file with that path or bare name (`kv`, `kv.toml`);
/// otherwise the path as given, so loading reports "cannot read" with the user's path.
pub fn resolve_file(path: &Path, dir: &str) -> Source {
    if path.exists() {
        return Source::File(path.to_path_buf());
    }
    let given = path.to_string_lossy();
    let bare = given.trim_end_matches(".toml");
    let wanted = if bare.contains('/') {
        format!("{bare}.toml")
    } else {
        format!("{dir}/{bare}.toml")
    };
    FILES
        .iter()
        .find(|(p, _)| *p == wanted)
        .map(|(p, t)| Source::Bundled(p, t))
        .unwrap_or_else(|| Source::File(path.to_path_buf()))
}
