//! Loading a stored run (`results/<test>/<time>/`): `results.json` and `history.jsonl`.
//!
//! The JSONL reader here is deliberately minimal (one `Op` per non-blank line, strict); the
//! history module owns the full reader with well-formedness validation.

use std::path::{Path, PathBuf};

use crate::history::{History, Op};
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
    let history = parse_jsonl(&read(&hpath)?, &hpath)?;
    Ok(StoredRun {
        dir: dir.to_path_buf(),
        results,
        history,
    })
}

/// Parse a JSONL history: one op per non-blank line.
pub fn parse_jsonl(text: &str, path: &Path) -> Result<History, ReportError> {
    let mut ops = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let op: Op = serde_json::from_str(line).map_err(|e| ReportError::Parse {
            path: path.to_path_buf(),
            line: i + 1,
            message: format!("not a history op: {e}"),
        })?;
        ops.push(op);
    }
    Ok(History { ops })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_errors_name_the_line() {
        let text = "{\"index\":0,\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n\n{oops\n";
        let err = parse_jsonl(text, Path::new("h.jsonl"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("h.jsonl:3: not a history op"), "{err}");
        let ok =
            parse_jsonl(&text[..text.find('\n').unwrap_or(0)], Path::new("h")).map(|h| h.ops.len());
        assert_eq!(ok.ok(), Some(1));
    }
}
