//! Rendering a plan for people and for reruns: the rerun command line, the flat config pairs of
//! `results.json`, and `test.toml` (the flags as resolved, seed included, the rerun command, and
//! the three specs exactly as used, node count and `--bug` applied), so a stored run says what it
//! ran.

use super::Plan;

impl Plan {
    /// The command line that reruns this plan (same files, same seed).
    pub fn rerun_command(&self) -> String {
        let mut parts = vec![
            "faultline test".to_string(),
            format!("--cluster {}", self.cluster_path.display()),
            format!("--workload {}", self.workload_path.display()),
            format!("--nemesis {}", self.nemesis_path.display()),
            format!("--nodes {}", self.cluster.nodes),
            format!("--clients {}", self.clients),
            format!("--rate {}", self.rate),
            format!(
                "--time-limit {}",
                humantime::format_duration(self.time_limit)
            ),
            format!("--seed {}", self.seed),
            format!("--net {}", self.net.name()),
        ];
        if let Some(b) = &self.bug {
            parts.push(format!("--bug {b}"));
        }
        if let Some((path, _)) = &self.hosts {
            parts.push(format!("--hosts {}", path.display()));
        }
        parts.push(format!("--name {}", self.name));
        parts.join(" ")
    }

    /// The effective configuration as flat pairs, for `results.json`.
    pub fn config_pairs(&self) -> std::collections::BTreeMap<String, String> {
        let mut m = std::collections::BTreeMap::new();
        m.insert("cluster".into(), self.cluster_path.display().to_string());
        m.insert("workload".into(), self.workload_path.display().to_string());
        m.insert("nemesis".into(), self.nemesis_path.display().to_string());
        m.insert("nodes".into(), self.cluster.nodes.to_string());
        m.insert("clients".into(), self.clients.to_string());
        m.insert("rate".into(), self.rate.to_string());
        m.insert(
            "time_limit".into(),
            humantime::format_duration(self.time_limit).to_string(),
        );
        m.insert("seed".into(), self.seed.to_string());
        m.insert("net".into(), self.net.name().into());
        m.insert("model".into(), self.model.name().into());
        if let Some((path, _)) = &self.hosts {
            m.insert("hosts".into(), path.display().to_string());
        }
        m.insert(
            "bug".into(),
            self.bug.clone().unwrap_or_else(|| "none".into()),
        );
        m
    }
}

/// Parse a spec's own TOML rendering back into a table, so it can be nested.
fn table(text: &str) -> toml::Table {
    toml::from_str::<toml::Table>(text).unwrap_or_default()
}

/// Render `plan` as `test.toml`.
pub fn render(plan: &Plan) -> String {
    let mut test = toml::Table::new();
    let s = |v: String| toml::Value::String(v);
    test.insert("name".into(), s(plan.name.clone()));
    test.insert("cluster".into(), s(plan.cluster_path.display().to_string()));
    test.insert(
        "workload".into(),
        s(plan.workload_path.display().to_string()),
    );
    test.insert("nemesis".into(), s(plan.nemesis_path.display().to_string()));
    test.insert(
        "nodes".into(),
        toml::Value::Integer(plan.cluster.nodes as i64),
    );
    test.insert("clients".into(), toml::Value::Integer(plan.clients as i64));
    test.insert("rate".into(), toml::Value::Float(plan.rate));
    test.insert(
        "time_limit".into(),
        s(humantime::format_duration(plan.time_limit).to_string()),
    );
    // A u64 seed may not fit TOML's i64: store it as a string.
    test.insert("seed".into(), s(plan.seed.to_string()));
    test.insert("net".into(), s(plan.net.name().into()));
    if let Some(b) = &plan.bug {
        test.insert("bug".into(), s(b.clone()));
    }
    if let Some((path, _)) = &plan.hosts {
        test.insert("hosts".into(), s(path.display().to_string()));
    }
    test.insert(
        "client_timeout".into(),
        s(humantime::format_duration(plan.client_timeout).to_string()),
    );
    test.insert(
        "check_time_limit".into(),
        s(humantime::format_duration(plan.check_time_limit).to_string()),
    );
    test.insert("model".into(), s(plan.model.name().into()));
    test.insert("rerun".into(), s(plan.rerun_command()));

    let mut root = toml::Table::new();
    root.insert("test".into(), toml::Value::Table(test));
    root.insert(
        "cluster".into(),
        toml::Value::Table(table(&plan.cluster.to_toml())),
    );
    root.insert(
        "workload".into(),
        toml::Value::Table(table(&toml::to_string(&plan.workload).unwrap_or_default())),
    );
    root.insert(
        "nemesis".into(),
        toml::Value::Table(table(&plan.nemesis.to_toml())),
    );
    format!(
        "# Effective configuration of this run (seed included). Rerun with\n#   faultline test --rerun <this run's directory>\n# (these specs, even if the files changed), or with\n#   {}\n\n{}",
        plan.rerun_command(),
        toml::to_string(&root).unwrap_or_default()
    )
}
