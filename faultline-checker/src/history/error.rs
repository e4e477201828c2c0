//! `HistoryError`: everything that can be wrong with a history file, rendered as one line that
//! starts with where (`file:line: `) and says what is wrong and, where useful, what to do.

use std::fmt;

/// Where in an input a problem was found. Either part may be unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The file name as the user gave it (or `<stdin>`), when known.
    pub file: Option<String>,
    /// 1-based line number, when known.
    pub line: Option<u64>,
}

impl Location {
    /// A location with only a line number.
    pub fn line(line: u64) -> Self {
        Location {
            file: None,
            line: Some(line),
        }
    }
}

impl fmt::Display for Location {
    /// Renders `file:line: `, `file: `, `line N: ` or nothing, ready to prefix a message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: "),
            (Some(file), None) => write!(f, "{file}: "),
            (None, Some(line)) => write!(f, "line {line}: "),
            (None, None) => Ok(()),
        }
    }
}

/// A history that could not be read or is not well formed. Bad input, never a verdict.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file could not be opened or read.
    // The cause is part of the message and deliberately not a `#[source]`: `anyhow`'s `{:#}`
    // would print it twice.
    #[error("{file}: cannot read history: {cause}")]
    Io {
        /// The file name as given.
        file: String,
        /// The underlying error.
        cause: std::io::Error,
    },
    /// The text is not valid JSONL / EDN, or a field has the wrong type.
    #[error("{at}{message}")]
    Syntax {
        /// Where.
        at: Location,
        /// What is wrong.
        message: String,
    },
    /// The input holds no ops at all.
    #[error("{at}history is empty (no ops); pass a file with at least one op")]
    Empty {
        /// Where (the file only).
        at: Location,
    },
    /// The ops parse, but break the history rules (process discipline, indices).
    #[error("{at}{message} (op index {index})")]
    Malformed {
        /// Where (line of the offending op when known).
        at: Location,
        /// History index of the offending op.
        index: u64,
        /// What is wrong.
        message: String,
    },
}

impl HistoryError {
    /// A syntax error at a line (file filled in later by [`Self::in_file`]).
    pub(crate) fn syntax(line: Option<u64>, message: impl Into<String>) -> Self {
        HistoryError::Syntax {
            at: Location { file: None, line },
            message: message.into(),
        }
    }

    /// Attach the file name, unless one is already set.
    pub fn in_file(mut self, name: &str) -> Self {
        if let Some(at) = self.location_mut() {
            if at.file.is_none() {
                at.file = Some(name.to_string());
            }
        }
        self
    }

    /// Attach the file name unless it is empty (histories built in memory have none).
    pub fn in_file_if(self, name: &str) -> Self {
        if name.is_empty() {
            self
        } else {
            self.in_file(name)
        }
    }

    /// The location, for variants that have one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            HistoryError::Io { .. } => None,
            HistoryError::Syntax { at, .. }
            | HistoryError::Empty { at }
            | HistoryError::Malformed { at, .. } => Some(at),
        }
    }

    fn location_mut(&mut self) -> Option<&mut Location> {
        match self {
            HistoryError::Io { .. } => None,
            HistoryError::Syntax { at, .. }
            | HistoryError::Empty { at }
            | HistoryError::Malformed { at, .. } => Some(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_and_index_on_one_line() {
        let e = HistoryError::Malformed {
            at: Location::line(12),
            index: 11,
            message: "completion for process 3 has no pending invoke".into(),
        }
        .in_file_if("")
        .in_file_if("history.jsonl");
        assert_eq!(
            e.to_string(),
            "history.jsonl:12: completion for process 3 has no pending invoke (op index 11)"
        );
    }

    #[test]
    fn keeps_the_first_file_name() {
        let e = HistoryError::syntax(Some(3), "bad")
            .in_file("a.edn")
            .in_file("b.edn");
        assert_eq!(e.to_string(), "a.edn:3: bad");
        let e = HistoryError::Empty {
            at: Location::default(),
        }
        .in_file("h.jsonl");
        assert!(e.to_string().starts_with("h.jsonl: history is empty"));
    }
}
