//! Plan resolution: defaults, bundled files, cross-field checks and error messages.

use super::*;
use crate::checker::ModelKind;

fn resolve(f: impl FnOnce(&mut PlanInput)) -> Result<Plan, PlanError> {
    let mut input = PlanInput {
        seed: Some(1),
        ..Default::default()
    };
    f(&mut input);
    Plan::resolve(&input)
}

#[test]
fn defaults_are_five_nodes_contention_default_nemesis_thirty_seconds() {
    let p = resolve(|_| {}).unwrap();
    assert_eq!(p.cluster.nodes, 5);
    assert_eq!(p.check, CheckPlan::Linear(ModelKind::Kv));
    assert_eq!(p.workload.name, "contention");
    assert_eq!(p.nemesis.name, "default");
    assert_eq!(p.nemesis.order, crate::nemesis::Order::Families);
    assert_eq!(p.time_limit, Duration::from_secs(30));
    assert_eq!((p.clients, p.rate), (10, 200.0));
    assert_eq!(p.name, "raft-contention-default");
}

#[test]
fn random_seed_is_drawn_when_absent() {
    let p = Plan::resolve(&PlanInput::default()).unwrap();
    assert!(p.seed_was_random);
    assert!(p.rerun_command().contains(&format!("--seed {}", p.seed)));
}

#[test]
fn even_node_count_is_rejected_naming_the_flag() {
    let e = resolve(|i| i.nodes = Some(4)).unwrap_err().to_string();
    assert!(e.starts_with("--nodes"), "{e}");
}

#[test]
fn short_names_find_bundled_files() {
    let p = resolve(|i| {
        i.workload = Some("kv".into());
        i.nemesis = Some("kill".into());
    })
    .unwrap();
    assert_eq!(p.check, CheckPlan::Linear(ModelKind::Kv));
    assert_eq!(p.nemesis.name, "kill");
}

#[test]
fn bug_is_appended_to_the_node_args() {
    let p = resolve(|i| i.bug = Some("stale-read".into())).unwrap();
    let n = p.cluster.args.len();
    assert_eq!(&p.cluster.args[n - 2..], ["--bug", "stale-read"]);
    let e = resolve(|i| i.bug = Some("nope".into()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("known bugs"), "{e}");
}

#[test]
fn bad_flags_name_themselves() {
    for (f, want) in [
        (
            Box::new(|i: &mut PlanInput| i.time_limit = Some("soon".into()))
                as Box<dyn FnOnce(&mut PlanInput)>,
            "--time-limit",
        ),
        (
            Box::new(|i: &mut PlanInput| i.clients = Some(0)),
            "--clients",
        ),
        (Box::new(|i: &mut PlanInput| i.rate = Some(-1.0)), "--rate"),
        (
            Box::new(|i: &mut PlanInput| i.net = Some("tc".into())),
            "--net",
        ),
        (
            Box::new(|i: &mut PlanInput| i.name = Some("../x".into())),
            "--name",
        ),
    ] {
        let e = resolve(f).unwrap_err().to_string();
        assert!(e.starts_with(want), "{e}");
    }
}

#[test]
fn missing_file_names_the_path() {
    let e = resolve(|i| i.cluster = Some("nowhere/c.toml".into()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("nowhere/c.toml"), "{e}");
}

#[test]
fn test_toml_holds_seed_and_specs() {
    let p = resolve(|i| i.seed = Some(42)).unwrap();
    let text = p.to_toml();
    let t: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(t["test"]["seed"].as_str(), Some("42"));
    assert_eq!(t["cluster"]["nodes"].as_integer(), Some(5));
    assert_eq!(t["workload"]["model"].as_str(), Some("kv"));
    assert_eq!(t["workload"]["key_distribution"].as_str(), Some("hot-cold"));
    assert_eq!(t["workload"]["hot_keys"].as_integer(), Some(2));
    assert!(t["nemesis"].is_table());
}

/// `--rerun` reads a stored test.toml back into the same plan; flags given next to it win.
#[test]
fn rerun_repeats_a_stored_plan_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = resolve(|i| {
        i.workload = Some("kv".into());
        i.nemesis = Some("kill".into());
        i.nodes = Some(3);
        i.bug = Some("stale-read".into());
        i.seed = Some(u64::MAX - 7);
        i.rate = Some(123.5);
        i.time_limit = Some("7s".into());
    })
    .unwrap();
    std::fs::write(dir.path().join("test.toml"), first.to_toml()).unwrap();

    let again = Plan::resolve(&PlanInput {
        rerun: Some(dir.path().to_path_buf()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(again.seed, first.seed);
    assert!(!again.seed_was_random);
    assert_eq!(
        again.cluster.args, first.cluster.args,
        "--bug appended once"
    );
    assert_eq!(again.cluster.nodes, 3);
    assert_eq!(again.workload, first.workload);
    assert_eq!(again.nemesis.faults, first.nemesis.faults);
    assert_eq!(again.nemesis.interval, first.nemesis.interval);
    assert_eq!(
        (again.clients, again.rate, again.time_limit),
        (first.clients, 123.5, Duration::from_secs(7))
    );
    assert_eq!((&again.bug, &again.name), (&first.bug, &first.name));

    let longer = Plan::resolve(&PlanInput {
        rerun: Some(dir.path().join("test.toml")),
        time_limit: Some("1m".into()),
        nemesis: Some("pause".into()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(longer.time_limit, Duration::from_secs(60));
    assert_eq!(longer.nemesis.name, "pause");
    assert_eq!(longer.seed, first.seed);
}

#[test]
fn rerun_of_a_missing_or_broken_run_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let rerun = |p: std::path::PathBuf| {
        Plan::resolve(&PlanInput {
            rerun: Some(p),
            ..Default::default()
        })
        .unwrap_err()
        .to_string()
    };
    let e = rerun(dir.path().to_path_buf());
    assert!(e.starts_with("--rerun ") && e.contains("test.toml"), "{e}");
    assert!(e.contains("cannot read"), "{e}");
    let f = dir.path().join("test.toml");
    std::fs::write(&f, "not = [toml").unwrap();
    assert!(rerun(f.clone()).contains("not a faultline test.toml"));
    std::fs::write(&f, "[test]\nseed = \"1\"\n").unwrap();
    assert!(rerun(f.clone()).contains("missing table [cluster]"));
    std::fs::write(
        &f,
        "[test]\nseed = \"x\"\n[cluster]\n[workload]\n[nemesis]\n",
    )
    .unwrap();
    assert!(rerun(f).contains("[test] seed"));
}

#[test]
fn hosts_place_every_node_and_imply_the_hosts_backend() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hosts.toml");
    std::fs::write(
        &file,
        "[hosts]\nn1 = \"root@10.0.0.1\"\nn2 = \"root@10.0.0.2\"\nn3 = \"root@10.0.0.3\"\n",
    )
    .unwrap();
    let p = resolve(|i| {
        i.hosts = Some(file.clone());
        i.nodes = Some(3);
    })
    .unwrap();
    assert_eq!(p.net, NetKind::Hosts);
    assert!(
        p.rerun_command().contains("--hosts"),
        "{}",
        p.rerun_command()
    );
    assert!(p.to_toml().contains("hosts = "), "{}", p.to_toml());
    // Five nodes need five hosts: the missing ones are named.
    let e = resolve(|i| i.hosts = Some(file.clone()))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("--hosts") && e.contains("n4, n5"), "{e}");
    // --net proxy|netns cannot be combined with remote hosts.
    let e = resolve(|i| {
        i.hosts = Some(file.clone());
        i.nodes = Some(3);
        i.net = Some("netns".into());
    })
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("--net") && e.contains("--hosts"), "{e}");
    let e = resolve(|i| i.net = Some("hosts".into()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("--hosts FILE"), "{e}");
    // A missing or malformed hosts file is named.
    let e = resolve(|i| i.hosts = Some(dir.path().join("nope.toml")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope.toml"), "{e}");
}

#[test]
fn bundled_zookeeper_specs_parse_and_differ_only_in_read_mode() {
    let load = |name: &str| match bundled::resolve_file(Path::new(name), "clusters") {
        bundled::Source::Bundled(p, text) => ClusterSpec::parse(text, Path::new(p)).unwrap(),
        bundled::Source::File(p) => ClusterSpec::load(&p).unwrap(),
    };
    let plain = load("zookeeper");
    let sync = load("zookeeper-sync");
    assert_eq!(plain.client, crate::cluster::ClientKind::Zookeeper);
    assert_eq!(plain.client_options["read"], "plain");
    assert_eq!(sync.client_options["read"], "sync");
    assert_eq!(
        (plain.nodes, plain.ports.as_slice()),
        (3, ["election".to_string()].as_slice())
    );
    assert_eq!(
        (&plain.args, &plain.files, &plain.ready, &plain.requires),
        (&sync.args, &sync.files, &sync.ready, &sync.requires)
    );
    assert!(plain.uses_peer_addresses());
}

#[test]
fn transaction_workloads_check_isolation_and_refuse_zookeeper() {
    let p = resolve(|i| i.workload = Some("list-append".into())).unwrap();
    assert_eq!(
        p.check,
        CheckPlan::Txn {
            kind: crate::workload::TxnKind::ListAppend,
            consistency_models: vec![crate::checker::txn::ConsistencyModel::strict_serializable()],
        }
    );
    assert_eq!(p.config_pairs()["model"], "list-append");
    let e = resolve(|i| {
        i.workload = Some("rw-register".into());
        i.cluster = Some("zookeeper".into());
    })
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("--workload") && e.contains("zookeeper"),
        "{e}"
    );
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w.toml");
    std::fs::write(
        &w,
        "name='w'\nmodel='list-append'\nconsistency_models=['serialisable']\n[mix]\nread=1\n",
    )
    .unwrap();
    let e = resolve(|i| i.workload = Some(w.clone()))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("consistency_models") && e.contains("w.toml"),
        "{e}"
    );
}
