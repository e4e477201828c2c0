//! The effective cluster spec as TOML (node count overrides included), for a rerunnable
//! `test.toml`. Parsing the result with [`ClusterSpec::parse`] yields an equal spec (up to
//! `source`).

use std::collections::BTreeMap;

use super::{ready, ClientKind, ClusterSpec};

impl ClusterSpec {
    /// The effective spec as TOML; see the module documentation.
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
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            ports: &'a [String],
            all_nodes_format: &'a str,
            all_nodes_separator: &'a str,
            #[serde(skip_serializing_if = "BTreeMap::is_empty")]
            client_options: &'a BTreeMap<String, String>,
            ready: ready::RawReady,
            #[serde(skip_serializing_if = "BTreeMap::is_empty")]
            requires: &'a BTreeMap<String, String>,
            #[serde(skip_serializing_if = "BTreeMap::is_empty")]
            files: BTreeMap<String, &'a str>,
        }
        let out = Out {
            name: &self.name,
            nodes: self.nodes,
            command: &self.command,
            args: &self.args,
            env: &self.env,
            client: self.client,
            peers_format: &self.peers_format,
            ports: &self.ports,
            all_nodes_format: &self.all_nodes_format,
            all_nodes_separator: &self.all_nodes_separator,
            client_options: &self.client_options,
            ready: ready::to_raw(&self.ready),
            requires: &self.requires,
            files: self
                .files
                .iter()
                .map(|f| (f.target.to_string(), f.template.as_str()))
                .collect(),
        };
        toml::to_string(&out).unwrap_or_default()
    }
}
