//! Shared helpers for the `raft_*` integration tests: start real `faultline-raft` processes on
//! free 127.0.0.1 ports with temp data dirs, talk plain HTTP/1.1 to them, and kill every process
//! this helper started when it is dropped.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faultline::protocol::{Role, StatusBody};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Election timeout used by the tests (ms).
pub const ELECTION_MS: u64 = 300;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// One node's addresses and process.
pub struct Node {
    pub id: String,
    pub client: String,
    pub peer: String,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    pub child: Option<Child>,
}

/// A cluster of real node processes.
pub struct Cluster {
    pub nodes: Vec<Node>,
    extra: Vec<String>,
    _dir: tempfile::TempDir,
}

/// An HTTP answer: status, headers (lowercase names) and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

/// A minimal HTTP/1.1 request with `Connection: close`, bounded by `timeout`.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    timeout: Duration,
) -> Option<Answer> {
    let mut s = TcpStream::connect_timeout(&addr.parse().ok()?, timeout).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    s.set_write_timeout(Some(timeout)).ok()?;
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let location = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("location: ")
            .map(|_| l[10..].trim().to_string())
    });
    Some(Answer {
        status,
        location,
        body: body.to_string(),
    })
}

impl Cluster {
    /// Start `n` nodes with optional extra flags for every node.
    pub fn start(n: usize, extra: &[&str]) -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let nodes = (1..=n)
            .map(|i| Node {
                id: format!("n{i}"),
                client: format!("127.0.0.1:{}", free_port()),
                peer: format!("127.0.0.1:{}", free_port()),
                data_dir: dir.path().join(format!("n{i}")),
                log: dir.path().join(format!("n{i}.log")),
                child: None,
            })
            .collect();
        let mut c = Cluster {
            nodes,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            _dir: dir,
        };
        for i in 0..n {
            c.spawn(i, &[]);
        }
        c
    }

    /// (Re)start node `i`, with extra flags for this start only.
    pub fn spawn(&mut self, i: usize, more: &[&str]) {
        let peers: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| n.id != self.nodes[i].id)
            .map(|n| format!("{}={}", n.id, n.peer))
            .collect();
        let n = &self.nodes[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&n.log)
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_faultline-raft"))
            .args([
                "--id",
                &n.id,
                "--client-addr",
                &n.client,
                "--peer-addr",
                &n.peer,
            ])
            .args(["--peers", &peers.join(",")])
            .arg("--data-dir")
            .arg(&n.data_dir)
            .args([
                "--election-timeout-ms",
                &ELECTION_MS.to_string(),
                "--heartbeat-ms",
                "50",
            ])
            .args(&self.extra)
            .args(more)
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn faultline-raft");
        self.nodes[i].child = Some(child);
    }

    /// SIGKILL node `i` and reap it.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Wait (up to `timeout`) for node `i` to exit on its own; its exit status, reaped.
    pub fn wait_exit(&mut self, i: usize, timeout: Duration) -> Option<std::process::ExitStatus> {
        let child = self.nodes[i].child.as_mut()?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.nodes[i].child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, i: usize, sig: Signal) {
        if let Some(c) = &self.nodes[i].child {
            let _ = kill(Pid::from_raw(c.id() as i32), sig);
        }
    }

    /// SIGSTOP node `i`.
    pub fn pause(&self, i: usize) {
        self.signal(i, Signal::SIGSTOP);
    }

    /// SIGCONT node `i`.
    pub fn resume(&self, i: usize) {
        self.signal(i, Signal::SIGCONT);
    }

    /// `/status` of node `i`, if it answers.
    pub fn status(&self, i: usize) -> Option<StatusBody> {
        let a = http(
            &self.nodes[i].client,
            "GET",
            "/status",
            None,
            Duration::from_millis(500),
        )?;
        serde_json::from_str(&a.body).ok()
    }

    /// Wait until exactly one of the nodes in `among` leads and the others that answer agree.
    pub fn wait_leader(&self, among: &[usize], timeout: Duration) -> Option<usize> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let statuses: Vec<(usize, StatusBody)> = among
                .iter()
                .filter_map(|&i| self.status(i).map(|s| (i, s)))
                .collect();
            let leaders: Vec<&(usize, StatusBody)> = statuses
                .iter()
                .filter(|(_, s)| s.role == Role::Leader)
                .collect();
            if let [(l, ls)] = leaders.as_slice() {
                let agree = statuses
                    .iter()
                    .all(|(_, s)| s.term == ls.term && s.leader.as_deref() == Some(ls.id.as_str()));
                if agree && statuses.len() == among.len() {
                    return Some(*l);
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Send a request to node `i`, following up to 3 redirects.
    pub fn request(
        &self,
        i: usize,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Option<Answer> {
        let mut addr = self.nodes[i].client.clone();
        let mut path = path.to_string();
        for _ in 0..3 {
            let a = http(&addr, method, &path, body, Duration::from_secs(5))?;
            if a.status != 307 {
                return Some(a);
            }
            let loc = a.location?;
            let rest = loc.strip_prefix("http://")?;
            let (host, p) = rest.split_at(rest.find('/')?);
            addr = host.to_string();
            path = p.to_string();
        }
        None
    }

    /// PUT `value` (JSON text) under `key` through node `i`; returns the final status.
    pub fn put(&self, i: usize, key: &str, value: &str) -> Option<u16> {
        let body = format!("{{\"value\":{value}}}");
        self.request(i, "PUT", &format!("/kv/{key}"), Some(&body))
            .map(|a| a.status)
    }

    /// GET `key` through node `i`; returns (status, body).
    pub fn get(&self, i: usize, key: &str) -> Option<(u16, String)> {
        self.request(i, "GET", &format!("/kv/{key}"), None)
            .map(|a| (a.status, a.body))
    }

    /// The stderr log of node `i`.
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(&self.nodes[i].log).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.resume(i);
            self.kill(i);
        }
    }
}

/// Retry `f` until it returns Some or `timeout` passes.
pub fn eventually<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
