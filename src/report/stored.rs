//! Loading a stored run (`results/<test>/<time>/`): `results.json` and `history.jsonl`.

use std::path::{Path, PathBuf};

use crate::history::{self, Format, History, HistoryError};
use crate::report::error::ReportError;
use crate::report::results::RunResults;

/// File names inside a results directory.
pub const RESULTS_JSON: &str = "results.json";
/// The recorded history.
pub const HISTORY_JSONL: &str = "history.jsonl";
/// The rendered HTML report.
pub const REPORT_HTML: &str = "report.html";

/// A run loaded back from its results directory.
#[derive(Debug, Clone)]
pub struct StoredRun {
    /// The directory.
    pub dir: PathBuf,
    /// `results.json`.
    pub results: RunResults,
    /// `history.jsonl`.
    pub history: History,
}

fn read(path: &Path) -> Result<String, ReportError> {
    std::fs::read_to_string(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ReportError::Missing {
            path: path.to_path_buf(),
        },
        _ => ReportError::Io {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// Load `results.json` and `history.jsonl` from `dir`.
pub fn load_run(dir: &Path) -> Result<StoredRun, ReportError> {
    let rpath = dir.join(RESULTS_JSON);
    let results: RunResults =
        serde_json::from_str(&read(&rpath)?).map_err(|e| ReportError::Parse {
            path: rpath.clone(),
            line: e.line(),
            message: format!("not a valid results.json: {e}"),
        })?;
    let hpath = dir.join(HISTORY_JSONL);
    let history = load_history(&hpath)?;
    Ok(StoredRun {
        dir: dir.to_path_buf(),
        results,
        history,
    })
}

/// Read `history.jsonl` with the history module's reader. An empty file is an empty history
/// (a run aborted before its first op still has a report).
fn load_history(path: &Path) -> Result<History, ReportError> {
    if !path.exists() {
        return Err(ReportError::Missing {
            path: path.to_path_buf(),
        });
    }
    match history::load(path, Some(Format::Jsonl)) {
        Ok(h) => Ok(h),
        Err(HistoryError::Empty { .. }) => Ok(History::default()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_history_lines_are_named_and_empty_histories_load() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join(HISTORY_JSONL);
        std::fs::write(
            &p,
            "{\"index\":0,\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n{oops\n",
        )
        .expect("write");
        let err = load_history(&p)
            .map(|h| h.ops.len())
            .unwrap_err()
            .to_string();
        assert!(err.contains("history.jsonl") && err.contains('2'), "{err}");
        std::fs::write(&p, "").expect("write");
        assert_eq!(load_history(&p).map(|h| h.ops.len()).ok(), Some(0));
        let missing = load_history(&dir.path().join("nope.jsonl"))
            .map(|h| h.ops.len())
            .unwrap_err();
        assert!(matches!(missing, ReportError::Missing { .. }));
    }
}
