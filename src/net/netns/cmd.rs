//! Running the system tools the netns backend drives (`ip`, `nft`): locating them, bounding how long
//! each call may take, and turning failures into [`NetError::Command`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::host::exec::{self, Input, Output};
use crate::host::HostError;
use crate::net::NetError;

/// Longest a single `ip` or `nft` call may take before it is killed and reported.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Directories searched after `$PATH`: root's tools live in sbin, which a user's `PATH` may lack.
const SBIN_DIRS: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// Find `program` on `$PATH` or in the sbin directories.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SBIN_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Run `program args...`, feeding `stdin` if given; return stdout on exit status 0. At most
/// [`CALL_TIMEOUT`]; both pipes are drained on their own threads ([`crate::host::exec`]).
pub fn run(program: &Path, args: &[&str], stdin: Option<&str>) -> Result<String, NetError> {
    let line = command_line(program, args);
    let mut command = Command::new(program);
    command.args(args);
    let input = stdin.map_or(Input::Null, |s| Input::Bytes(s.as_bytes()));
    exec::run(
        "localhost",
        &line,
        command,
        input,
        Output::Capture,
        CALL_TIMEOUT,
        |mut c| c.spawn(),
    )
    .map_err(|e| NetError::Command {
        command: line.clone(),
        message: match e {
            HostError::Command { message, .. } => message,
            other => other.to_string(),
        },
    })
}

/// Like [`run`], but a failure that only says the object is already gone counts as success
/// (teardown is idempotent).
pub fn run_removal(program: &Path, args: &[&str]) -> Result<(), NetError> {
    match run(program, args, None) {
        Ok(_) => Ok(()),
        Err(NetError::Command { message, .. }) if says_missing(&message) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether an `ip`/`nft` error message means "no such object".
fn says_missing(message: &str) -> bool {
    [
        "Cannot find device",
        "No such file",
        "does not exist",
        "Cannot open network namespace",
    ]
    .iter()
    .any(|m| message.contains(m))
}

fn command_line(program: &Path, args: &[&str]) -> String {
    let mut line = program.display().to_string();
    for a in args {
        line.push(' ');
        line.push_str(a);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_command_names_itself_and_its_stderr() {
        let sh = find_program("sh").expect("sh on PATH");
        let e = run(&sh, &["-c", "echo boom >&2; exit 3"], None).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("-c echo boom"), "{text}");
        assert!(text.contains("boom"), "{text}");
    }

    #[test]
    fn stdin_is_fed_and_stdout_returned() {
        let sh = find_program("sh").expect("sh on PATH");
        let out = run(&sh, &["-c", "cat"], Some("hello\n")).unwrap();
        assert_eq!(out, "hello\n");
    }

    #[test]
    fn removal_of_a_missing_object_succeeds() {
        let sh = find_program("sh").expect("sh on PATH");
        run_removal(&sh, &["-c", "echo 'Cannot find device \"x\"' >&2; exit 1"]).unwrap();
        assert!(run_removal(&sh, &["-c", "echo 'Operation not permitted' >&2; exit 1"]).is_err());
    }

    #[test]
    fn missing_program_is_not_found() {
        assert!(find_program("surely-not-a-program-faultline").is_none());
    }
}
