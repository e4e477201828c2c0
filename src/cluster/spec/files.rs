//! The `files` table of a cluster spec: per-node files (config files, ZooKeeper's `myid`) written
//! before a node first starts. Each key is the file's path, which must start with `{data_dir}/`
//! or `{conf_dir}/` followed by a relative path without `..`; each value is a template with the
//! same placeholders as `args`. Rendering lives in `cluster::render::files`.

use std::fmt;
use std::path::{Component, Path, PathBuf};

/// The node directory a file lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileBase {
    /// The node's data directory (`{data_dir}`, kept across restarts).
    Data,
    /// The node's config directory (`{conf_dir}`).
    Conf,
}

impl FileBase {
    /// The placeholder the spec writes for this directory.
    pub fn placeholder(self) -> &'static str {
        match self {
            FileBase::Data => "{data_dir}",
            FileBase::Conf => "{conf_dir}",
        }
    }
}

/// Where a per-node file goes: a directory of the node and a path inside it.
///
/// Invariant: `rel` is relative, non-empty and has only normal components (no `..`, no `.`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileTarget {
    /// The node directory.
    pub base: FileBase,
    /// The path inside it.
    pub rel: PathBuf,
}

impl FileTarget {
    /// Parse a `files` key such as `{conf_dir}/zoo.cfg`.
    pub fn parse(key: &str) -> Result<FileTarget, String> {
        let (base, rest) = [FileBase::Data, FileBase::Conf]
            .into_iter()
            .find_map(|b| {
                key.strip_prefix(b.placeholder())
                    .and_then(|r| r.strip_prefix('/'))
                    .map(|r| (b, r))
            })
            .ok_or_else(|| {
                format!("{key:?} must start with {{data_dir}}/ or {{conf_dir}}/ (e.g. \"{{conf_dir}}/node.cfg\")")
            })?;
        let rel = Path::new(rest);
        let normal = !rest.is_empty()
            && !rest.contains(['{', '}'])
            && rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !normal {
            return Err(format!(
                "{key:?}: the part after the directory must be a plain relative path (no '..', no placeholders)"
            ));
        }
        Ok(FileTarget {
            base,
            rel: rel.to_path_buf(),
        })
    }
}

impl fmt::Display for FileTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base.placeholder(), self.rel.display())
    }
}

/// One per-node file: where it goes and its template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTemplate {
    /// Where it goes.
    pub target: FileTarget,
    /// Its contents, a template rendered per node.
    pub template: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_a_node_directory_and_a_plain_relative_path() {
        let t = FileTarget::parse("{conf_dir}/zk/zoo.cfg").unwrap();
        assert_eq!(t.base, FileBase::Conf);
        assert_eq!(t.rel, PathBuf::from("zk/zoo.cfg"));
        assert_eq!(t.to_string(), "{conf_dir}/zk/zoo.cfg");
        assert_eq!(
            FileTarget::parse("{data_dir}/myid").unwrap().base,
            FileBase::Data
        );
        for bad in [
            "myid",
            "/etc/passwd",
            "{data_dir}",
            "{data_dir}/",
            "{data_dir}/../x",
            "{data_dir}/./x",
            "{data_dir}//etc",
            "{data_dir}/{id}.cfg",
            "{tmp}/x",
        ] {
            assert!(FileTarget::parse(bad).is_err(), "{bad}");
        }
    }
}
