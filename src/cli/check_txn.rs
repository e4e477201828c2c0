//! `faultline check --model list-append|rw-register`: the transaction checker. JSONL files go
//! through the checker's fast path straight from bytes (no `History` in memory); EDN files, and
//! any check that writes an HTML report (which draws the history), load the history first.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{anyhow, Context};

use super::check::{emit, parse_bytes, parse_duration, CheckArgs};
use crate::checker::txn::{self, TxnError, TxnModel, TxnOptions, TxnReport, TxnVerdict};
use crate::exit::Outcome;
use crate::history::{self, Format, History, HistoryError};

/// Run the transaction checker for `faultline check`.
pub(super) fn run(args: &CheckArgs, model: TxnModel) -> anyhow::Result<Outcome> {
    let file = args.history.display().to_string();
    let opts = options(args, model).with_context(|| format!("cannot check {file}"))?;
    let format = match &args.format {
        Some(f) => Some(
            f.parse::<Format>()
                .map_err(|e| anyhow!("cannot check {file}: --format: {e}"))?,
        ),
        None => Format::from_path(&args.history),
    };
    let fast = format != Some(Format::Edn) && args.report.is_none();
    let (report, loaded) = if fast {
        let mut input = open(&args.history)?;
        let name = shown_name(&args.history);
        let head = input.fill_buf().map_err(|cause| HistoryError::Io {
            file: name.clone(),
            cause,
        })?;
        if format.is_none() && Format::sniff(head) == Format::Edn {
            slow(args, &opts, Some(Format::Edn))?
        } else {
            let r = txn::check_jsonl_read(input, &opts).map_err(|e| {
                let lines = match &e {
                    TxnError::BadOp {
                        index, line: None, ..
                    } => line_of(&args.history, *index),
                    _ => None,
                };
                placed(e, &name, lines.as_deref())
            })?;
            (r, None)
        }
    } else {
        slow(args, &opts, format)?
    };
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&report).context("serializing the report")?;
        s.push('\n');
        s
    } else {
        txn::render_text(&report)
    };
    emit(&text)?;
    if let (Some(path), Some(loaded)) = (&args.report, &loaded) {
        crate::report::write_txn_report(path, &loaded.history, &report, None)
            .with_context(|| format!("--report {}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        crate::report::write_txn_junit(path, &report, &shown_name(&args.history))
            .with_context(|| format!("--junit {}", path.display()))?;
    }
    Ok(match report.valid {
        TxnVerdict::Valid => Outcome::Valid,
        TxnVerdict::Invalid => Outcome::Invalid,
        TxnVerdict::Unknown => Outcome::Unknown,
    })
}

/// A history read through the general loader: the ops, the file name, each op's line.
struct Loaded {
    history: History,
    file: String,
    lines: Vec<u64>,
}

/// Load, validate and check through a `History`.
fn slow(
    args: &CheckArgs,
    opts: &TxnOptions,
    format: Option<Format>,
) -> anyhow::Result<(TxnReport, Option<Loaded>)> {
    let mut compact = history::load_compact(&args.history, format)?;
    compact.validate()?;
    let loaded = Loaded {
        lines: (0..compact.len())
            .map(|pos| compact.line(pos).unwrap_or(0))
            .collect(),
        file: compact.source().to_string(),
        history: compact.to_history(),
    };
    let r = txn::check(&loaded.history, opts)
        .map_err(|e| placed(e, &loaded.file, Some(&loaded.lines)))?;
    Ok((r, Some(loaded)))
}

fn shown_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".into()
    } else {
        path.display().to_string()
    }
}

/// The history file (or standard input) as a buffered stream.
fn open(path: &Path) -> anyhow::Result<BufReader<Box<dyn Read>>> {
    let name = shown_name(path);
    if path.as_os_str() == "-" {
        return Ok(BufReader::with_capacity(
            1 << 16,
            Box::new(std::io::stdin().lock()),
        ));
    }
    if path.is_dir() {
        return Err(anyhow!(
            "{name}: is a directory; pass a history file (history.jsonl or *.edn)"
        ));
    }
    let f = std::fs::File::open(path).map_err(|cause| HistoryError::Io { file: name, cause })?;
    Ok(BufReader::with_capacity(1 << 16, Box::new(f)))
}

/// Line numbers (indexed by op position) up to op `index`, found by reading the file again:
/// the fast path keeps no line table. `None` for standard input.
fn line_of(path: &Path, index: u64) -> Option<Vec<u64>> {
    if path.as_os_str() == "-" {
        return None;
    }
    let f = std::fs::File::open(path).ok()?;
    let mut lines = Vec::new();
    for (n, line) in BufReader::new(f).split(b'\n').enumerate() {
        if !line.ok()?.trim_ascii().is_empty() {
            lines.push(n as u64 + 1);
            if lines.len() as u64 > index {
                break;
            }
        }
    }
    Some(lines)
}

/// A checker error as one line that starts with `file:line:`.
fn placed(e: TxnError, file: &str, lines: Option<&[u64]>) -> anyhow::Error {
    match e {
        TxnError::History(h) => anyhow::Error::new(h.in_file(file)),
        TxnError::BadOp {
            index,
            line,
            message,
        } => {
            let line =
                line.or_else(|| lines.and_then(|l| l.get(usize::try_from(index).ok()?).copied()));
            let at = line
                .map(|l| format!("{file}:{l}:"))
                .unwrap_or_else(|| format!("{file}:"));
            anyhow!("{at} {message} (op index {index})")
        }
    }
}

/// Turn the flags into checker options; every error names its flag.
fn options(args: &CheckArgs, model: TxnModel) -> anyhow::Result<TxnOptions> {
    if args.init.is_some() {
        return Err(anyhow!(
            "--init does not apply to --model {}: every key starts empty",
            model.name()
        ));
    }
    if args.independent {
        return Err(anyhow!(
            "--independent does not apply to --model {}: transactions name their keys",
            model.name()
        ));
    }
    if model == TxnModel::ListAppend && (args.sequential_keys || args.linearizable_keys) {
        return Err(anyhow!(
            "--sequential-keys and --linearizable-keys apply to --model rw-register only; list-append \
             reads already give each key's version order"
        ));
    }
    let mut opts = TxnOptions {
        model,
        sequential_keys: args.sequential_keys,
        linearizable_keys: args.linearizable_keys,
        ..TxnOptions::default()
    };
    opts.anomalies = args
        .anomalies
        .iter()
        .map(|a| a.parse().map_err(|e: String| anyhow!("--anomalies: {e}")))
        .collect::<anyhow::Result<_>>()?;
    if !args.consistency_model.is_empty() || opts.anomalies.is_empty() {
        opts.consistency_models = if args.consistency_model.is_empty() {
            opts.consistency_models
        } else {
            args.consistency_model
                .iter()
                .map(|m| {
                    m.parse()
                        .map_err(|e: String| anyhow!("--consistency-model: {e}"))
                })
                .collect::<anyhow::Result<_>>()?
        };
    } else {
        opts.consistency_models.clear();
    }
    if let Some(s) = &args.time_limit {
        opts.time_limit = Some(parse_duration(s)?);
    }
    if let Some(s) = &args.memory_limit {
        opts.memory_limit = parse_bytes(s).map_err(|e| anyhow!("--memory-limit {s:?}: {e}"))?;
    }
    Ok(opts)
}
