//! `faultline check --memory-limit` holds for models whose states live on the heap: a set or
//! queue history whose search would need gigabytes ends as `unknown` with a memory reason, and
//! the process's peak resident memory stays near the limit. The CLI runs as a child so that its
//! peak RSS can be read exactly (`wait4`); an address-space cap turns a runaway into a failure
//! instead of a machine-wide OOM.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

/// The budget under test.
const LIMIT_MIB: u64 = 64;
/// Resident memory allowed beyond the budget: the binary, thread stacks, the parsed history and
/// allocator slack.
const SLACK_MIB: u64 = 96;
/// Concurrent calls whose orders the searches must all try: 2^26 subsets (set) or more orders
/// (queue), each state holding 2,000 elements (~8 KiB): hundreds of gigabytes if unbounded.
const OPEN: u64 = 26;
const BASE: u64 = 2_000;

fn line(ops: &mut Vec<Value>, process: u64, kind: &str, f: &str, value: Value) {
    let index = ops.len();
    ops.push(json!({"index": index, "process": process, "type": kind, "f": f, "value": value}));
}

/// `OPEN` concurrent adds of new elements to a set that starts with `BASE` elements, and a read
/// that returns an element nobody added: no order works, and proving it means trying them all.
fn exploding_set() -> (Vec<Value>, Vec<String>) {
    let mut ops = Vec::new();
    for p in 0..OPEN {
        line(&mut ops, p, "invoke", "add", json!(100_000 + p));
    }
    line(&mut ops, OPEN, "invoke", "read", Value::Null);
    line(&mut ops, OPEN, "ok", "read", json!([-1]));
    for p in 0..OPEN {
        line(&mut ops, p, "ok", "add", json!(100_000 + p));
    }
    let init: Vec<u64> = (0..BASE).collect();
    let args = vec![
        "--model".into(),
        "set".into(),
        "--init".into(),
        json!(init).to_string(),
    ];
    (ops, args)
}

/// `BASE` enqueues one after another, then `OPEN` concurrent enqueues and a dequeue of a value
/// that was never the head.
fn exploding_queue() -> (Vec<Value>, Vec<String>) {
    let mut ops = Vec::new();
    for v in 0..BASE {
        line(&mut ops, 0, "invoke", "enqueue", json!(v));
        line(&mut ops, 0, "ok", "enqueue", json!(v));
    }
    for p in 1..=OPEN {
        line(&mut ops, p, "invoke", "enqueue", json!(100_000 + p));
    }
    line(&mut ops, 0, "invoke", "dequeue", Value::Null);
    line(&mut ops, 0, "ok", "dequeue", json!(-1));
    for p in 1..=OPEN {
        line(&mut ops, p, "ok", "enqueue", json!(100_000 + p));
    }
    (ops, vec!["--model".into(), "fifo-queue".into()])
}

/// Run `faultline check` on `ops`; its exit code, JSON report and peak RSS in MiB.
// The child is reaped with `wait4` (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn check(ops: &[Value], args: &[String]) -> (i32, Value, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("history.jsonl");
    let text: Vec<String> = ops.iter().map(|o| o.to_string()).collect();
    std::fs::write(&path, text.join("\n") + "\n").expect("write history");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faultline"));
    cmd.arg("check")
        .arg(&path)
        .args(args)
        .args(["--memory-limit", &format!("{LIMIT_MIB}MiB")])
        .args(["--time-limit", "120s", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(|| {
            let cap = 4u64 << 30;
            let lim = libc::rlimit {
                rlim_cur: cap,
                rlim_max: cap,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("start faultline");
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read stdout");
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: `pid` is our child, not yet reaped (std never waited for it).
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    assert!(
        libc::WIFEXITED(status),
        "faultline check died (status {status}); stdout: {out}"
    );
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let rss_mib = usage.ru_maxrss as u64 / 1024;
    (libc::WEXITSTATUS(status), report, rss_mib)
}

fn assert_unknown_within_memory(name: &str, (ops, args): (Vec<Value>, Vec<String>)) {
    let (code, report, rss) = check(&ops, &args);
    eprintln!("{name}: exit {code}, peak RSS {rss} MiB, limit {LIMIT_MIB} MiB");
    assert_eq!(code, 2, "{name}: expected unknown (2): {report}");
    assert_eq!(report["verdict"], "unknown", "{report}");
    let reason = report["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&format!("memory limit of {LIMIT_MIB} MiB")),
        "{name}: {reason}"
    );
    assert!(
        rss <= LIMIT_MIB + SLACK_MIB,
        "{name}: peak RSS {rss} MiB for a {LIMIT_MIB} MiB limit"
    );
}

#[test]
fn an_exploding_set_history_is_unknown_within_the_memory_limit() {
    assert_unknown_within_memory("set", exploding_set());
}

#[test]
fn an_exploding_queue_history_is_unknown_within_the_memory_limit() {
    assert_unknown_within_memory("queue", exploding_queue());
}
