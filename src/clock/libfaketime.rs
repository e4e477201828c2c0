//! Finding libfaketime (Debian package `libfaketime`). The multi-threaded build
//! (`libfaketimeMT.so.1`) is preferred: node programs are usually multi-threaded, and it
//! serialises libfaketime's own bookkeeping.

use std::path::{Path, PathBuf};

/// Environment variable naming the library explicitly (overrides the search).
pub const OVERRIDE_ENV: &str = "FAULTLINE_LIBFAKETIME";

/// Library file names, best first.
const NAMES: [&str; 2] = ["libfaketimeMT.so.1", "libfaketime.so.1"];

/// Directories searched, in order (`{triplet}` is e.g. `x86_64-linux-gnu`).
const DIRS: [&str; 5] = [
    "/usr/lib/{triplet}/faketime",
    "/usr/lib/faketime",
    "/usr/lib64/faketime",
    "/usr/local/lib/faketime",
    "/usr/local/lib",
];

fn dirs() -> Vec<PathBuf> {
    let triplet = format!("{}-linux-gnu", std::env::consts::ARCH);
    DIRS.iter()
        .map(|d| PathBuf::from(d.replace("{triplet}", &triplet)))
        .collect()
}

/// The library to preload, or why there is none (naming the package and what to do).
pub fn locate() -> Result<PathBuf, String> {
    if std::env::var_os("FAKETIME").is_some() {
        return Err(
            "FAKETIME is set in faultline's environment; nodes would inherit it and \
                    libfaketime would ignore the per-node control files: unset FAKETIME"
                .into(),
        );
    }
    if let Some(p) = std::env::var_os(OVERRIDE_ENV) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "{OVERRIDE_ENV}={} is not a file; point it at libfaketimeMT.so.1 or unset it",
                p.display()
            ))
        };
    }
    find_in(&dirs()).ok_or_else(|| {
        format!(
            "not found in {}; install it (apt-get install libfaketime) or set {OVERRIDE_ENV}",
            dirs()
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// The first library file in `dirs`, best name first.
fn find_in(dirs: &[PathBuf]) -> Option<PathBuf> {
    NAMES.iter().find_map(|name| {
        dirs.iter()
            .map(|d| d.join(name))
            .find(|p| Path::new(p).is_file())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_the_multi_threaded_build() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::write(a.path().join("libfaketime.so.1"), b"").unwrap();
        let dirs = [a.path().to_path_buf(), b.path().to_path_buf()];
        assert_eq!(find_in(&dirs), Some(a.path().join("libfaketime.so.1")));
        std::fs::write(b.path().join("libfaketimeMT.so.1"), b"").unwrap();
        assert_eq!(find_in(&dirs), Some(b.path().join("libfaketimeMT.so.1")));
        assert_eq!(find_in(&[]), None);
    }
}
