//! The cluster spec: a small TOML file that says how to start, address and talk to the nodes of a
//! cluster (DESIGN.md, "Cluster spec"). Parsing rejects unknown fields; validation errors name the
//! file and the field. Rendering the per-node command lives in [`super::render`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Which wire protocol the controller's clients speak to the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientKind {
    /// The HTTP-KV protocol of `protocol.rs` (the reference node speaks it).
    HttpKv,
    /// etcd's v3 API (through its HTTP/JSON gateway).
    Etcd,
}

impl fmt::Display for ClientKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClientKind::HttpKv => "http-kv",
            ClientKind::Etcd => "etcd",
        })
    }
}

/// How the harness decides a node has started: an HTTP GET on the client address that answers
/// with a 2xx status within `timeout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyCheck {
    /// Path to GET on the node's client address, starting with `/` (e.g. `/health`).
    pub http_get: String,
    /// How long a node may take to become ready after it is spawned.
    pub timeout: Duration,
}

/// A validated cluster spec.
///
/// Invariants: `nodes` is odd and >= 1; `command` is non-empty; `ready.http_get` starts with `/`;
/// every placeholder in `args`, `env` values and `peers_format` is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSpec {
    /// File the spec came from (for error messages and relative paths).
    pub source: PathBuf,
    /// Cluster name (used in result paths and reports).
    pub name: String,
    /// Number of nodes (overridable with [`ClusterSpec::with_nodes`]).
    pub nodes: usize,
    /// The command as written: a bare name, or a path (see [`ClusterSpec::resolve_command`]).
    pub command: String,
    /// Argument templates, rendered per node (see `render.rs` for placeholders).
    pub args: Vec<String>,
    /// Extra environment variables (values are templates too).
    pub env: BTreeMap<String, String>,
    /// The client protocol.
    pub client: ClientKind,
    /// The readiness check.
    pub ready: ReadyCheck,
    /// Template for one `{peers}` entry; default `{id}={addr}`. Entries are joined with `,`.
    pub peers_format: String,
    /// Options for the client protocol (e.g. etcd's `read = "serializable"`).
    pub client_options: BTreeMap<String, String>,
}

/// The raw TOML shape; converted into [`ClusterSpec`] by validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    name: String,
    nodes: i64,
    command: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default = "default_client")]
    client: ClientKind,
    ready: RawReady,
    peers_format: Option<String>,
    #[serde(default)]
    client_options: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReady {
    http_get: String,
    #[serde(default = "default_timeout")]
    timeout: String,
}

fn default_client() -> ClientKind {
    ClientKind::HttpKv
}

fn default_timeout() -> String {
    "10s".to_string()
}

/// Default template for one `{peers}` entry.
pub const DEFAULT_PEERS_FORMAT: &str = "{id}={addr}";

/// Errors loading or validating a cluster spec. Each names the file and, where it applies, the
/// field.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("{file}: cannot read cluster spec: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TOML did not parse or had unknown/missing fields or wrong types.
    #[error("{file}: {message}")]
    Toml {
        /// The file.
        file: PathBuf,
        /// The parser's message (names the field and line).
        message: String,
    },
    /// A field has an invalid value.
    #[error("{file}: field \"{field}\": {message}")]
    Field {
        /// The file.
        file: PathBuf,
        /// The field (dotted path for nested fields, e.g. `ready.timeout`).
        field: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The command could not be found.
    #[error("{file}: field \"command\": {command:?} not found (looked in {looked}); build it or give a path")]
    CommandNotFound {
        /// The file.
        file: PathBuf,
        /// The command as written.
        command: String,
        /// Where the harness looked.
        looked: String,
    },
}

impl ClusterSpec {
    /// Read and validate a cluster spec file.
    pub fn load(path: &Path) -> Result<ClusterSpec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parse and validate spec text; `source` is used in errors and to resolve relative commands.
    pub fn parse(text: &str, source: &Path) -> Result<ClusterSpec, SpecError> {
        let file = source.to_path_buf();
        let raw: RawSpec = toml::from_str(text).map_err(|e| SpecError::Toml {
            file: file.clone(),
            message: one_line(&e.to_string()),
        })?;
        let field = |field: &str, message: String| SpecError::Field {
            file: file.clone(),
            field: field.to_string(),
            message,
        };
        if raw.name.is_empty()
            || !raw
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(field(
                "name",
                format!(
                    "{:?} must be non-empty and use only letters, digits, '-', '_' and '.' (it names result directories)",
                    raw.name
                ),
            ));
        }
        let nodes = check_nodes(raw.nodes).map_err(|m| field("nodes", m))?;
        if raw.command.trim().is_empty() {
            return Err(field("command", "must not be empty".into()));
        }
        for (i, a) in raw.args.iter().enumerate() {
            super::render::check_template(a).map_err(|m| field(&format!("args[{i}]"), m))?;
        }
        for (k, v) in &raw.env {
            if k.is_empty() || k.contains('=') || k.contains('\0') {
                return Err(field("env", format!("invalid variable name {k:?}")));
            }
            super::render::check_template(v).map_err(|m| field(&format!("env.{k}"), m))?;
        }
        if !raw.ready.http_get.starts_with('/') {
            return Err(field(
                "ready.http_get",
                format!(
                    "must be a path starting with '/', got {:?}",
                    raw.ready.http_get
                ),
            ));
        }
        let timeout = humantime::parse_duration(&raw.ready.timeout).map_err(|e| {
            field(
                "ready.timeout",
                format!(
                    "{:?} is not a duration ({e}); write e.g. \"10s\"",
                    raw.ready.timeout
                ),
            )
        })?;
        if timeout.is_zero() {
            return Err(field("ready.timeout", "must be greater than zero".into()));
        }
        let peers_format = raw
            .peers_format
            .unwrap_or_else(|| DEFAULT_PEERS_FORMAT.to_string());
        super::render::check_peer_template(&peers_format).map_err(|m| field("peers_format", m))?;
        Ok(ClusterSpec {
            source: file,
            name: raw.name,
            nodes,
            command: raw.command,
            args: raw.args,
            env: raw.env,
            client: raw.client,
            ready: ReadyCheck {
                http_get: raw.ready.http_get,
                timeout,
            },
            peers_format,
            client_options: raw.client_options,
        })
    }

    /// The same spec with a different node count (e.g. from `--nodes`), validated like the file.
    pub fn with_nodes(mut self, nodes: i64) -> Result<ClusterSpec, SpecError> {
        self.nodes = check_nodes(nodes).map_err(|message| SpecError::Field {
            file: self.source.clone(),
            field: "nodes".into(),
            message,
        })?;
        Ok(self)
    }

    /// The effective spec as TOML (node count overrides included), for a rerunnable `test.toml`.
    /// Parsing the result with [`ClusterSpec::parse`] yields an equal spec (up to `source`).
    pub fn to_toml(&self) -> String {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            name: &'a str,
            nodes: usize,
            command: &'a str,
            args: &'a [String],
            env: &'a BTreeMap<String, String>,
            client: ClientKind,
            peers_format: &'a str,
            #[serde(skip_serializing_if = "BTreeMap::is_empty")]
            client_options: &'a BTreeMap<String, String>,
            ready: OutReady<'a>,
        }
        #[derive(serde::Serialize)]
        struct OutReady<'a> {
            http_get: &'a str,
            timeout: String,
        }
        let out = Out {
            name: &self.name,
            nodes: self.nodes,
            command: &self.command,
            args: &self.args,
            env: &self.env,
            client: self.client,
            peers_format: &self.peers_format,
            client_options: &self.client_options,
            ready: OutReady {
                http_get: &self.ready.http_get,
                timeout: humantime::format_duration(self.ready.timeout).to_string(),
            },
        };
        toml::to_string(&out).unwrap_or_default()
    }

    /// Whether the node command mentions where its peers are (`{peers}`, `{all_peers}` or
    /// `{initial_cluster}` in `args` or `env`). If not, the proxy backend cannot cut its links
    /// (the nodes dial each other directly) and only the netns backend can partition it.
    pub fn uses_peer_addresses(&self) -> bool {
        self.args.iter().chain(self.env.values()).any(|t| {
            ["{peers}", "{all_peers}", "{initial_cluster}"]
                .iter()
                .any(|p| t.contains(p))
        })
    }

    /// The node ids, `n1` .. `nN`.
    pub fn node_ids(&self) -> Vec<String> {
        (1..=self.nodes).map(|i| format!("n{i}")).collect()
    }

    /// Find the executable: a bare name is looked up next to the running executable (and its
    /// parent when that is a cargo `deps/` directory), then on `PATH`; a name with a `/` is a path,
    /// relative to the spec file's directory unless absolute.
    pub fn resolve_command(&self) -> Result<PathBuf, SpecError> {
        let exe_dir = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf));
        super::resolve::resolve_command(&self.command, &self.source, exe_dir.as_deref())
            .or_else(|looked| {
                super::resolve::link_self_as_bundled_node(&self.command).ok_or(looked)
            })
            .map_err(|looked| SpecError::CommandNotFound {
                file: self.source.clone(),
                command: self.command.clone(),
                looked,
            })
    }
}

fn check_nodes(n: i64) -> Result<usize, String> {
    if n < 1 || n % 2 == 0 {
        return Err(format!("must be odd and >= 1, got {n}"));
    }
    if n > 99 {
        return Err(format!("at most 99 nodes are supported, got {n}"));
    }
    Ok(n as usize)
}

/// Collapse a multi-line parser message (toml includes a source excerpt) into one line.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|') && *l != "^")
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
