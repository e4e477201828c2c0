//! `faultline bench raft`: throughput and latency of the bundled `faultline-raft` node. Starts 3-
//! and 5-node clusters (fsync on) of the binary next to the current executable, drives 1 and 32
//! concurrent HTTP clients against the leader for a few seconds each, writes then reads, and
//! prints ops/s with p50/p99 latency.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{BenchError, BenchOptions};
use crate::protocol::{Role, StatusBody};

/// Node processes of one benchmark cluster; killed and their data removed on drop.
struct BenchCluster {
    children: Vec<Child>,
    clients: Vec<String>,
    dir: PathBuf,
}

impl Drop for BenchCluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> Result<u16, BenchError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| BenchError(format!("no free port on 127.0.0.1: {e}")))
}

fn node_binary() -> Result<PathBuf, BenchError> {
    let exe = std::env::current_exe()
        .map_err(|e| BenchError(format!("cannot locate the current executable: {e}")))?;
    let path = exe
        .parent()
        .map(|d| d.join("faultline-raft"))
        .filter(|p| p.exists())
        .ok_or_else(|| {
            BenchError(format!(
                "faultline-raft not found next to {}; build it with `cargo build --release --bins`",
                exe.display()
            ))
        })?;
    Ok(path)
}

fn start(bin: &Path, n: usize, case: &str) -> Result<BenchCluster, BenchError> {
    let dir = std::env::temp_dir().join(format!(
        "faultline-bench-raft-{}-{case}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let mut peers = Vec::new();
    let mut clients = Vec::new();
    for i in 1..=n {
        peers.push((format!("n{i}"), format!("127.0.0.1:{}", free_port()?)));
        clients.push(format!("127.0.0.1:{}", free_port()?));
    }
    let mut cluster = BenchCluster {
        children: Vec::new(),
        clients: clients.clone(),
        dir: dir.clone(),
    };
    for (i, (id, peer_addr)) in peers.iter().enumerate() {
        let others: Vec<String> = peers
            .iter()
            .filter(|(o, _)| o != id)
            .map(|(o, a)| format!("{o}={a}"))
            .collect();
        let child = Command::new(bin)
            .args([
                "--id",
                id,
                "--client-addr",
                &clients[i],
                "--peer-addr",
                peer_addr,
            ])
            .args(["--peers", &others.join(",")])
            .arg("--data-dir")
            .arg(dir.join(id))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| BenchError(format!("cannot start {}: {e}", bin.display())))?;
        cluster.children.push(child);
    }
    Ok(cluster)
}

async fn find_leader(http: &reqwest::Client, clients: &[String]) -> Result<String, BenchError> {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        for c in clients {
            let status = http
                .get(format!("http://{c}/status"))
                .send()
                .await
                .ok()
                .map(|r| r.json::<StatusBody>());
            if let Some(fut) = status {
                if let Ok(s) = fut.await {
                    if s.role == Role::Leader && s.commit_index > 0 {
                        return Ok(c.clone());
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(BenchError("no leader elected within 15s".into()))
}

/// One measured row.
struct Row {
    nodes: usize,
    clients: usize,
    kind: &'static str,
    ops: u64,
    errors: u64,
    secs: f64,
    p50: Duration,
    p99: Duration,
}

async fn drive(
    http: &reqwest::Client,
    leader: &str,
    clients: usize,
    write: bool,
    dur: Duration,
) -> (Vec<Duration>, u64, f64) {
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let http = http.clone();
        let leader = leader.to_string();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i: u64 = 0;
            while started.elapsed() < dur {
                let key = format!("k{}", (c as u64 * 7919 + i) % 64);
                let t = Instant::now();
                let res = if write {
                    http.put(format!("http://{leader}/kv/{key}"))
                        .json(&serde_json::json!({ "value": i }))
                        .send()
                        .await
                } else {
                    http.get(format!("http://{leader}/kv/{key}")).send().await
                };
                match res {
                    Ok(r) if r.status().as_u16() == 200 || r.status().as_u16() == 404 => {
                        lat.push(t.elapsed())
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                i += 1;
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        if let Ok(l) = t.await {
            all.extend(l);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort();
    (all, errors.load(Ordering::Relaxed), secs)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn bench_all(opts: &BenchOptions) -> Result<Vec<Row>, BenchError> {
    let bin = node_binary()?;
    let dur = if opts.quick {
        Duration::from_millis(1000)
    } else {
        Duration::from_secs(4)
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(64)
        .build()
        .map_err(|e| BenchError(format!("http client: {e}")))?;
    let mut rows = Vec::new();
    for nodes in [3usize, 5] {
        let cluster = start(&bin, nodes, &format!("{nodes}n"))?;
        let leader = find_leader(&http, &cluster.clients).await?;
        for clients in [1usize, 32] {
            for write in [true, false] {
                let (lat, errors, secs) = drive(&http, &leader, clients, write, dur).await;
                rows.push(Row {
                    nodes,
                    clients,
                    kind: if write { "write" } else { "read" },
                    ops: lat.len() as u64,
                    errors,
                    secs,
                    p50: pct(&lat, 0.5),
                    p99: pct(&lat, 0.99),
                });
            }
        }
        drop(cluster);
    }
    Ok(rows)
}

/// Run the suite and render its table.
pub fn run(opts: &BenchOptions) -> Result<String, BenchError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| BenchError(format!("tokio runtime: {e}")))?;
    let rows = rt.block_on(bench_all(opts))?;
    let mut out = String::from(
        "faultline-raft (fsync on, ReadIndex reads, requests sent to the leader)\n\
         | nodes | clients | op    |   ops/s | p50 ms | p99 ms | errors |\n\
         |------:|--------:|-------|--------:|-------:|-------:|-------:|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {:>5} | {:>7} | {:<5} | {:>7.0} | {:>6.2} | {:>6.2} | {:>6} |\n",
            r.nodes,
            r.clients,
            r.kind,
            r.ops as f64 / r.secs,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.errors
        ));
    }
    Ok(out)
}
