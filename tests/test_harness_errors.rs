//! Harness errors exit 3 with a one-line message that names the problem: a broken cluster spec, a
//! missing node binary, a port already in use, a bad flag.

mod run_support;

use std::process::Output;

use run_support::*;

fn first_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn broken_cluster_spec_exits_3_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "broken.toml",
        "name = \"x\"\nnodes = \"three\"\n",
    );
    let out = run_test(dir.path(), &["--cluster", &spec, "--time-limit", "2s"]);
    assert_eq!(out.status.code(), Some(3));
    let line = first_line(&out);
    assert!(
        line.starts_with("error:") && line.contains("broken.toml"),
        "{line}"
    );
    assert_no_nodes_left(dir.path());
}

#[test]
fn missing_binary_exits_3_naming_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "missing.toml",
        r#"name = "missing"
nodes = 3
command = "/nonexistent/faultline-node"
args = ["--id", "{id}"]
ready = { http_get = "/health", timeout = "2s" }
"#,
    );
    let out = run_test(dir.path(), &["--cluster", &spec, "--time-limit", "2s"]);
    assert_eq!(out.status.code(), Some(3));
    let line = first_line(&out);
    assert!(
        line.starts_with("error:") && line.contains("/nonexistent/faultline-node"),
        "{line}"
    );
}

#[test]
fn port_in_use_exits_3_and_stops_the_other_nodes() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    // Every node is told to bind the taken address for its client API.
    let spec = write(
        dir.path(),
        "taken.toml",
        &format!(
            r#"name = "taken"
nodes = 3
command = "faultline-raft"
args = ["--id", "{{id}}", "--client-addr", "127.0.0.1:{port}", "--peer-addr", "{{peer_addr}}",
        "--peers", "{{peers}}", "--data-dir", "{{data_dir}}"]
ready = {{ http_get = "/health", timeout = "5s" }}
"#
        ),
    );
    let out = run_test(dir.path(), &["--cluster", &spec, "--time-limit", "2s"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = first_line(&out);
    assert!(line.starts_with("error:") && line.contains("n1"), "{line}");
    assert!(stderr.to_lowercase().contains("in use"), "{stderr}");
    assert_no_nodes_left(dir.path());
    drop(taken);
}

#[test]
fn even_node_count_exits_3_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_test(dir.path(), &["--nodes", "4"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(first_line(&out).contains("--nodes"), "{}", first_line(&out));
}

#[test]
fn etcd_with_the_proxy_backend_exits_3_naming_netns() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_test(
        dir.path(),
        &["--cluster", "etcd", "--net", "proxy", "--time-limit", "2s"],
    );
    assert_eq!(out.status.code(), Some(3));
    let line = first_line(&out);
    assert!(
        line.starts_with("error:") && line.contains("--net netns") && line.contains("etcd"),
        "{line}"
    );
    assert_no_nodes_left(dir.path());
}

#[test]
fn an_unreachable_ssh_host_exits_3_naming_the_host() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1 on loopback: nothing listens, so ssh is refused at once.
    let hosts = write(
        dir.path(),
        "hosts.toml",
        "[hosts]\nn1 = \"nobody@127.0.0.1:1\"\n",
    );
    let out = run_test(
        dir.path(),
        &["--hosts", &hosts, "--nodes", "1", "--time-limit", "2s"],
    );
    assert_eq!(out.status.code(), Some(3));
    let line = first_line(&out);
    assert!(
        line.starts_with("error:") && line.contains("nobody@127.0.0.1:1"),
        "{line}"
    );
    assert_no_nodes_left(dir.path());
}
