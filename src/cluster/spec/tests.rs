//! Unit tests of cluster spec parsing, validation and command resolution.

use super::*;
use std::time::Duration;

const GOOD: &str = r#"
name = "raft"
nodes = 5
command = "faultline-raft"
args = ["--id", "{id}", "--peers", "{peers}", "--data-dir", "{data_dir}"]
client = "http-kv"
ready = { http_get = "/health", timeout = "10s" }
"#;

fn parse(text: &str) -> Result<ClusterSpec, SpecError> {
    ClusterSpec::parse(text, Path::new("clusters/x.toml"))
}

#[test]
fn parses_a_valid_spec() {
    let s = parse(GOOD).unwrap();
    assert_eq!(s.nodes, 5);
    assert_eq!(s.client, ClientKind::HttpKv);
    assert_eq!(s.ready.timeout, Duration::from_secs(10));
    assert_eq!(s.peers_format, DEFAULT_PEERS_FORMAT);
    assert_eq!(s.node_ids(), ["n1", "n2", "n3", "n4", "n5"]);
    assert!(s.uses_peer_addresses());
    let fixed = parse(&GOOD.replace("{peers}", "n2=127.0.0.1:1")).unwrap();
    assert!(!fixed.uses_peer_addresses());
}

#[test]
fn to_toml_round_trips() {
    let s = parse(GOOD).unwrap().with_nodes(3).unwrap();
    let again = ClusterSpec::parse(&s.to_toml(), Path::new("clusters/x.toml")).unwrap();
    assert_eq!(again, s);
}

#[test]
fn even_node_count_names_file_and_field() {
    let e = parse(&GOOD.replace("nodes = 5", "nodes = 4")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "clusters/x.toml: field \"nodes\": must be odd and >= 1, got 4"
    );
    let e = parse(GOOD).unwrap().with_nodes(0).unwrap_err();
    assert!(e.to_string().contains("field \"nodes\""), "{e}");
}

#[test]
fn unknown_fields_are_rejected() {
    let e = parse(&format!("{GOOD}\nbogus = 1\n")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("clusters/x.toml: "), "{msg}");
    assert!(msg.contains("bogus"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
}

#[test]
fn unknown_placeholder_is_rejected() {
    let e = parse(&GOOD.replace("{data_dir}", "{datadir}")).unwrap_err();
    assert!(e.to_string().contains("field \"args[5]\""), "{e}");
    assert!(e.to_string().contains("{datadir}"), "{e}");
}

#[test]
fn names_must_be_path_safe() {
    let e = parse(&GOOD.replace("name = \"raft\"", "name = \"../x\"")).unwrap_err();
    assert!(e.to_string().contains("field \"name\""), "{e}");
}

#[test]
fn bad_timeout_and_path_are_rejected() {
    let e = parse(&GOOD.replace("\"10s\"", "\"soon\"")).unwrap_err();
    assert!(e.to_string().contains("field \"ready.timeout\""), "{e}");
    let e = parse(&GOOD.replace("\"/health\"", "\"health\"")).unwrap_err();
    assert!(e.to_string().contains("field \"ready.http_get\""), "{e}");
    let e = parse(&GOOD.replace("\"http-kv\"", "\"grpc\"")).unwrap_err();
    assert!(e.to_string().contains("client"), "{e}");
}

#[test]
fn missing_command_is_a_clear_error() {
    let s = parse(&GOOD.replace("faultline-raft", "no-such-binary-xyz")).unwrap();
    let e = s.resolve_command().unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("\"no-such-binary-xyz\" not found"), "{msg}");
    assert!(msg.contains("field \"command\""), "{msg}");
}

#[test]
fn commands_resolve_on_path_and_relative_to_the_spec() {
    let s = parse(&GOOD.replace("faultline-raft", "sh")).unwrap();
    assert!(s.resolve_command().unwrap().ends_with("sh"));
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("node.sh");
    std::fs::write(&bin, "#!/bin/sh\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let spec = dir.path().join("c.toml");
    let s = ClusterSpec::parse(&GOOD.replace("faultline-raft", "./node.sh"), &spec).unwrap();
    assert_eq!(s.resolve_command().unwrap(), dir.path().join("./node.sh"));
}

const ZK: &str = r#"
name = "zk"
nodes = 3
command = "java"
args = ["{conf_dir}/zoo.cfg"]
client = "zookeeper"
ports = ["election"]
all_nodes_format = "server.{n}={host}:{peer_port}:{election_port}"
all_nodes_separator = "\n"
client_options = { read = "sync" }
requires = { "/bin/sh" = "apt-get install dash" }
ready = { tcp = "client", send = "srvr", expect = "Mode: ", timeout = "60s" }

[files]
"{data_dir}/myid" = "{n}\n"
"{conf_dir}/zoo.cfg" = "dataDir={data_dir}\n{all_nodes}\n"
"#;

#[test]
fn parses_ports_files_and_a_tcp_ready_check() {
    let s = parse(ZK).unwrap();
    assert_eq!(s.client, ClientKind::Zookeeper);
    assert_eq!(s.ports, ["election"]);
    assert_eq!(s.all_nodes_separator, "\n");
    assert_eq!(
        s.ready.probe,
        ReadyProbe::Tcp {
            port: PortRef::Client,
            send: Some("srvr".into()),
            expect: Some("Mode: ".into()),
        }
    );
    assert_eq!(s.ready.timeout, Duration::from_secs(60));
    let targets: Vec<String> = s.files.iter().map(|f| f.target.to_string()).collect();
    assert_eq!(targets, ["{data_dir}/myid", "{conf_dir}/zoo.cfg"]);
    // {all_nodes} in a file counts as naming the peers.
    assert!(s.uses_peer_addresses());
    let again = ClusterSpec::parse(&s.to_toml(), Path::new("clusters/x.toml")).unwrap();
    assert_eq!(again, s);
}

#[test]
fn http_checks_may_ask_another_port() {
    let s = parse(&ZK.replace(
        r#"ready = { tcp = "client", send = "srvr", expect = "Mode: ", timeout = "60s" }"#,
        r#"ready = { http_get = "/commands/ruok", port = "election" }"#,
    ))
    .unwrap();
    assert_eq!(
        s.ready.probe,
        ReadyProbe::HttpGet {
            path: "/commands/ruok".into(),
            port: PortRef::Named("election".into()),
        }
    );
    let again = ClusterSpec::parse(&s.to_toml(), Path::new("clusters/x.toml")).unwrap();
    assert_eq!(again, s);
}

#[test]
fn ready_errors_name_the_field() {
    let ready = |r: &str| {
        parse(&ZK.replace(
            r#"ready = { tcp = "client", send = "srvr", expect = "Mode: ", timeout = "60s" }"#,
            r,
        ))
        .unwrap_err()
        .to_string()
    };
    let e = ready(r#"ready = { tcp = "admin" }"#);
    assert!(
        e.contains("field \"ready.tcp\"") && e.contains("\"admin\""),
        "{e}"
    );
    let e = ready(r#"ready = { tcp = "client", expect = "x" }"#);
    assert!(e.contains("field \"ready.expect\""), "{e}");
    let e = ready(r#"ready = { tcp = "client", http_get = "/" }"#);
    assert!(e.contains("field \"ready.tcp\""), "{e}");
    let e = ready(r#"ready = { timeout = "1s" }"#);
    assert!(e.contains("field \"ready\""), "{e}");
    let e = ready(r#"ready = { http_get = "/", send = "x" }"#);
    assert!(e.contains("field \"ready.send\""), "{e}");
    let e = ready(r#"ready = { http_get = "/", port = "nope" }"#);
    assert!(e.contains("field \"ready.port\""), "{e}");
}

#[test]
fn port_and_file_errors_name_the_field() {
    let e = parse(&ZK.replace(r#"ports = ["election"]"#, r#"ports = ["peer"]"#)).unwrap_err();
    assert!(e.to_string().contains("field \"ports\""), "{e}");
    let e = parse(&ZK.replace(r#"ports = ["election"]"#, r#"ports = ["Election"]"#)).unwrap_err();
    assert!(e.to_string().contains("field \"ports\""), "{e}");
    let e = parse(&ZK.replace(r#"ports = ["election"]"#, r#"ports = ["a", "a"]"#)).unwrap_err();
    assert!(e.to_string().contains("listed twice"), "{e}");
    // Without the port, its placeholders are unknown, in files and in all_nodes_format alike.
    let e = parse(&ZK.replace(r#"ports = ["election"]"#, "")).unwrap_err();
    assert!(e.to_string().contains("field \"all_nodes_format\""), "{e}");
    let e = parse(&ZK.replace("{data_dir}/myid", "/etc/myid")).unwrap_err();
    assert!(e.to_string().contains("field \"files\""), "{e}");
    let e = parse(&ZK.replace("\"{n}\\n\"", "\"{m}\"")).unwrap_err();
    assert!(
        e.to_string().contains("field \"files[{data_dir}/myid]\""),
        "{e}"
    );
}

#[test]
fn a_missing_requirement_names_the_file_and_how_to_get_it() {
    let s = parse(ZK).unwrap();
    assert!(s.check_requires().is_ok());
    let s = parse(&ZK.replace("/bin/sh", "/no/such/zookeeper.jar")).unwrap();
    assert_eq!(
        s.check_requires().unwrap_err().to_string(),
        "clusters/x.toml: field \"requires\": /no/such/zookeeper.jar does not exist; apt-get install dash"
    );
    let e = parse(&ZK.replace("/bin/sh", "bin/sh")).unwrap_err();
    assert!(e.to_string().contains("field \"requires\""), "{e}");
}
