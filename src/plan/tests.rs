//! Plan resolution: defaults, bundled files, cross-field checks and error messages.

use super::*;

fn resolve(f: impl FnOnce(&mut PlanInput)) -> Result<Plan, PlanError> {
    let mut input = PlanInput {
        seed: Some(1),
        ..Default::default()
    };
    f(&mut input);
    Plan::resolve(&input)
}

#[test]
fn defaults_are_five_nodes_cas_register_mixed_thirty_seconds() {
    let p = resolve(|_| {}).unwrap();
    assert_eq!(p.cluster.nodes, 5);
    assert_eq!(p.model, ModelKind::CasRegister);
    assert_eq!(p.nemesis.name, "mixed");
    assert_eq!(p.time_limit, Duration::from_secs(30));
    assert_eq!((p.clients, p.rate), (10, 200.0));
    assert_eq!(p.name, "raft-cas-register-mixed");
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
    assert_eq!(p.model, ModelKind::Kv);
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
    assert_eq!(t["workload"]["model"].as_str(), Some("cas-register"));
    assert!(t["nemesis"].is_table());
}
