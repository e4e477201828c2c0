//! Loading a history file: choosing JSONL or EDN (by `--format`, by extension, or by sniffing
//! the first bytes), reading it into compact form, and remembering which line each op came from
//! so later errors (validation, models) can point at `file:line`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::edn::parse_edn_with_lines;
use super::jsonl::MAX_LINE_BYTES;
use super::jsonl_fast::read_jsonl_compact;
use super::{CompactHistory, History, HistoryError};

/// A history file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON Lines, one op object per line (faultline's own format).
    Jsonl,
    /// Jepsen / Knossos EDN (vector, list or bare stream of op maps).
    Edn,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "jsonl" | "json" => Ok(Format::Jsonl),
            "edn" => Ok(Format::Edn),
            _ => Err(format!("unknown format {s:?}; expected jsonl or edn")),
        }
    }
}

impl Format {
    /// The format implied by a file extension (`.jsonl`, `.json`, `.edn`), if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "jsonl" | "json" | "ndjson" => Some(Format::Jsonl),
            "edn" => Some(Format::Edn),
            _ => None,
        }
    }

    /// Guess from the first bytes: `[`, `(`, `;`, `#` or `{:` mean EDN; anything else JSONL.
    pub fn sniff(head: &[u8]) -> Format {
        let mut it = head.iter().copied().filter(|b| !b.is_ascii_whitespace());
        match it.next() {
            Some(b'[' | b'(' | b';' | b'#') => Format::Edn,
            Some(b'{') if it.next() == Some(b':') => Format::Edn,
            _ => Format::Jsonl,
        }
    }
}

/// Load a history from `path` (`-` = stdin) as [`Op`](super::Op)s. `format` overrides the
/// extension; without either, the first bytes decide. Every error names the file. Not validated.
pub fn load(path: &Path, format: Option<Format>) -> Result<History, HistoryError> {
    load_compact(path, format).map(|c| c.to_history())
}

/// Load a history in compact form (JSONL through the parallel fast path), remembering the file
/// name and the line of every op for later errors. Not validated yet
/// ([`CompactHistory::validate`]).
pub fn load_compact(path: &Path, format: Option<Format>) -> Result<CompactHistory, HistoryError> {
    let name = path.display().to_string();
    let io_err = |cause| HistoryError::Io {
        file: name.clone(),
        cause,
    };
    let input: Box<dyn Read + Send> = if name == "-" {
        Box::new(std::io::stdin())
    } else {
        if path.is_dir() {
            return Err(HistoryError::syntax(
                None,
                "is a directory; pass a history file (history.jsonl or *.edn)",
            )
            .in_file(&name));
        }
        Box::new(File::open(path).map_err(io_err)?)
    };
    let file = if name == "-" {
        "<stdin>".to_string()
    } else {
        name.clone()
    };
    let mut reader = BufReader::with_capacity(1 << 16, input);
    let format = match format.or_else(|| Format::from_path(path)) {
        Some(f) => f,
        None => Format::sniff(reader.fill_buf().map_err(io_err)?),
    };
    match format {
        Format::Jsonl => read_jsonl_compact(reader, &file, MAX_LINE_BYTES),
        Format::Edn => {
            let (history, lines) = read_edn(reader).map_err(|e| e.in_file(&file))?;
            let mut c = CompactHistory::from_history(&history).map_err(|e| e.in_file(&file))?;
            c.set_source(&file, &lines);
            Ok(c)
        }
    }
}

/// The largest EDN file read (EDN is parsed in memory; JSONL streams and has no such cap).
pub const MAX_EDN_BYTES: u64 = 1 << 30;

fn read_edn<R: Read>(reader: R) -> Result<(History, Vec<u64>), HistoryError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_EDN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| HistoryError::syntax(None, format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_EDN_BYTES {
        return Err(HistoryError::syntax(
            None,
            "EDN history is larger than 1 GiB; split it or convert it to JSONL",
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count() as u64;
        HistoryError::syntax(
            Some(line),
            "not valid UTF-8 (is this a binary file?); EDN histories are text",
        )
    })?;
    parse_edn_with_lines(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    const EDN: &[u8] =
        b"{:process 0 :type :invoke :f :read}\n{:process 0 :type :ok :f :read :value 1}\n";
    const JSONL: &[u8] = b"{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n";

    #[test]
    fn picks_format_by_flag_extension_or_first_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let l = load_compact(&write(dir.path(), "h.edn", EDN), None).expect("edn");
        assert_eq!((l.len(), l.line(0), l.line(1)), (2, Some(1), Some(2)));
        let l = load_compact(&write(dir.path(), "h.txt", EDN), None).expect("sniffed edn");
        assert_eq!(l.len(), 2);
        let l = load_compact(&write(dir.path(), "h", JSONL), None).expect("sniffed jsonl");
        assert_eq!(l.len(), 1);
        let p = write(dir.path(), "h2.jsonl", EDN);
        let l = load_compact(&p, Some(Format::Edn)).expect("flag wins");
        assert_eq!(l.len(), 2);
        assert!(load(&p, None).is_err());
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope.jsonl");
        let e = load(&missing, None).expect_err("missing").to_string();
        assert!(
            e.starts_with(&format!("{}: cannot read history", missing.display())),
            "{e}"
        );
        let p = write(dir.path(), "bin.edn", b"[{:process 0\xff}]");
        let e = load(&p, None).expect_err("binary").to_string();
        assert!(e.contains("bin.edn:1: not valid UTF-8"), "{e}");
        let p = write(dir.path(), "empty.jsonl", b"");
        let e = load(&p, None).expect_err("empty").to_string();
        assert!(e.contains("empty.jsonl: history is empty"), "{e}");
        let e = load(dir.path(), None).expect_err("dir").to_string();
        assert!(e.contains("is a directory"), "{e}");
    }

    #[test]
    fn validation_errors_point_at_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = b"{\"process\":3,\"type\":\"invoke\",\"f\":\"read\"}\n\n{\"process\":3,\"type\":\"invoke\",\"f\":\"read\"}\n";
        let p = write(dir.path(), "h.jsonl", text);
        let mut l = load_compact(&p, None).expect("load");
        let e = l.validate().expect_err("double invoke").to_string();
        assert!(
            e.starts_with(&format!("{}:3: process 3 invokes", p.display())),
            "{e}"
        );
    }
}
