//! Nodes on remote hosts over real SSH: `faultline lab up 3` makes three namespaced sshd hosts,
//! and `faultline test --hosts <lab>/hosts.toml` reaches the same verdicts there as with local
//! processes — the bundled node is valid under partitions and its stale-read bug is found; etcd is
//! valid, and caught once its reads are serializable. A controller killed with -9 leaves no node
//! and no firewall table on any host, and `faultline lab down` leaves no namespace, process, key or
//! registry entry behind.
//!
//! One lab serves the whole binary (brought up by the first test, removed when the binary exits);
//! runs take turns on it. Needs root, `ip`, `nft`, `sshd` and `etcd`: always runs when `CI=true`
//! (and fails if any is missing); otherwise skips, printing why.

mod netns_support;
mod ssh_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use faultline::cluster::{Cluster, ClusterSpec};
use faultline::host::{Host, HostsFile, Placement, SshHost};
use faultline::net::hosts::{HostedNode, HostsNet};
use ssh_support::*;

#[test]
fn the_correct_node_is_valid_on_ssh_hosts_under_partitions() {
    if !can_run() {
        return;
    }
    assert_eq!(remote_run(&["--nemesis", "partition-halves"]), 0);
}

#[test]
fn stale_reads_are_found_on_ssh_hosts() {
    if !can_run() {
        return;
    }
    let code = remote_run(&["--nemesis", "partition-leader", "--bug", "stale-read"]);
    assert_eq!(code, 1, "the stale-read bug must be found");
}

#[test]
fn etcd_on_ssh_hosts_is_valid_and_its_serializable_reads_are_caught() {
    if !can_run() {
        return;
    }
    assert_eq!(
        remote_run(&["--cluster", "etcd", "--nemesis", "partition-halves"]),
        0
    );
    // The same etcd, reading serializably: an isolated member serves stale values.
    let dir = tempfile::tempdir().expect("spec dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut spec = std::fs::read_to_string(root.join("clusters/etcd.toml")).expect("etcd spec");
    spec.push_str("\nclient_options = { read = \"serializable\" }\n");
    let spec_path = dir.path().join("etcd-serializable.toml");
    std::fs::write(&spec_path, spec).expect("write spec");
    let wide = dir.path().join("wide.toml");
    std::fs::write(
        &wide,
        "name = 'wide'\nmodel = 'cas-register'\nkeys = 1\nvalues = [0, 1000]\n[mix]\nread = 3\nwrite = 2\ncas = 1\n",
    )
    .expect("write workload");
    let often = dir.path().join("often.toml");
    std::fs::write(
        &often,
        "name = 'isolate-often'\nfaults = ['partition-leader']\ninterval = '1s'\nduration = '3s'\n",
    )
    .expect("write nemesis");
    let code = remote_run(&[
        "--cluster",
        &spec_path.display().to_string(),
        "--workload",
        &wide.display().to_string(),
        "--nemesis",
        &often.display().to_string(),
    ]);
    assert_eq!(
        code, 1,
        "serializable reads from a cut-off member must be caught"
    );
}

#[test]
fn a_killed_controller_leaves_no_node_on_any_host() {
    if !can_run() {
        return;
    }
    let lab = lab();
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let results = tempfile::tempdir().expect("results dir");
    let mut controller = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "test",
            "--hosts",
            &hosts_toml(),
            "--nodes",
            "3",
            "--time-limit",
            "60s",
        ])
        .args(["--nemesis", "none", "--results-dir"])
        .arg(results.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn faultline");
    // Wait (bounded) until all three nodes run and every host has the run's table.
    let deadline = Instant::now() + Duration::from_secs(60);
    while nodes_in(&lab.run_id).len() < 3 || tables_in(&lab.run_id).len() < 3 {
        assert!(Instant::now() < deadline, "the run never started its nodes");
        assert!(
            controller.try_wait().expect("wait").is_none(),
            "the run ended early"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    controller.kill().expect("SIGKILL faultline"); // no destructor runs
    controller.wait().expect("reap faultline");
    assert_nothing_running(&lab.run_id, Duration::from_secs(10));
}

#[test]
fn an_ssh_host_runs_uploads_fetches_and_cleans_up_in_its_own_network_stack() {
    if !can_run() {
        return;
    }
    let file = HostsFile::load(Path::new(&hosts_toml())).expect("hosts.toml");
    let target = file.hosts["n2"].clone();
    let host = SshHost::connect(&target).expect("connect to n2");
    // Its own network stack: only its lab address (and loopback).
    let addrs = host
        .run(
            &["ip".into(), "-4".into(), "-o".into(), "addr".into()],
            None,
        )
        .expect("ip addr");
    let ip = target.addr.expect("lab hosts are addresses").to_string();
    assert!(addrs.contains(&ip), "{addrs}");
    assert!(
        !addrs.contains(".254/"),
        "the controller's address leaked in: {addrs}"
    );
    let dir = tempfile::tempdir().expect("dir");
    let (local, back) = (dir.path().join("up"), dir.path().join("back"));
    std::fs::write(&local, "payload\n").expect("write");
    let remote = host.work_dir().join("runs/t/up");
    host.upload(&local, &remote, 0o640).expect("upload");
    host.fetch(&remote, &back).expect("fetch");
    assert_eq!(std::fs::read_to_string(&back).expect("read"), "payload\n");
    let marker = host.work_dir().join("runs/t/marker");
    let m = marker.display().to_string();
    let guard = host.guard(&["touch".into(), m.clone()]).expect("guard");
    assert!(host
        .run(&["test".into(), "-e".into(), m.clone()], None)
        .is_err());
    drop(guard);
    host.run(&["test".into(), "-e".into(), m], None)
        .expect("the guard's cleanup ran when it was dropped");
    host.remove_run_dir(&host.work_dir().join("runs/t"))
        .expect("rm");
}

#[test]
fn lab_down_leaves_no_namespace_process_key_or_registry_entry() {
    if !can_run() {
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ssh-lab-down");
    let rid = lab_up(2, &dir);
    let sshd_pids: Vec<u32> = (1..=2)
        .map(|k| {
            let p = dir.join(format!("hosts/n{k}/sshd.pid"));
            std::fs::read_to_string(&p)
                .expect("sshd.pid")
                .trim()
                .parse()
                .expect("pid")
        })
        .collect();
    let registry = PathBuf::from(format!("/run/faultline/netns/{rid}.json"));
    assert!(registry.exists(), "the lab is registered");
    assert!(dir.join("keys/id_ed25519").exists());
    for pid in &sshd_pids {
        assert!(
            Path::new(&format!("/proc/{pid}")).exists(),
            "sshd {pid} runs"
        );
    }

    let out = faultline(&["lab", "down", "--dir", &dir.display().to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip");
    let links = Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .expect("ip");
    let mine = format!("fl-{rid}-");
    assert!(
        !String::from_utf8_lossy(&names.stdout).contains(&mine),
        "namespaces left"
    );
    assert!(
        !String::from_utf8_lossy(&links.stdout).contains(&mine),
        "veths left"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    for pid in &sshd_pids {
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let gone = stat.is_empty()
                || stat
                    .rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
            if gone {
                break;
            }
            assert!(Instant::now() < deadline, "sshd {pid} outlived lab down");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    assert!(!registry.exists(), "registry entry left");
    assert!(
        !dir.exists(),
        "lab files left: {:?}",
        std::fs::read_dir(&dir).map(|d| d.count())
    );
}

#[test]
fn lab_up_refuses_without_root_and_names_what_is_missing() {
    if !can_run() {
        return;
    }
    // A copy of the binary that an unprivileged user may run, wherever this checkout lives.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let exe = dir.path().join("faultline");
    std::fs::copy(env!("CARGO_BIN_EXE_faultline"), &exe).expect("copy faultline");
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args(["lab", "up", "1", "--dir"])
        .arg(dir.path().join("lab"))
        .output()
        .expect("setpriv (util-linux)");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("needs root") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn remote_nodes_are_killed_paused_resumed_and_restarted_through_their_hosts() {
    if !can_run() {
        return;
    }
    let lab = lab();
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let ids: Vec<String> = (1..=3).map(|k| format!("n{k}")).collect();
    let file = HostsFile::load(Path::new(&hosts_toml())).expect("hosts.toml");
    let placement = Placement::connect(&file, &ids).expect("connect");
    let nodes = ids
        .iter()
        .map(|id| HostedNode {
            id: id.clone(),
            host: placement.host(id),
            addr: file.hosts[id].addr.expect("lab address"),
        })
        .collect();
    let net = HostsNet::create(nodes, file.client_port, file.peer_port, &[]).expect("hosts net");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = ClusterSpec::load(&root.join("clusters/raft.toml"))
        .expect("raft spec")
        .with_nodes(3)
        .expect("3 nodes");
    let dir = tempfile::tempdir().expect("run dir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let cluster = rt
        .block_on(Cluster::start_on(&spec, &net, &placement, dir.path()))
        .expect("the cluster starts on the lab");
    assert_eq!(nodes_in(&lab.run_id).len(), 3);

    let n1 = cluster.pid("n1").expect("n1 runs");
    cluster.kill("n1").expect("kill");
    assert!(!cluster.is_running("n1"));
    eventually("n1 is gone from its host", || proc_state(n1) == '-');
    rt.block_on(cluster.restart("n1"))
        .expect("n1 restarts and is ready");
    assert!(cluster.pid("n1").is_some_and(|p| p != n1));

    let n2 = cluster.pid("n2").expect("n2 runs");
    cluster.pause("n2").expect("pause");
    assert!(cluster.is_paused("n2"));
    eventually("n2 stops", || proc_state(n2) == 'T');
    cluster.resume("n2").expect("resume");
    eventually("n2 continues", || proc_state(n2) != 'T');

    // A node that dies on its own is noticed, with how it died.
    let n3 = cluster.pid("n3").expect("n3 runs");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(n3 as i32),
        nix::sys::signal::Signal::SIGABRT,
    )
    .expect("signal n3");
    eventually("n3's exit is noticed", || {
        cluster.unexpected_exits().iter().any(|e| e.node == "n3")
    });
    let exit = cluster
        .unexpected_exits()
        .into_iter()
        .find(|e| e.node == "n3");
    assert_eq!(exit.map(|e| e.status).as_deref(), Some("killed by SIGABRT"));

    drop(cluster);
    let log = std::fs::read_to_string(dir.path().join("nodes/n1.log")).expect("n1's log");
    assert!(log.contains("=== faultline: SIGKILL"), "{log}");
    assert_eq!(log.matches("=== faultline: starting").count(), 2, "{log}");
    drop(net);
    drop(placement);
    assert_nothing_running(&lab.run_id, Duration::from_secs(5));
}
