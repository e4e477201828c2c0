//! Loading a history file: choosing JSONL or EDN (by `--format`, by extension, or by sniffing
//! the first bytes), reading it, and remembering which line each op came from so later errors
//! (validation) can point at `file:line`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::edn::parse_edn_with_lines;
use super::jsonl::{read_jsonl_with_lines, MAX_LINE_BYTES};
use super::{validate, History, HistoryError};

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

/// A loaded history together with where each op came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The ops.
    pub history: History,
    /// The file name as given (`<stdin>` for `-`).
    pub file: String,
    /// The format it was read as.
    pub format: Format,
    /// 1-based line on which op `i` starts.
    pub lines: Vec<u64>,
}

impl Loaded {
    /// Check well-formedness ([`validate`]); errors point at `file:line`.
    pub fn validate(&self) -> Result<(), HistoryError> {
        validate::validate(&self.history)
            .map_err(|e| e.with_op_lines(&self.lines).in_file(&self.file))
    }
}

/// Load a history from `path` (`-` = stdin). `format` overrides the extension; without either,
/// the first bytes decide. Every error names the file.
pub fn load(path: &Path, format: Option<Format>) -> Result<History, HistoryError> {
    load_with_lines(path, format).map(|l| l.history)
}

/// Like [`load`], also returning the line of each op.
pub fn load_with_lines(path: &Path, format: Option<Format>) -> Result<Loaded, HistoryError> {
    let name = path.display().to_string();
    let io_err = |cause| HistoryError::Io {
        file: name.clone(),
        cause,
    };
    let input: Box<dyn Read> = if name == "-" {
        Box::new(std::io::stdin().lock())
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
    let parsed = match format {
        Format::Jsonl => read_jsonl_with_lines(reader, MAX_LINE_BYTES),
        Format::Edn => read_edn(reader),
    };
    let (history, lines) = parsed.map_err(|e| e.in_file(&file))?;
    Ok(Loaded {
        history,
        file,
        format,
        lines,
    })
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
        let l = load_with_lines(&write(dir.path(), "h.edn", EDN), None).expect("edn");
        assert_eq!(
            (l.format, l.history.ops.len(), l.lines),
            (Format::Edn, 2, vec![1, 2])
        );
        let l = load_with_lines(&write(dir.path(), "h.txt", EDN), None).expect("sniffed edn");
        assert_eq!(l.format, Format::Edn);
        let l = load_with_lines(&write(dir.path(), "h", JSONL), None).expect("sniffed jsonl");
        assert_eq!(l.format, Format::Jsonl);
        let p = write(dir.path(), "h2.jsonl", EDN);
        let l = load_with_lines(&p, Some(Format::Edn)).expect("flag wins");
        assert_eq!(l.format, Format::Edn);
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
        let l = load_with_lines(&p, None).expect("load");
        let e = l.validate().expect_err("double invoke").to_string();
        assert!(
            e.starts_with(&format!("{}:3: process 3 invokes", p.display())),
            "{e}"
        );
    }
}
