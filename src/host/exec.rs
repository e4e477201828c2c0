//! Running one short command (local, or an `ssh` client) to completion with a time bound: stdin
//! fed from memory or a file, stdout and stderr drained on their own threads so a chatty child
//! never blocks on a full pipe, killed and reported if it overstays.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::HostError;

/// What a command reads on stdin.
pub enum Input<'a> {
    /// Nothing (`/dev/null`).
    Null,
    /// These bytes.
    Bytes(&'a [u8]),
    /// This file, from its start.
    File(std::fs::File),
}

/// Where a command's stdout goes.
pub enum Output {
    /// Captured and returned.
    Capture,
    /// Written to this file.
    File(std::fs::File),
}

/// Run `command` (shown as `line` in errors, on host `host`) until it exits or `limit` passes;
/// return its stdout on exit status 0. `spawn` starts it (e.g. through a [`super::spawn::Spawner`]).
pub fn run(
    host: &str,
    line: &str,
    mut command: Command,
    input: Input<'_>,
    output: Output,
    limit: Duration,
    spawn: impl FnOnce(Command) -> std::io::Result<Child>,
) -> Result<String, HostError> {
    let err = |message: String| HostError::Command {
        host: host.to_string(),
        command: line.to_string(),
        message,
    };
    let bytes = match input {
        Input::Null => {
            command.stdin(Stdio::null());
            None
        }
        Input::Bytes(b) => {
            command.stdin(Stdio::piped());
            Some(b)
        }
        Input::File(f) => {
            command.stdin(Stdio::from(f));
            None
        }
    };
    match output {
        Output::Capture => command.stdout(Stdio::piped()),
        Output::File(f) => command.stdout(Stdio::from(f)),
    };
    command.stderr(Stdio::piped());
    let mut child = spawn(command).map_err(|e| err(format!("cannot start: {e}")))?;
    let feeder = match (bytes, child.stdin.take()) {
        (Some(b), Some(mut pipe)) => {
            let b = b.to_vec();
            Some(std::thread::spawn(move || pipe.write_all(&b)))
        }
        _ => None,
    };
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(err(format!("no answer within {limit:?}")));
            }
            Err(e) => return Err(err(e.to_string())),
        }
    };
    if let Some(f) = feeder {
        let _ = f.join();
    }
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if status.success() {
        Ok(stdout)
    } else {
        let detail = stderr.trim();
        Err(err(if detail.is_empty() {
            status.to_string()
        } else {
            format!("{status}: {}", one_line(detail))
        }))
    }
}

/// Read a pipe to its end on a thread of its own.
pub fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The lines of `s` joined with ` / `, at most 500 characters.
pub fn one_line(s: &str) -> String {
    let joined = s
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    if joined.len() > 500 {
        let mut end = 500;
        while !joined.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &joined[..end])
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn feeds_stdin_and_returns_stdout() {
        let out = run(
            "local",
            "cat",
            sh("cat"),
            Input::Bytes(b"hi\n"),
            Output::Capture,
            Duration::from_secs(5),
            |mut c| c.spawn(),
        )
        .unwrap();
        assert_eq!(out, "hi\n");
    }

    #[test]
    fn failure_names_the_host_command_and_stderr() {
        let e = run(
            "h1",
            "boom",
            sh("echo bad thing >&2; exit 4"),
            Input::Null,
            Output::Capture,
            Duration::from_secs(5),
            |mut c| c.spawn(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("host h1") && e.contains("`boom`") && e.contains("bad thing"),
            "{e}"
        );
    }

    #[test]
    fn a_command_that_overstays_is_killed() {
        let t = Instant::now();
        let e = run(
            "local",
            "sleep",
            sh("sleep 30"),
            Input::Null,
            Output::Capture,
            Duration::from_millis(200),
            |mut c| c.spawn(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("no answer"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(10));
    }
}
