//! The cluster spec: a small TOML file that says how to start, address and talk to the nodes of a
//! cluster (DESIGN.md, "Cluster spec"). Parsing rejects unknown fields; validation errors name the
//! file and the field. Rendering the per-node command and files lives in [`super::render`].
//!
//! - `ready`: the readiness check ([`ReadyCheck`]: HTTP GET or TCP send/expect, on any port).
//! - `files`: per-node files ([`FileTemplate`]: `{data_dir}/...` or `{conf_dir}/...`).
//! - `toml_out`: the effective spec as TOML, for a rerunnable `test.toml`.

mod files;
mod ready;
mod toml_out;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use files::{FileBase, FileTarget, FileTemplate};
pub use ready::{PortRef, ReadyCheck, ReadyProbe};

/// Which wire protocol the controller's clients speak to the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientKind {
    /// The HTTP-KV protocol of `protocol.rs` (the reference node speaks it).
    HttpKv,
    /// etcd's v3 API (through its HTTP/JSON gateway).
    Etcd,
    /// ZooKeeper's client protocol (one znode per key).
    Zookeeper,
}

impl fmt::Display for ClientKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClientKind::HttpKv => "http-kv",
            ClientKind::Etcd => "etcd",
            ClientKind::Zookeeper => "zookeeper",
        })
    }
}

/// A validated cluster spec.
///
/// Invariants: `nodes` is odd and >= 1; `command` is non-empty; the readiness check names a known
/// port; port names are distinct identifiers other than `client` and `peer`; every placeholder in
/// `args`, `env` values, `files`, `peers_format` and `all_nodes_format` is known; file targets
/// are distinct.
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
    /// Extra named node-to-node ports (e.g. ZooKeeper's `election`), rendered as
    /// `{<name>_port}` and `{<name>_addr}`; partitions cut them like the peer port.
    pub ports: Vec<String>,
    /// Template for one `{all_nodes}` entry (placeholders: see `render`); default
    /// [`DEFAULT_ALL_NODES_FORMAT`].
    pub all_nodes_format: String,
    /// What joins the `{all_nodes}` entries; default `,`.
    pub all_nodes_separator: String,
    /// Per-node files, written before a node first starts, in target order.
    pub files: Vec<FileTemplate>,
    /// Files the nodes need besides the command (absolute path → how to get it, e.g.
    /// `"/usr/share/java/zookeeper.jar" = "apt-get install zookeeper"`); see
    /// [`ClusterSpec::check_requires`].
    pub requires: BTreeMap<String, String>,
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
    ready: ready::RawReady,
    peers_format: Option<String>,
    #[serde(default)]
    client_options: BTreeMap<String, String>,
    #[serde(default)]
    ports: Vec<String>,
    all_nodes_format: Option<String>,
    all_nodes_separator: Option<String>,
    #[serde(default)]
    files: BTreeMap<String, String>,
    #[serde(default)]
    requires: BTreeMap<String, String>,
}

fn default_client() -> ClientKind {
    ClientKind::HttpKv
}

/// Default template for one `{peers}` entry.
pub const DEFAULT_PEERS_FORMAT: &str = "{id}={addr}";

/// Default template for one `{all_nodes}` entry.
pub const DEFAULT_ALL_NODES_FORMAT: &str = "{id}={peer_addr}";

/// Most extra named ports a spec may declare.
pub const MAX_PORTS: usize = 8;

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
    /// A file listed in `requires` is missing.
    #[error("{file}: field \"requires\": {path} does not exist; {hint}")]
    Missing {
        /// The file.
        file: PathBuf,
        /// The missing path.
        path: String,
        /// How to get it, from the spec.
        hint: String,
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
        let ports = check_ports(&raw.ports).map_err(|m| field("ports", m))?;
        let node_template = |f: &str, t: &str| {
            super::render::check_node_template(t, &ports).map_err(|m| field(f, m))
        };
        for (i, a) in raw.args.iter().enumerate() {
            node_template(&format!("args[{i}]"), a)?;
        }
        for (k, v) in &raw.env {
            if k.is_empty() || k.contains('=') || k.contains('\0') {
                return Err(field("env", format!("invalid variable name {k:?}")));
            }
            node_template(&format!("env.{k}"), v)?;
        }
        let mut files = Vec::with_capacity(raw.files.len());
        for (key, template) in raw.files {
            let target = FileTarget::parse(&key).map_err(|m| field("files", m))?;
            node_template(&format!("files[{key}]"), &template)?;
            if files.iter().any(|f: &FileTemplate| f.target == target) {
                return Err(field("files", format!("{key:?} is given twice")));
            }
            files.push(FileTemplate { target, template });
        }
        files.sort_by(|a, b| a.target.cmp(&b.target));
        if let Some(p) = raw.requires.keys().find(|p| !p.starts_with('/')) {
            return Err(field("requires", format!("{p:?} must be an absolute path")));
        }
        let ready = ready::validate(raw.ready, &ports).map_err(|(f, m)| field(&f, m))?;
        let peers_format = raw
            .peers_format
            .unwrap_or_else(|| DEFAULT_PEERS_FORMAT.to_string());
        super::render::check_peer_template(&peers_format).map_err(|m| field("peers_format", m))?;
        let all_nodes_format = raw
            .all_nodes_format
            .unwrap_or_else(|| DEFAULT_ALL_NODES_FORMAT.to_string());
        super::render::check_all_nodes_template(&all_nodes_format, &ports)
            .map_err(|m| field("all_nodes_format", m))?;
        Ok(ClusterSpec {
            source: file,
            name: raw.name,
            nodes,
            command: raw.command,
            args: raw.args,
            env: raw.env,
            client: raw.client,
            ready,
            peers_format,
            client_options: raw.client_options,
            ports,
            all_nodes_format,
            all_nodes_separator: raw.all_nodes_separator.unwrap_or_else(|| ",".into()),
            files,
            requires: raw.requires,
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

    /// Whether the node command or files mention where its peers are (`{peers}`,
    /// `{all_peers}`, `{all_nodes}` or `{initial_cluster}` in `args`, `env` or `files`). If not,
    /// the proxy backend cannot cut its links (the nodes dial each other directly) and only the
    /// netns backend can partition it.
    pub fn uses_peer_addresses(&self) -> bool {
        let files = self.files.iter().map(|f| &f.template);
        self.args
            .iter()
            .chain(self.env.values())
            .chain(files)
            .any(|t| {
                ["{peers}", "{all_peers}", "{all_nodes}", "{initial_cluster}"]
                    .iter()
                    .any(|p| t.contains(p))
            })
    }

    /// Fail with the first file of `requires` that does not exist, naming it and how to get it.
    pub fn check_requires(&self) -> Result<(), SpecError> {
        match self.requires.iter().find(|(p, _)| !Path::new(p).exists()) {
            None => Ok(()),
            Some((path, hint)) => Err(SpecError::Missing {
                file: self.source.clone(),
                path: path.clone(),
                hint: hint.clone(),
            }),
        }
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

fn check_ports(names: &[String]) -> Result<Vec<String>, String> {
    if names.len() > MAX_PORTS {
        return Err(format!(
            "at most {MAX_PORTS} named ports, got {}",
            names.len()
        ));
    }
    for (i, n) in names.iter().enumerate() {
        let ident = n.starts_with(|c: char| c.is_ascii_lowercase())
            && n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ident {
            return Err(format!(
                "{n:?} must be a lowercase identifier (letters, digits, '_'), e.g. \"election\""
            ));
        }
        if n == "client" || n == "peer" {
            return Err(format!(
                "{n:?} is built in; name extra ports something else"
            ));
        }
        if names[..i].contains(n) {
            return Err(format!("{n:?} is listed twice"));
        }
    }
    Ok(names.to_vec())
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
mod tests;
