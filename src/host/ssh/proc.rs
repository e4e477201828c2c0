//! [`SshProc`]: a node started through the wrapper script over an `ssh` channel. A reader thread
//! turns the wrapper's lines into state (pid, acknowledged signals, exit); signals are lines
//! written to the channel's stdin. Dropping the value closes stdin, which makes the wrapper kill
//! the node (and the `ssh` client is killed, which closes the channel all the same).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::wrapper::{describe_exit, parse_line, signal_word, Event};
use crate::host::{HostError, NodeProc};

/// How long a signal may take to be acknowledged.
const ACK_LIMIT: Duration = Duration::from_secs(5);
/// How long the wrapper may take to report the node's pid.
const START_LIMIT: Duration = Duration::from_secs(15);
/// Most of the `ssh` client's stderr kept for messages.
const STDERR_KEEP: usize = 4096;

#[derive(Debug, Default)]
struct State {
    pid: Option<u32>,
    /// The node's exit (or why the session ended without one).
    exit: Option<String>,
    /// Signals acknowledged and not yet claimed.
    acks: VecDeque<String>,
    /// The wrapper's stdout reached EOF.
    ended: bool,
    stderr: String,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait until `done(state)` or `limit` passes; whether `done`.
    fn until(&self, limit: Duration, done: impl FnMut(&mut State) -> bool) -> bool {
        let (st, ok) = self.wait_for(limit, done);
        drop(st);
        ok
    }

    /// Wait until `done(state)` or `limit` passes; returns the final guard and whether `done`.
    fn wait_for(
        &self,
        limit: Duration,
        mut done: impl FnMut(&mut State) -> bool,
    ) -> (MutexGuard<'_, State>, bool) {
        let deadline = Instant::now() + limit;
        let mut st = self.lock();
        loop {
            if done(&mut st) {
                return (st, true);
            }
            let now = Instant::now();
            if now >= deadline {
                return (st, false);
            }
            st = self
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// A node running under the wrapper on the other end of `child` (an `ssh` client, or any
/// process that runs the wrapper).
#[derive(Debug)]
pub struct SshProc {
    host: String,
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    shared: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
}

impl SshProc {
    /// Take over `child` (spawned with piped stdin, stdout and stderr) and wait for the wrapper to
    /// report the node's pid. On failure the child is killed and the error says why.
    pub fn attach(host: &str, command: &str, mut child: Child) -> Result<SshProc, HostError> {
        let shared = Arc::new(Shared::default());
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let reader = {
            let shared = shared.clone();
            let host = host.to_string();
            std::thread::Builder::new()
                .name("faultline-ssh-node".into())
                .spawn(move || read_events(stdout, stderr, &shared, &host))
                .ok()
        };
        let mut proc = SshProc {
            host: host.to_string(),
            stdin: child.stdin.take(),
            child: Some(child),
            shared,
            reader,
        };
        let (st, _) = proc
            .shared
            .wait_for(START_LIMIT, |s| s.pid.is_some() || s.exit.is_some());
        if st.pid.is_some() {
            drop(st);
            return Ok(proc);
        }
        let message = match (&st.exit, st.stderr.trim()) {
            (Some(e), "") => e.clone(),
            (Some(e), err) => format!("{e}: {}", crate::host::exec::one_line(err)),
            (None, _) => format!("the node wrapper did not start within {START_LIMIT:?}"),
        };
        drop(st);
        proc.close();
        Err(HostError::Command {
            host: host.to_string(),
            command: command.to_string(),
            message,
        })
    }

    /// Close stdin (the wrapper then kills the node) and end the `ssh` client.
    fn close(&mut self) {
        self.stdin.take();
        if let Some(mut child) = self.child.take() {
            // Give the wrapper a moment to report the exit, then cut the channel regardless.
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

fn read_events(
    stdout: Option<impl Read>,
    stderr: Option<impl Read + Send + 'static>,
    shared: &Shared,
    host: &str,
) {
    let errors = stderr.map(|e| {
        let shared_err = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = e.take(STDERR_KEEP as u64).read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        });
        shared_err
    });
    if let Some(out) = stdout {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let mut st = shared.lock();
            match parse_line(&line) {
                Some(Event::Pid(p)) => st.pid = Some(p),
                Some(Event::Sent(s)) => st.acks.push_back(s),
                Some(Event::Exit(code)) => st.exit = Some(describe_exit(code)),
                Some(Event::Error(e)) => st.exit = Some(format!("could not start: {e}")),
                None => {}
            }
            shared.changed.notify_all();
        }
    }
    let stderr = errors.and_then(|h| h.join().ok()).unwrap_or_default();
    let mut st = shared.lock();
    st.ended = true;
    st.stderr = stderr;
    if st.exit.is_none() {
        let why = crate::host::exec::one_line(&st.stderr);
        st.exit = Some(if why.is_empty() {
            format!("lost its ssh session to {host}")
        } else {
            format!("lost its ssh session to {host}: {why}")
        });
    }
    shared.changed.notify_all();
}

impl NodeProc for SshProc {
    fn pid(&self) -> u32 {
        self.shared.lock().pid.unwrap_or(0)
    }

    fn signal(&mut self, sig: Signal) -> Result<(), HostError> {
        let err = |message: String| HostError::Signal {
            host: self.host.clone(),
            signal: sig.to_string(),
            message,
        };
        let word = signal_word(sig).ok_or_else(|| err("not relayed to remote nodes".into()))?;
        if self.shared.lock().exit.is_some() {
            return Ok(());
        }
        let sent = match self.stdin.as_mut() {
            Some(pipe) => pipe
                .write_all(format!("{word}\n").as_bytes())
                .and_then(|()| pipe.flush()),
            None => Err(std::io::Error::other("the channel is closed")),
        };
        if let Err(e) = sent {
            // A node that exited meanwhile is not an error (like ESRCH).
            let exited = self
                .shared
                .until(Duration::from_secs(1), |s| s.exit.is_some());
            return if exited {
                Ok(())
            } else {
                Err(err(e.to_string()))
            };
        }
        let ok = self.shared.until(ACK_LIMIT, |s| {
            if let Some(i) = s.acks.iter().position(|a| a == word) {
                s.acks.remove(i);
                return true;
            }
            s.exit.is_some()
        });
        if ok {
            Ok(())
        } else {
            Err(err(format!("no acknowledgement within {ACK_LIMIT:?}")))
        }
    }

    fn try_exit(&mut self) -> Option<String> {
        self.shared.lock().exit.clone()
    }

    fn kill_and_reap(mut self: Box<Self>, limit: Duration) -> Option<String> {
        if let Some(pipe) = self.stdin.as_mut() {
            let _ = pipe.write_all(b"KILL\n").and_then(|()| pipe.flush());
        }
        let (st, done) = self.shared.wait_for(limit, |s| s.exit.is_some());
        let exit = st.exit.clone();
        drop(st);
        self.close();
        if done {
            exit
        } else {
            None
        }
    }
}

impl Drop for SshProc {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::super::wrapper::NODE_SCRIPT;
    use super::*;
    use std::process::{Command, Stdio};

    /// The wrapper run by a local `sh` instead of over ssh: same protocol, same process groups.
    fn start(dir: &std::path::Path, node: &str) -> Result<SshProc, HostError> {
        let log = dir.join("n1.log");
        let child = Command::new("sh")
            .args(["-c", NODE_SCRIPT, "faultline-node"])
            .arg(&log)
            .arg(dir)
            .args(["sh", "-c", node])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        SshProc::attach("test", "sh", child)
    }

    fn group_gone(pgid: u32) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid as i32), None).is_err() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    fn state_of(pid: u32) -> char {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit_once(')')
            .and_then(|(_, r)| r.trim().chars().next())
            .unwrap_or('?')
    }

    /// Whether `pid` reaches (`stopped`) or leaves the stopped state within 5 s (a signal is
    /// acted on when the process next runs).
    fn becomes_stopped(pid: u32, stopped: bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if (state_of(pid) == 'T') == stopped {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn pauses_resumes_and_kills_the_node_group() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = start(dir.path(), "sleep 60 & wait").unwrap();
        let pid = p.pid();
        assert!(pid > 0);
        p.signal(Signal::SIGSTOP).unwrap();
        assert!(becomes_stopped(pid, true), "SIGSTOP did not stop the node");
        p.signal(Signal::SIGCONT).unwrap();
        assert!(
            becomes_stopped(pid, false),
            "SIGCONT did not continue the node"
        );
        assert_eq!(p.try_exit(), None);
        let exit = Box::new(p).kill_and_reap(Duration::from_secs(5));
        assert_eq!(exit.as_deref(), Some("killed by SIGKILL"));
        assert!(group_gone(pid), "the node's group outlived a kill");
        let log = std::fs::read_to_string(dir.path().join("n1.log")).unwrap();
        assert!(log.contains("=== faultline: starting sh -c"), "{log}");
        assert!(log.contains("=== faultline: SIGSTOP"), "{log}");
    }

    #[test]
    fn closing_the_channel_kills_the_node_group() {
        let dir = tempfile::tempdir().unwrap();
        let p = start(dir.path(), "sleep 60 & sleep 61; wait").unwrap();
        let pid = p.pid();
        drop(p);
        assert!(group_gone(pid), "the node's group outlived its channel");
    }

    #[test]
    fn an_exit_is_reported_with_its_status() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = start(dir.path(), "echo out; exit 3").unwrap();
        let exited = p.shared.until(Duration::from_secs(5), |s| s.exit.is_some());
        assert!(exited);
        assert_eq!(p.try_exit().as_deref(), Some("exit code 3"));
        // Signals to an exited node are no-ops, as ESRCH is locally.
        p.signal(Signal::SIGSTOP).unwrap();
        let log = std::fs::read_to_string(dir.path().join("n1.log")).unwrap();
        assert!(log.contains("out"), "{log}");
    }

    #[test]
    fn a_wrapper_that_cannot_start_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("n1.log");
        let child = Command::new("sh")
            .args(["-c", NODE_SCRIPT, "faultline-node"])
            .arg(&log)
            .arg(dir.path().join("missing"))
            .args(["true"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let e = SshProc::attach("h", "sh", child).unwrap_err().to_string();
        assert!(e.contains("cannot enter"), "{e}");
    }
}
