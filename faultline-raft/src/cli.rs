//! `faultline-raft` flags and entry point: the bundled reference Raft key-value node. Used by the
//! `faultline-raft` binary, and by `faultline` itself when it is started under that name (so a
//! `cargo run -- test` that did not build the second binary still has a node to start).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::{bugs::Bugs, config, NodeConfig};
use clap::Parser;

/// A Raft key-value node speaking faultline's HTTP-KV protocol.
#[derive(Debug, Parser)]
#[command(name = "faultline-raft", version)]
struct Flags {
    /// This node's id (e.g. n1).
    #[arg(long, required_unless_present = "list_bugs")]
    id: Option<String>,
    /// Address of the HTTP client API (host:port).
    #[arg(long, required_unless_present = "list_bugs")]
    client_addr: Option<String>,
    /// Address peers connect to (host:port).
    #[arg(long, required_unless_present = "list_bugs")]
    peer_addr: Option<String>,
    /// The other nodes: id=host:port,... (may point at proxies).
    #[arg(long, default_value = "")]
    peers: String,
    /// Directory for the log, hard state and snapshots.
    #[arg(long, required_unless_present = "list_bugs")]
    data_dir: Option<PathBuf>,
    /// Base election timeout; the real one is random in [t, 2t).
    #[arg(long, default_value_t = 300)]
    election_timeout_ms: u64,
    /// Leader heartbeat interval.
    #[arg(long, default_value_t = 50)]
    heartbeat_ms: u64,
    /// Snapshot and compact the log once this many entries were applied since the last snapshot
    /// (0 = never).
    #[arg(long, default_value_t = 10_000)]
    snapshot_threshold: u64,
    /// Run a pre-vote round before elections (true/false).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pre_vote: bool,
    /// Switch on a seeded bug (see --list-bugs); repeatable.
    #[arg(long = "bug")]
    bugs: Vec<String>,
    /// Print the seeded bugs and exit.
    #[arg(long)]
    list_bugs: bool,
}

fn node_config(f: Flags) -> Result<NodeConfig, config::ConfigError> {
    let id = f.id.unwrap_or_default();
    config::check_timing(f.election_timeout_ms, f.heartbeat_ms)?;
    Ok(NodeConfig {
        peers: config::parse_peers(&f.peers, &id)?,
        bugs: config::parse_bugs(&f.bugs)?,
        id,
        client_addr: f.client_addr.unwrap_or_default(),
        peer_addr: f.peer_addr.unwrap_or_default(),
        data_dir: f.data_dir.unwrap_or_default(),
        election_ms: f.election_timeout_ms,
        heartbeat_ms: f.heartbeat_ms,
        snapshot_threshold: f.snapshot_threshold,
        pre_vote: f.pre_vote,
    })
}

/// Run the node with `args` (argv, program name first). Exit code 3 on bad flags or a fatal
/// node error; clap's own usage-error code (2) would read as "unknown" in faultline's contract.
pub fn main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let flags = match Flags::try_parse_from(args) {
        Ok(f) => f,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if flags.list_bugs {
        print!("{}", Bugs::listing());
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cfg = match node_config(flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("faultline-raft: {e}");
            return ExitCode::from(3);
        }
    };
    let id = cfg.id.clone();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("faultline-raft: cannot start the runtime: {e}");
            return ExitCode::from(3);
        }
    };
    match rt.block_on(crate::run(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("faultline-raft {id}: {e}");
            ExitCode::from(3)
        }
    }
}
