//! The run directory: `results/<name>/<UTC timestamp>/`, its `test.toml`, `results.json`, and the
//! `results/latest` symlink. Writes files atomically (temp file + rename) where a reader may look.

use std::path::{Path, PathBuf};

use super::RunError;
use crate::report::RunResults;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Create `results_dir/name/<timestamp>` (suffixed `-2`, `-3`, ... if taken); returns it and the
/// UTC start time in RFC 3339.
pub fn create_run_dir(results_dir: &Path, name: &str) -> Result<(PathBuf, String), RunError> {
    let now = chrono::Utc::now();
    let stamp = now.format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let parent = results_dir.join(name);
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    for n in 1..1000 {
        let dir = if n == 1 {
            parent.join(&stamp)
        } else {
            parent.join(format!("{stamp}-{n}"))
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                return Ok((
                    dir,
                    now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(&dir)(e)),
        }
    }
    Err(RunError::Io {
        path: parent,
        source: std::io::Error::other("too many runs with the same timestamp"),
    })
}

/// Write `text` to `path` via a temp file and rename.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), RunError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Write `results.json`.
pub fn write_results(run_dir: &Path, results: &RunResults) -> Result<(), RunError> {
    let text = serde_json::to_string_pretty(results).map_err(|e| RunError::Io {
        path: run_dir.join("results.json"),
        source: std::io::Error::other(e),
    })?;
    write_atomic(&run_dir.join("results.json"), &text)
}

/// Point `results_dir/latest` at `run_dir` (relative link, replaced atomically).
pub fn update_latest(results_dir: &Path, run_dir: &Path) -> Result<(), RunError> {
    let target = run_dir.strip_prefix(results_dir).unwrap_or(run_dir);
    let link = results_dir.join("latest");
    let tmp = results_dir.join(format!(".latest.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &link).map_err(io(&link))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_dirs_are_unique_and_latest_follows() {
        let root = tempfile::tempdir().unwrap();
        let (a, started) = create_run_dir(root.path(), "t").unwrap();
        let (b, _) = create_run_dir(root.path(), "t").unwrap();
        assert_ne!(a, b);
        assert!(started.ends_with('Z'));
        update_latest(root.path(), &a).unwrap();
        update_latest(root.path(), &b).unwrap();
        let latest = std::fs::canonicalize(root.path().join("latest")).unwrap();
        assert_eq!(latest, std::fs::canonicalize(&b).unwrap());
    }
}
