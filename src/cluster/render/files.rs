//! Per-node files: rendering a spec's `files` templates for one node ([`render_files`], pure) and
//! writing the result into the node's local directories ([`write_local`]). The two are separate
//! so that a remote host can upload the same rendered files instead.

use std::path::{Path, PathBuf};

use super::vars::{NodeDirs, NodeVars};
use crate::cluster::spec::{ClusterSpec, FileBase, FileTarget};

/// One rendered per-node file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Where it goes, relative to one of the node's directories.
    pub target: FileTarget,
    /// Its contents.
    pub contents: String,
}

impl RenderedFile {
    /// The file's full path for a node with directories `dirs`.
    pub fn path(&self, dirs: &NodeDirs) -> PathBuf {
        let base = match self.target.base {
            FileBase::Data => &dirs.data,
            FileBase::Conf => &dirs.conf,
        };
        base.join(&self.target.rel)
    }
}

/// Render every `files` template of `spec` with one node's placeholder values.
pub fn render_files(spec: &ClusterSpec, vars: &NodeVars) -> Vec<RenderedFile> {
    spec.files
        .iter()
        .map(|f| RenderedFile {
            target: f.target.clone(),
            contents: vars.render(&f.template),
        })
        .collect()
}

/// Write `files` under the node's directories (creating parent directories), replacing what is
/// there. Returns the path that could not be written with the OS error.
pub fn write_local(
    files: &[RenderedFile],
    dirs: &NodeDirs,
) -> Result<(), (PathBuf, std::io::Error)> {
    for f in files {
        let path = f.path(dirs);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| (parent.to_path_buf(), e))?;
        }
        write_atomic(&path, f.contents.as_bytes()).map_err(|e| (path.clone(), e))?;
    }
    Ok(())
}

/// Write through a temporary file and rename, so a node never reads a half-written file.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".faultline-tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
