//! Running one `faultline test` plan in-process for the harness benchmarks (`bugs`,
//! `throughput`): results go to a temporary directory that is removed afterwards.

use std::path::Path;
use std::time::{Duration, Instant};

use super::BenchError;
use crate::plan::{Plan, PlanInput};
use crate::runner::{self, RunReport};

/// One finished run and how long it took (wall clock, setup and checking included).
pub struct Finished {
    /// What the runner returned.
    pub report: RunReport,
    /// Wall time of the whole run.
    pub wall: Duration,
}

/// Resolve `input` (results under `dir`) and run it on `rt`.
pub fn run_plan(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    mut input: PlanInput,
) -> Result<Finished, BenchError> {
    input.results_dir = Some(dir.to_path_buf());
    let plan = Plan::resolve(&input).map_err(|e| BenchError(e.to_string()))?;
    let t0 = Instant::now();
    let report = rt
        .block_on(runner::run(&plan))
        .map_err(|e| BenchError(format!("{} (run in {})", e.error, e.run_dir.display())))?;
    Ok(Finished {
        report,
        wall: t0.elapsed(),
    })
}

/// A multi-threaded runtime for the benchmark runs.
pub fn runtime() -> Result<tokio::runtime::Runtime, BenchError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| BenchError(format!("cannot start the async runtime: {e}")))
}

/// A scratch directory for stored runs, removed on drop.
pub fn scratch() -> Result<tempfile_dir::TempDir, BenchError> {
    tempfile_dir::TempDir::new()
        .map_err(|e| BenchError(format!("cannot create a scratch dir: {e}")))
}

/// A minimal self-removing temporary directory (tempfile is a dev-dependency only).
pub mod tempfile_dir {
    use std::path::{Path, PathBuf};

    /// A directory under the system temp dir, removed (recursively) on drop.
    pub struct TempDir(PathBuf);

    impl TempDir {
        /// Create `faultline-bench-<pid>-<n>` under the temp dir.
        pub fn new() -> std::io::Result<TempDir> {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let p =
                std::env::temp_dir().join(format!("faultline-bench-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&p)?;
            Ok(TempDir(p))
        }

        /// The path.
        pub fn path(&self) -> &Path {
            &self.0
        }

        /// Keep the directory (it is not removed) and return its path.
        pub fn keep(self) -> PathBuf {
            let path = self.0.clone();
            std::mem::forget(self);
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Median of `v` (0 when empty).
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}
