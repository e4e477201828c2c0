//! Errors of the report module (loading a stored run, writing report files).

use std::io::Write;
use std::path::{Path, PathBuf};

/// What went wrong loading a stored run or writing a report file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A required file of a results directory is missing.
    #[error("{path} not found: is this a faultline results directory (results/<test>/<time>/)?")]
    Missing {
        /// The missing file.
        path: PathBuf,
    },
    /// `history.jsonl` could not be read (the message names the file and line).
    #[error(transparent)]
    History(#[from] crate::history::HistoryError),
    /// A file could not be parsed.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line (1 for whole-file JSON documents when unknown).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Write `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader never sees a half-written file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
