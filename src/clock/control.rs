//! [`ClockControl`]: one run's libfaketime control files and the environment its nodes start with.
//!
//! Each node gets `<dir>/<id>.faketime`, holding a relative offset in libfaketime's syntax
//! (`+0.000`, `-5.000`: seconds with a `.` decimal point, which is why the node must not switch to
//! a locale with a decimal comma). Files are replaced atomically (write + rename), so a node never
//! reads half a line. The directory is `<temp>/faultline-clock/<pid>-<start time>-<n>`: the
//! owner's pid and kernel start time, so a run can tell a live owner from a dead one whose pid
//! was reused, and a per-process number (one process may run several tests at once). Dropping the control removes the directory; creating one first removes the
//! directories of dead owners (a run killed with -9).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use super::ClockError;
use crate::net::NodeId;
use crate::owner::start_time;

/// Where every run's control directories live, under the system temp dir.
pub const CONTROL_ROOT: &str = "faultline-clock";

/// One run's clock control files.
#[derive(Debug)]
pub struct ClockControl {
    dir: PathBuf,
    lib: PathBuf,
    monotonic: bool,
    /// Current offset of every node, milliseconds. Invariant: every node has a file.
    offsets: Mutex<BTreeMap<NodeId, i64>>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ClockError + '_ {
    move |source| ClockError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// libfaketime's relative offset syntax for `ms` milliseconds: `+1.250`, `-5.000`.
pub fn offset_text(ms: i64) -> String {
    let sign = if ms < 0 { '-' } else { '+' };
    let a = ms.unsigned_abs();
    format!("{sign}{}.{:03}", a / 1000, a % 1000)
}

impl ClockControl {
    /// Control files for `nodes` (all at offset 0) under the default root, preloading `lib`;
    /// `monotonic` says whether CLOCK_MONOTONIC moves too. Removes dead runs' directories first.
    pub fn create(lib: PathBuf, nodes: &[NodeId], monotonic: bool) -> Result<Self, ClockError> {
        Self::create_in(
            &std::env::temp_dir().join(CONTROL_ROOT),
            lib,
            nodes,
            monotonic,
        )
    }

    /// [`Self::create`] under `root` (tests).
    pub fn create_in(
        root: &Path,
        lib: PathBuf,
        nodes: &[NodeId],
        monotonic: bool,
    ) -> Result<Self, ClockError> {
        std::fs::create_dir_all(root).map_err(io(root))?;
        sweep(root);
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let pid = std::process::id();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = root.join(format!("{pid}-{}-{n}", start_time(pid).unwrap_or(0)));
        // A stale directory with our exact name cannot have a live owner: reuse it.
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let control = ClockControl {
            dir,
            lib,
            monotonic,
            offsets: Mutex::new(nodes.iter().map(|n| (n.clone(), 0)).collect()),
        };
        for n in nodes {
            control.write(n, 0)?;
        }
        Ok(control)
    }

    /// The control directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Node `id`'s control file.
    pub fn file(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.faketime"))
    }

    /// The environment a node starts with, as cluster-spec templates: `FAKETIME_TIMESTAMP_FILE`
    /// holds the `{id}` placeholder. `LD_PRELOAD` lists libfaketime first, then `existing`.
    pub fn env_templates(&self, existing_preload: Option<&str>) -> Vec<(String, String)> {
        let escaped = self
            .dir
            .display()
            .to_string()
            .replace('{', "{{")
            .replace('}', "}}");
        self.env(existing_preload, format!("{escaped}/{{id}}.faketime"))
    }

    /// The environment node `id` starts with (placeholders rendered).
    pub fn env_for(&self, id: &str, existing_preload: Option<&str>) -> Vec<(String, String)> {
        self.env(existing_preload, self.file(id).display().to_string())
    }

    fn env(&self, existing_preload: Option<&str>, file: String) -> Vec<(String, String)> {
        let mut preload = self.lib.display().to_string();
        if let Some(p) = existing_preload.filter(|p| !p.trim().is_empty()) {
            preload = format!("{preload}:{p}");
        }
        let mut env = vec![
            ("LD_PRELOAD".to_string(), preload),
            ("FAKETIME_TIMESTAMP_FILE".to_string(), file),
            ("FAKETIME_NO_CACHE".to_string(), "1".to_string()),
        ];
        if !self.monotonic {
            env.push(("FAKETIME_DONT_FAKE_MONOTONIC".to_string(), "1".to_string()));
        }
        env
    }

    /// Move node `id`'s clock to `ms` milliseconds from true time (0 = true time).
    pub fn set_offset(&self, id: &str, ms: i64) -> Result<(), ClockError> {
        let mut offsets = self.offsets.lock().unwrap_or_else(|e| e.into_inner());
        let slot = offsets
            .get_mut(id)
            .ok_or_else(|| ClockError::UnknownNode(id.to_string()))?;
        self.write(id, ms)?;
        *slot = ms;
        Ok(())
    }

    /// Node `id`'s current offset in milliseconds (0 for unknown nodes).
    pub fn offset(&self, id: &str) -> i64 {
        let offsets = self.offsets.lock().unwrap_or_else(|e| e.into_inner());
        offsets.get(id).copied().unwrap_or(0)
    }

    /// Nodes whose clock is currently moved.
    pub fn skewed(&self) -> Vec<NodeId> {
        let offsets = self.offsets.lock().unwrap_or_else(|e| e.into_inner());
        offsets
            .iter()
            .filter(|(_, ms)| **ms != 0)
            .map(|(n, _)| n.clone())
            .collect()
    }

    fn write(&self, id: &str, ms: i64) -> Result<(), ClockError> {
        let path = self.file(id);
        let tmp = self.dir.join(format!(".{id}.faketime.tmp"));
        std::fs::write(&tmp, format!("{}\n", offset_text(ms))).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))
    }
}

impl Drop for ClockControl {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("cannot remove {}: {e}", self.dir.display());
            }
        }
    }
}

/// Remove the control directories under `root` whose owner (pid + start time) is gone.
fn sweep(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let mut parts = name.splitn(3, '-');
        let (Some(pid), Some(start), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (Ok(pid), Ok(start), Ok(_)) =
            (pid.parse::<u32>(), start.parse::<u64>(), n.parse::<u32>())
        else {
            continue; // not ours: never touch it
        };
        if start_time(pid) != Some(start) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes() -> Vec<NodeId> {
        vec!["n1".into(), "n2".into()]
    }

    #[test]
    fn offsets_are_written_in_libfaketime_syntax_and_removed_on_drop() {
        assert_eq!(offset_text(0), "+0.000");
        assert_eq!(offset_text(-5000), "-5.000");
        assert_eq!(offset_text(1250), "+1.250");
        assert_eq!(offset_text(-7), "-0.007");
        let root = tempfile::tempdir().unwrap();
        let c = ClockControl::create_in(root.path(), "/lib/ft.so".into(), &nodes(), false).unwrap();
        let read = |id: &str| std::fs::read_to_string(c.file(id)).unwrap();
        assert_eq!(read("n1"), "+0.000\n");
        c.set_offset("n2", -2500).unwrap();
        assert_eq!(read("n2"), "-2.500\n");
        assert_eq!(c.offset("n2"), -2500);
        assert_eq!(c.skewed(), ["n2"]);
        assert!(c.set_offset("n9", 1).is_err());
        let env = c.env_for("n1", Some("/other.so"));
        assert!(env.contains(&("LD_PRELOAD".into(), "/lib/ft.so:/other.so".into())));
        assert!(env.contains(&("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into())));
        let t = c.env_templates(None);
        assert!(t
            .iter()
            .any(|(k, v)| k == "FAKETIME_TIMESTAMP_FILE" && v.ends_with("/{id}.faketime")));
        let dir = c.dir().to_path_buf();
        drop(c);
        assert!(!dir.exists());
    }

    #[test]
    fn creating_sweeps_directories_of_dead_owners_only() {
        let root = tempfile::tempdir().unwrap();
        // pid 0 never has a /proc entry: a dead owner. A foreign name is left alone.
        let dead = root.path().join("999999999-12345-0");
        std::fs::create_dir_all(&dead).unwrap();
        let foreign = root.path().join("not-ours");
        std::fs::create_dir_all(&foreign).unwrap();
        let live = ClockControl::create_in(root.path(), "/x.so".into(), &nodes(), true).unwrap();
        assert!(!dead.exists());
        assert!(foreign.exists());
        // A second control of the same (live) process does not sweep the first.
        let other_root_entry = live.dir().to_path_buf();
        sweep(root.path());
        assert!(other_root_entry.exists());
    }
}
