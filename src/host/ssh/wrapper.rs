//! The remote side of a node: a POSIX `sh` script that the controller runs over its SSH channel
//! (`sh -c SCRIPT faultline-node LOG DIR PROGRAM ARGS...`), and the line protocol it speaks.
//!
//! The script starts the node with `setsid` (its own session and process group, pid == pgid),
//! output appended to `LOG`, and reports `pid N` once that group exists (until then a signal to
//! the group would miss the node). It then reads commands on stdin — `STOP`, `CONT`,
//! `KILL`, `TERM` — sends that signal to the node's group, notes it in the log and answers
//! `sent X`. When stdin reaches EOF (the controller closed it, was killed, or lost its connection:
//! sshd closes the channel) it SIGKILLs the group: that is the watchdog that keeps a dead
//! controller from leaving nodes behind. When the node exits it kills whatever is left in its
//! group and reports `exit STATUS` (128+n for signal n, as `wait` reports it). The wrapper is
//! the node's parent until it reaps it, so a signal can never reach a recycled pid.

/// The wrapper script (`$0` = `faultline-node`, `$1` = log, `$2` = working directory, then the
/// node's argv).
pub const NODE_SCRIPT: &str = r#"log=$1; dir=$2; shift 2
note() { printf '=== faultline: %s at %s\n' "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$log"; }
cd "$dir" 2>/dev/null || { echo "error cannot enter $dir"; exit 1; }
note "starting $*" 2>/dev/null || { echo "error cannot write $log"; exit 1; }
command -v setsid >/dev/null 2>&1 || { echo "error setsid (util-linux) is not installed"; exit 1; }
setsid "$@" >>"$log" 2>&1 </dev/null &
pid=$!
# Report the pid only once the node leads its own group, so no signal can miss it.
n=0
while ! kill -s 0 -- "-$pid" 2>/dev/null && [ "$n" -lt 500 ]; do
  n=$((n+1)); sleep 0.01 2>/dev/null || sleep 1
done
echo "pid $pid"
exec 3<&0
{
  while read -r cmd; do
    case $cmd in
      STOP|CONT|KILL|TERM) note "SIG$cmd"; kill -s "$cmd" -- "-$pid" 2>/dev/null; echo "sent $cmd";;
    esac
  done
  note "controller gone: SIGKILL"
  kill -s KILL -- "-$pid" 2>/dev/null
} <&3 &
watch=$!
wait "$pid"; status=$?
kill -s KILL -- "-$pid" 2>/dev/null
kill "$watch" 2>/dev/null
echo "exit $status"
"#;

/// Runs `"$@"` once stdin reaches EOF: a cleanup that happens even if the controller is killed.
pub const GUARD_SCRIPT: &str = r#"cat >/dev/null; "$@""#;

/// One line from the wrapper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The node started with this pid (== process group id).
    Pid(u32),
    /// A signal command was carried out.
    Sent(String),
    /// The node exited; `wait`'s status (128+n = killed by signal n).
    Exit(i32),
    /// The wrapper could not start the node.
    Error(String),
}

/// Parse one line; `None` for anything else (ignored).
pub fn parse_line(line: &str) -> Option<Event> {
    let (word, rest) = line.trim_end().split_once(' ')?;
    match word {
        "pid" => rest.parse().ok().map(Event::Pid),
        "sent" => Some(Event::Sent(rest.to_string())),
        "exit" => rest.parse().ok().map(Event::Exit),
        "error" => Some(Event::Error(rest.to_string())),
        _ => None,
    }
}

/// The wrapper's exit status for humans, like a local node's (`exit code 3`, `killed by SIGKILL`).
pub fn describe_exit(status: i32) -> String {
    if status > 128 && status < 128 + 65 {
        crate::host::local::describe_signal(status - 128)
    } else {
        format!("exit code {status}")
    }
}

/// The wire name of a signal the wrapper relays, if it relays it.
pub fn signal_word(sig: nix::sys::signal::Signal) -> Option<&'static str> {
    use nix::sys::signal::Signal::*;
    match sig {
        SIGSTOP => Some("STOP"),
        SIGCONT => Some("CONT"),
        SIGKILL => Some("KILL"),
        SIGTERM => Some("TERM"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_protocol() {
        assert_eq!(parse_line("pid 42\n"), Some(Event::Pid(42)));
        assert_eq!(parse_line("sent STOP"), Some(Event::Sent("STOP".into())));
        assert_eq!(parse_line("exit 137"), Some(Event::Exit(137)));
        assert_eq!(
            parse_line("error cannot enter /x"),
            Some(Event::Error("cannot enter /x".into()))
        );
        assert_eq!(parse_line("pid x"), None);
        assert_eq!(parse_line("hello"), None);
        assert_eq!(describe_exit(137), "killed by SIGKILL");
        assert_eq!(describe_exit(3), "exit code 3");
    }
}
