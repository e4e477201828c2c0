//! `faultline test --rerun RUN`: a stored run's `test.toml` read back as plan input. The flags
//! (seed included) come from its `[test]` table and the three specs from the copies embedded in
//! `[cluster]`, `[workload]` and `[nemesis]`, so a run repeats even when the original files have
//! changed or were relative to another directory. Flags given next to `--rerun` win; a spec flag
//! (`--nemesis kill`) replaces that embedded spec.

use std::path::{Path, PathBuf};

use super::{PlanError, PlanInput};

/// The spec texts embedded in a stored `test.toml` (`None` where a flag replaces them).
#[derive(Debug, Clone, Default)]
pub struct Embedded {
    /// The stored `test.toml`, named in errors.
    pub file: PathBuf,
    /// `[cluster]` as a spec file, the `--bug` arguments the run appended removed.
    pub cluster: Option<String>,
    /// `[workload]` as a workload file.
    pub workload: Option<String>,
    /// `[nemesis]` as a schedule file.
    pub nemesis: Option<String>,
}

fn bad(file: &Path, message: impl Into<String>) -> PlanError {
    PlanError::Rerun {
        file: file.to_path_buf(),
        message: message.into(),
    }
}

/// Read the stored run at `path` (a run directory or its `test.toml`) and merge `flags` over it.
pub fn read(path: &Path, flags: &PlanInput) -> Result<(PlanInput, Embedded), PlanError> {
    let file = if path.is_dir() {
        path.join("test.toml")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| bad(&file, format!("cannot read the stored run: {e}")))?;
    let root: toml::Table = toml::from_str(&text).map_err(|e| {
        let msg = e.message().to_string();
        bad(&file, format!("not a faultline test.toml: {msg}"))
    })?;
    let section = |name: &str| -> Result<&toml::Table, PlanError> {
        root.get(name)
            .and_then(|v| v.as_table())
            .ok_or_else(|| bad(&file, format!("missing table [{name}]")))
    };
    let test = section("test")?;
    let text_of = |key: &str| -> Result<Option<String>, PlanError> {
        match test.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(toml::Value::Integer(i)) => Ok(Some(i.to_string())),
            Some(toml::Value::Float(f)) => Ok(Some(f.to_string())),
            Some(other) => Err(bad(
                &file,
                format!(
                    "[test] {key}: expected a string, found {}",
                    other.type_str()
                ),
            )),
        }
    };
    let num = |key: &str| -> Result<Option<f64>, PlanError> {
        text_of(key)?
            .map(|s| {
                s.parse::<f64>()
                    .map_err(|_| bad(&file, format!("[test] {key}: {s:?} is not a number")))
            })
            .transpose()
    };
    let int = |key: &str| -> Result<Option<i64>, PlanError> {
        text_of(key)?
            .map(|s| {
                s.parse::<i64>()
                    .map_err(|_| bad(&file, format!("[test] {key}: {s:?} is not an integer")))
            })
            .transpose()
    };
    let seed = text_of("seed")?
        .map(|s| {
            s.parse::<u64>()
                .map_err(|_| bad(&file, format!("[test] seed: {s:?} is not a seed")))
        })
        .transpose()?;
    let stored = PlanInput {
        cluster: text_of("cluster")?.map(PathBuf::from),
        workload: text_of("workload")?.map(PathBuf::from),
        nemesis: text_of("nemesis")?.map(PathBuf::from),
        nodes: int("nodes")?,
        clients: int("clients")?,
        rate: num("rate")?,
        time_limit: text_of("time_limit")?,
        seed,
        net: text_of("net")?,
        bug: text_of("bug")?,
        name: text_of("name")?,
        client_timeout: text_of("client_timeout")?,
        check_time_limit: text_of("check_time_limit")?,
        hosts: text_of("hosts")?.map(PathBuf::from),
        ..Default::default()
    };

    let mut cluster = section("cluster")?.clone();
    if let Some(bug) = &stored.bug {
        strip_bug(&mut cluster, bug);
    }
    let render = |t: &toml::Table| toml::to_string(t).unwrap_or_default();
    let embedded = Embedded {
        file: file.clone(),
        cluster: flags.cluster.is_none().then(|| render(&cluster)),
        workload: match flags.workload {
            None => Some(render(section("workload")?)),
            Some(_) => None,
        },
        nemesis: match flags.nemesis {
            None => Some(render(section("nemesis")?)),
            Some(_) => None,
        },
    };
    Ok((merge(stored, flags), embedded))
}

/// The run appended `--bug NAME` to the node arguments; the plan appends it again.
fn strip_bug(cluster: &mut toml::Table, bug: &str) {
    let Some(toml::Value::Array(args)) = cluster.get_mut("args") else {
        return;
    };
    let n = args.len();
    if n >= 2 && args[n - 2].as_str() == Some("--bug") && args[n - 1].as_str() == Some(bug) {
        args.truncate(n - 2);
    }
}

/// `flags` over `stored`: every flag given wins.
fn merge(stored: PlanInput, flags: &PlanInput) -> PlanInput {
    let f = flags.clone();
    PlanInput {
        cluster: f.cluster.or(stored.cluster),
        workload: f.workload.or(stored.workload),
        nemesis: f.nemesis.or(stored.nemesis),
        nodes: f.nodes.or(stored.nodes),
        clients: f.clients.or(stored.clients),
        rate: f.rate.or(stored.rate),
        time_limit: f.time_limit.or(stored.time_limit),
        seed: f.seed.or(stored.seed),
        net: f.net.or(stored.net),
        bug: f.bug.or(stored.bug),
        junit: f.junit,
        name: f.name.or(stored.name),
        results_dir: f.results_dir,
        client_timeout: f.client_timeout.or(stored.client_timeout),
        check_time_limit: f.check_time_limit.or(stored.check_time_limit),
        rerun: None,
        test_count: f.test_count,
        keep_going: f.keep_going,
        hosts: f.hosts.or(stored.hosts),
    }
}
