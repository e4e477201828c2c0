//! Unit tests of rendering node commands, `{all_nodes}` and per-node files.

use super::*;
use crate::net::NamedPort;
use std::net::SocketAddr;

fn ep(id: &str, c: u16, p: u16, peers: &[(&str, u16)]) -> NodeEndpoints {
    let a = |port| SocketAddr::from(([127, 0, 0, 1], port));
    NodeEndpoints {
        id: id.into(),
        client_bind: a(c),
        client_addr: a(c),
        peer_bind: a(p),
        peers: peers
            .iter()
            .map(|(i, port)| (i.to_string(), a(*port)))
            .collect(),
        command_prefix: vec![],
        named: vec![],
    }
}

fn dirs(id: &str) -> NodeDirs {
    NodeDirs {
        data: PathBuf::from(format!("/d/{id}")),
        conf: PathBuf::from(format!("/c/{id}")),
    }
}

#[test]
fn renders_every_placeholder() {
    let text = r#"
name = "t"
nodes = 3
command = "x"
args = ["--id={id}", "{client_addr}", "{peer_addr}", "{peers}", "{data_dir}", "{client_port}",
    "{peer_port}", "{host}", "{initial_cluster}", "{{lit}}", "{all_peers}"]
env = { NODE = "{id}" }
ready = { http_get = "/health" }
"#;
    let spec = ClusterSpec::parse(text, Path::new("t.toml")).unwrap();
    let all = vec![
        ep("n1", 1001, 2001, &[("n2", 3012), ("n3", 3013)]),
        ep("n2", 1002, 2002, &[("n1", 3021), ("n3", 3023)]),
        ep("n3", 1003, 2003, &[("n1", 3031), ("n2", 3032)]),
    ];
    let cmd = render_node(&spec, Path::new("/bin/x"), &all, &all[0], &dirs("n1"));
    assert_eq!(cmd.program, PathBuf::from("/bin/x"));
    assert_eq!(
        cmd.args,
        [
            "--id=n1",
            "127.0.0.1:1001",
            "127.0.0.1:2001",
            "n2=127.0.0.1:3012,n3=127.0.0.1:3013",
            "/d/n1",
            "1001",
            "2001",
            "127.0.0.1",
            "n1=http://127.0.0.1:2001,n2=http://127.0.0.1:3012,n3=http://127.0.0.1:3013",
            "{lit}",
            "n1=127.0.0.1:2001,n2=127.0.0.1:3012,n3=127.0.0.1:3013",
        ]
    );
    assert_eq!(cmd.env, [("NODE".to_string(), "n1".to_string())]);
}

#[test]
fn command_prefix_goes_first() {
    let spec = ClusterSpec::parse(
        "name='t'\nnodes=1\ncommand='x'\nargs=['{id}']\nready={http_get='/'}\n",
        Path::new("t.toml"),
    )
    .unwrap();
    let mut me = ep("n1", 1, 2, &[]);
    me.command_prefix = vec!["ip".into(), "netns".into(), "exec".into(), "ns1".into()];
    let cmd = render_node(&spec, Path::new("/bin/x"), &[me.clone()], &me, &dirs("n1"));
    assert_eq!(cmd.program, PathBuf::from("ip"));
    assert_eq!(cmd.args, ["netns", "exec", "ns1", "/bin/x", "n1"]);
}

#[test]
fn malformed_templates_are_rejected() {
    assert!(check_template("{id").is_err());
    assert!(check_template("a}b").is_err());
    assert!(check_template("{nope}").unwrap_err().contains("{nope}"));
    assert!(check_peer_template("{id}@{host}:{port}").is_ok());
}

/// Three nodes with an `election` port, as the proxy backend lays them out: every other node's
/// peer and election ports are reached through per-pair addresses (3xyz / 4xyz).
fn zk_layout() -> Vec<NodeEndpoints> {
    let a = |port| SocketAddr::from(([127, 0, 0, 1], port));
    (1..=3u16)
        .map(|k| {
            let mut e = ep(&format!("n{k}"), 1000 + k, 2000 + k, &[]);
            let others: Vec<u16> = (1..=3).filter(|o| *o != k).collect();
            e.peers = others
                .iter()
                .map(|o| (format!("n{o}"), a(3000 + 10 * k + o)))
                .collect();
            e.named = vec![NamedPort {
                name: "election".into(),
                bind: a(5000 + k),
                peers: others
                    .iter()
                    .map(|o| (format!("n{o}"), a(4000 + 10 * k + o)))
                    .collect(),
            }];
            e
        })
        .collect()
}

const ZK_SPEC: &str = r#"
name = "zk"
nodes = 3
command = "java"
args = ["Main", "{conf_dir}/zoo.cfg", "{election_port}"]
ports = ["election"]
all_nodes_format = "server.{n}={host}:{peer_port}:{election_port}"
all_nodes_separator = "\n"
ready = { tcp = "client", send = "srvr", expect = "Mode: " }

[files]
"{data_dir}/myid" = "{n}\n"
"{conf_dir}/zoo.cfg" = """
dataDir={data_dir}
clientPortAddress={host}
clientPort={client_port}
{all_nodes}
"""
"#;

#[test]
fn all_nodes_lists_every_node_as_this_node_reaches_it() {
    let spec = ClusterSpec::parse(ZK_SPEC, Path::new("zk.toml")).unwrap();
    let all = zk_layout();
    let vars = NodeVars::new(&spec, &all, &all[1], &dirs("n2"));
    assert_eq!(
        vars.render("{all_nodes}"),
        "server.1=127.0.0.1:3021:4021\nserver.2=127.0.0.1:2002:5002\nserver.3=127.0.0.1:3023:4023"
    );
    let cmd = command(&spec, Path::new("/usr/bin/java"), &all[1], &vars);
    assert_eq!(cmd.args, ["Main", "/c/n2/zoo.cfg", "5002"]);
    assert_eq!(vars.render("{n} {election_addr}"), "2 127.0.0.1:5002");
}

#[test]
fn files_render_per_node_and_land_in_the_node_directories() {
    let spec = ClusterSpec::parse(ZK_SPEC, Path::new("zk.toml")).unwrap();
    let all = zk_layout();
    let tmp = tempfile::tempdir().unwrap();
    let dirs = NodeDirs {
        data: tmp.path().join("data/n3"),
        conf: tmp.path().join("conf/n3"),
    };
    let files = render_files(&spec, &NodeVars::new(&spec, &all, &all[2], &dirs));
    // Sorted by target: the data directory's files first.
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].contents, "3\n");
    assert_eq!(files[0].path(&dirs), dirs.data.join("myid"));
    let cfg = &files[1].contents;
    assert!(
        cfg.contains(&format!("dataDir={}\n", dirs.data.display())),
        "{cfg}"
    );
    assert!(cfg.contains("clientPort=1003\n"), "{cfg}");
    assert!(cfg.contains("server.3=127.0.0.1:2003:5003"), "{cfg}");
    write_local(&files, &dirs).unwrap();
    assert_eq!(
        std::fs::read_to_string(dirs.data.join("myid")).unwrap(),
        "3\n"
    );
    assert_eq!(
        &std::fs::read_to_string(dirs.conf.join("zoo.cfg")).unwrap(),
        cfg
    );
    // Rendering again replaces the files and leaves no temporary file behind.
    write_local(&files, &dirs).unwrap();
    let names: Vec<_> = std::fs::read_dir(&dirs.conf)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["zoo.cfg"]);
}

#[test]
fn named_port_placeholders_exist_only_for_declared_ports() {
    let ports = vec!["election".to_string()];
    assert!(check_node_template("{election_port} {election_addr} {n}", &ports).is_ok());
    let e = check_node_template("{admin_port}", &ports).unwrap_err();
    assert!(
        e.contains("{admin_port}") && e.contains("{election_port}"),
        "{e}"
    );
    assert!(check_all_nodes_template("{id}:{election_port}", &ports).is_ok());
    assert!(check_all_nodes_template("{data_dir}", &ports).is_err());
}
