//! `faultline check`: flags and entry point. Load a history (JSONL through the parallel fast path,
//! or Jepsen EDN) into compact form, lift `--independent` tuple keys, check that it is well formed,
//! run the linearizability checker (or, for `--model list-append|rw-register`, the transaction
//! checker in `check_txn.rs`) and print the verdict (text or JSON). The outcome becomes the
//! exit code: 0 valid, 1 invalid, 2 unknown; bad input is an error (3). Nothing here starts a
//! thread pool: a one-key history is read and checked in the calling thread.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Context};
use clap::Args;
use serde_json::Value;

use super::check_stats::Stats;
use crate::checker::txn::TxnModel;
use crate::checker::{self, CheckError, CheckOptions, CheckReport, ModelKind, Verdict};
use crate::exit::Outcome;
use crate::history::{self, Format};

/// Flags of `faultline check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// History file: faultline JSONL or Jepsen/Knossos EDN; `-` reads standard input.
    pub history: PathBuf,
    /// Model to check against: a sequential one for linearizability (register, cas-register,
    /// multi-register, mutex, set, counter, fifo-queue, kv) or a transactional one for isolation
    /// (list-append, rw-register).
    #[arg(long, default_value = "cas-register")]
    pub model: String,
    /// Transactions: the consistency model(s) the history must satisfy, e.g. serializable,
    /// snapshot-isolation, strict-serializable (the default unless --anomalies is given).
    #[arg(long, value_name = "MODEL", value_delimiter = ',')]
    pub consistency_model: Vec<String>,
    /// Transactions: anomalies that make the history invalid, e.g. G0,G1c,G-single-item; G1 and
    /// G2 name their groups.
    #[arg(long, value_name = "ANOMALIES", value_delimiter = ',')]
    pub anomalies: Vec<String>,
    /// rw-register: assume each key is sequentially consistent (infer versions from process order).
    #[arg(long)]
    pub sequential_keys: bool,
    /// rw-register: assume each key is linearizable (infer versions from real-time order).
    #[arg(long)]
    pub linearizable_keys: bool,
    /// Initial value as JSON, e.g. `0`, `null` (default), `'""'` or `{"x":0,"y":0}`; `nil` is
    /// accepted as `null`.
    #[arg(long, value_name = "JSON")]
    pub init: Option<String>,
    /// Run every search to completion and compare their answers (slower; a disagreement is a
    /// checker bug, exit 3). Same as FAULTLINE_VERIFY=1.
    #[arg(long)]
    pub verify: bool,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Give up with verdict "unknown" (exit 2) after this long, e.g. `10s`, `2m`.
    #[arg(long, value_name = "DURATION")]
    pub time_limit: Option<String>,
    /// Memory budget for the search, e.g. `2GiB`, `512MiB`, `1000000`; past it, "unknown".
    #[arg(long, value_name = "BYTES")]
    pub memory_limit: Option<String>,
    /// Input format; by default from the extension (.jsonl/.json/.edn), else from the content.
    #[arg(long, value_name = "jsonl|edn")]
    pub format: Option<String>,
    /// Values are Jepsen `independent` tuples `[key value]`: check each key separately.
    #[arg(long)]
    pub independent: bool,
    /// Also write a self-contained HTML report (timeline, counterexample) to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Also write JUnit XML (one test case per checked key) to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Print to stderr where the time and memory went: read, check, wall, CPU, peak RSS.
    #[arg(long)]
    pub stats: bool,
}

/// Run `faultline check`.
pub fn run(args: CheckArgs) -> anyhow::Result<Outcome> {
    if let Ok(model) = args.model.parse::<TxnModel>() {
        return super::check_txn::run(&args, model);
    }
    let mut stats = Stats::start();
    let file = args.history.display();
    let txn_only = [
        ("--consistency-model", !args.consistency_model.is_empty()),
        ("--anomalies", !args.anomalies.is_empty()),
        ("--sequential-keys", args.sequential_keys),
        ("--linearizable-keys", args.linearizable_keys),
    ];
    if let Some((flag, _)) = txn_only.iter().find(|f| f.1) {
        return Err(anyhow!(
            "cannot check {file}: {flag} applies to transactional models only; use --model \
             list-append or --model rw-register"
        ));
    }
    let opts = options(&args).with_context(|| format!("cannot check {file}"))?;
    let format = match &args.format {
        Some(f) => Some(
            f.parse::<Format>()
                .map_err(|e| anyhow!("cannot check {file}: --format: {e}"))?,
        ),
        None => None,
    };
    let mut loaded = history::load_compact(&args.history, format)?;
    if args.independent {
        loaded.lift_tuple_keys()?;
    }
    loaded.validate()?;
    stats.read_done();
    let report = checker::check_compact(&loaded, &opts).map_err(|e| {
        if e.is_bug() {
            return anyhow!("{}: {e}", loaded.source());
        }
        let line = match &e {
            CheckError::BadOp { line: Some(l), .. } => format!("{l}:"),
            _ => String::new(),
        };
        anyhow!(
            "{}:{line} {e} (checked as model {}; choose the model with --model)",
            loaded.source(),
            opts.model.name()
        )
    })?;
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&report).context("serializing the report")?;
        s.push('\n');
        s
    } else {
        checker::render_text(&report)
    };
    emit(&text)?;
    if args.stats {
        eprintln!("{}", stats.line());
    }
    if let Some(path) = &args.report {
        crate::report::write_report(path, &loaded.to_history(), &report, None)
            .with_context(|| format!("--report {}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        let suite = loaded.source().to_string();
        crate::report::write_junit(path, &report, &suite)
            .with_context(|| format!("--junit {}", path.display()))?;
    }
    Ok(outcome(&report))
}

/// The exit outcome of a report.
fn outcome(report: &CheckReport) -> Outcome {
    match report.verdict {
        Verdict::Valid => Outcome::Valid,
        Verdict::Invalid { .. } => Outcome::Invalid,
        Verdict::Unknown { .. } => Outcome::Unknown,
    }
}

/// Write to stdout; a closed pipe (`| head`) is not an error.
pub(super) fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow!("writing the report to stdout: {e}"))
        }
        _ => Ok(()),
    }
}

/// Turn the flags into checker options; every error names its flag.
fn options(args: &CheckArgs) -> anyhow::Result<CheckOptions> {
    let model: ModelKind = args
        .model
        .parse()
        .map_err(|e: String| anyhow!("--model: {e}"))?;
    let init = match &args.init {
        None => Value::Null,
        // Jepsen and Knossos spell null `nil`.
        Some(s) if s.trim() == "nil" => Value::Null,
        Some(s) => serde_json::from_str(s).map_err(|e| {
            anyhow!(
                "--init {s:?} is not valid JSON ({e}); examples: --init 0, --init null, \
                 --init '{{\"x\":0,\"y\":0}}', --init '\"text\"'"
            )
        })?,
    };
    let time_limit = match &args.time_limit {
        None => None,
        Some(s) => Some(parse_duration(s)?),
    };
    let mut opts = CheckOptions {
        model,
        init,
        time_limit,
        verify: args.verify,
        ..CheckOptions::default()
    };
    if let Some(s) = &args.memory_limit {
        opts.memory_limit = parse_bytes(s).map_err(|e| anyhow!("--memory-limit {s:?}: {e}"))?;
    }
    Ok(opts)
}

pub(super) fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(s.trim())
        .map_err(|e| anyhow!("--time-limit {s:?}: {e}; use e.g. 500ms, 10s, 2m, 1h"))
}

/// Parse a byte count: a number with an optional unit. `K`/`M`/`G`/`T` and `KiB`... are powers
/// of 1024; `KB`/`MB`/`GB`/`TB` are powers of 1000 (case-insensitive).
pub(crate) fn parse_bytes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| "expected a number of bytes like 2GiB, 512MiB or 1000000".to_string())?;
    const KI: f64 = 1024.0;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => KI,
        "m" | "mib" => KI * KI,
        "g" | "gib" => KI * KI * KI,
        "t" | "tib" => KI * KI * KI * KI,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        u => {
            return Err(format!(
                "unknown unit {u:?}; use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB"
            ))
        }
    };
    let bytes = n * mult;
    if !bytes.is_finite() || bytes < 1.0 || bytes > usize::MAX as f64 {
        return Err("must be at least 1 byte and fit in memory addresses".into());
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> CheckArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrap {
            #[command(flatten)]
            args: CheckArgs,
        }
        let argv = std::iter::once("check")
            .chain(std::iter::once("h.jsonl"))
            .chain(extra.iter().copied());
        match Wrap::try_parse_from(argv) {
            Ok(w) => w.args,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn parses_byte_sizes() {
        assert_eq!(parse_bytes("2GiB"), Ok(2 << 30));
        assert_eq!(parse_bytes("512 MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes("1G"), Ok(1 << 30));
        assert_eq!(parse_bytes("1.5KB"), Ok(1500));
        assert_eq!(parse_bytes("1000000"), Ok(1_000_000));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("2 parsecs").is_err());
        assert!(parse_bytes("0").is_err());
    }

    #[test]
    fn turns_flags_into_options() {
        let o = options(&args(&[
            "--model",
            "multi-register",
            "--init",
            r#"{"x":0,"y":0}"#,
            "--time-limit",
            "10s",
            "--memory-limit",
            "1GiB",
        ]))
        .expect("options");
        assert_eq!(o.model, ModelKind::MultiRegister);
        assert_eq!(o.init, serde_json::json!({"x": 0, "y": 0}));
        assert_eq!(o.time_limit, Some(Duration::from_secs(10)));
        assert_eq!(o.memory_limit, 1 << 30);
        let nil = options(&args(&["--init", "nil", "--verify"])).expect("nil");
        assert_eq!((nil.init, nil.verify), (Value::Null, true));
        let d = options(&args(&[])).expect("defaults");
        assert_eq!(
            (d.model, d.init, d.time_limit),
            (ModelKind::CasRegister, Value::Null, None)
        );
    }

    #[test]
    fn flag_errors_name_the_flag() {
        let e = |extra: &[&str]| options(&args(extra)).expect_err("bad flag").to_string();
        assert!(e(&["--model", "queue"])
            .starts_with("--model: unknown model \"queue\"; known models: register, cas-register"));
        assert!(e(&["--init", "{x:0}"]).starts_with("--init \"{x:0}\" is not valid JSON"));
        assert!(e(&["--time-limit", "soon"]).starts_with("--time-limit \"soon\""));
        assert!(e(&["--memory-limit", "2XB"]).starts_with("--memory-limit \"2XB\": unknown unit"));
    }
}
