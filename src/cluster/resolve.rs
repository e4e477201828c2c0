//! Finding a node's executable: a bare name next to the running executable (or its parent when
//! that is cargo's `deps/`), then on `PATH`, then relative to the spec file; a name with a `/` is
//! a path relative to the spec file's directory unless absolute.

use std::path::{Path, PathBuf};

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Resolve `command` as written in the spec at `spec`, looking next to `exe_dir` first for bare
/// names; on failure return a description of where we looked.
pub fn resolve_command(
    command: &str,
    spec: &Path,
    exe_dir: Option<&Path>,
) -> Result<PathBuf, String> {
    let spec_dir = spec
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if command.contains('/') {
        let p = Path::new(command);
        let full = if p.is_absolute() {
            p.to_path_buf()
        } else {
            spec_dir.join(p)
        };
        return if is_executable(&full) {
            Ok(full)
        } else {
            Err(format!("{} (not an executable file)", full.display()))
        };
    }
    let mut looked = Vec::new();
    if let Some(dir) = exe_dir {
        let mut dirs = vec![dir.to_path_buf()];
        if dir.file_name().is_some_and(|n| n == "deps") {
            if let Some(parent) = dir.parent() {
                dirs.push(parent.to_path_buf());
            }
        }
        for d in dirs {
            let cand = d.join(command);
            if is_executable(&cand) {
                return Ok(cand);
            }
            looked.push(d.display().to_string());
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            let cand = d.join(command);
            if is_executable(&cand) {
                return Ok(cand);
            }
        }
        looked.push("$PATH".into());
    }
    let rel = spec_dir.join(command);
    if is_executable(&rel) {
        return Ok(rel);
    }
    looked.push(spec_dir.display().to_string());
    Err(looked.join(", "))
}

/// The bundled node's command name.
pub const BUNDLED_NODE: &str = "faultline-raft";

/// When the bundled node's binary is nowhere to be found (`cargo run -- test` builds only
/// `faultline`), link the running `faultline` executable under the node's name in a per-user
/// temporary directory: started under that name, `faultline` runs the node (see `main.rs`).
/// Returns `None` unless `command` is the bundled node and we are the `faultline` binary.
pub fn link_self_as_bundled_node(command: &str) -> Option<PathBuf> {
    if command != BUNDLED_NODE {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    if exe.file_name()? != "faultline" {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("faultline-{}", nix::unistd::geteuid()));
    std::fs::create_dir_all(&dir).ok()?;
    let link = dir.join(BUNDLED_NODE);
    // Link under a private name, then rename: concurrent runs never see a half-made link.
    let tmp = dir.join(format!(".{BUNDLED_NODE}.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&exe, &tmp).ok()?;
    std::fs::rename(&tmp, &link).ok()?;
    Some(link)
}

/// Whether `program` was built with faultline (next to the running executable, or its parent when
/// that is cargo's `deps/`, or the bundled node's link): such a program is uploaded to remote
/// hosts, while one found elsewhere on `PATH` (a system package: `etcd`, `java`) is expected to be
/// installed on the hosts too and is run there by name.
pub fn ships_with_faultline(program: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let Some(dir) = program.parent().map(canon) else {
        return false;
    };
    let mut ours = vec![std::env::temp_dir().join(format!("faultline-{}", nix::unistd::geteuid()))];
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(canon))
    {
        if exe_dir.file_name().is_some_and(|n| n == "deps") {
            ours.extend(exe_dir.parent().map(Path::to_path_buf));
        }
        ours.push(exe_dir);
    }
    ours.iter().any(|d| canon(d) == dir)
}
