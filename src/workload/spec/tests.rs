//! Tests of the workload file: bundled files load, every field is checked and named.

use super::*;

#[test]
fn bundled_workloads_load() {
    for f in [
        "register",
        "cas-register",
        "kv",
        "list-append",
        "rw-register",
        "contention",
    ] {
        let path = format!("{}/workloads/{f}.toml", env!("CARGO_MANIFEST_DIR"));
        let spec = WorkloadSpec::load(Path::new(&path)).unwrap();
        assert_eq!(spec.name, f);
    }
}

#[test]
fn errors_name_the_field() {
    let e = WorkloadSpec::parse("name='x'\nmodel='register'\n[mix]\ncas=1\n", "w.toml");
    assert!(e.unwrap_err().to_string().contains("mix.cas"));
    let e = WorkloadSpec::parse("name='x'\nmodel='nope'\n[mix]\nread=1\n", "w.toml");
    assert!(e.unwrap_err().to_string().contains("`model`"));
    let e = WorkloadSpec::parse("name='x'\nmodel='kv'\nkeyz=3\n[mix]\nread=1\n", "w.toml");
    assert!(e.unwrap_err().to_string().contains("keyz"));
    let e = WorkloadSpec::parse("name='x'\nmodel='kv'\n[mix]\nread=0\n", "w.toml");
    assert!(e.unwrap_err().to_string().contains("`mix`"));
}

#[test]
fn transaction_fields_are_checked_and_kept_to_transaction_workloads() {
    let ok = WorkloadSpec::parse(
        "name='t'\nmodel='list-append'\nkeys=4\ntxn_length=[2,3]\nmax_writes_per_key=5\n[mix]\nread=1\nwrite=1\n",
        "w.toml",
    )
    .unwrap();
    let WorkloadKind::Txn(shape) = ok.kind().unwrap() else {
        panic!("a transaction workload")
    };
    assert_eq!(
        (shape.kind, shape.length, shape.max_writes_per_key),
        (TxnKind::ListAppend, [2, 3], 5)
    );
    for (text, field) in [
        ("model='kv'\ntxn_length=[1,2]", "`txn_length`"),
        ("model='rw-register'\ntxn_length=[0,2]", "`txn_length`"),
        ("model='rw-register'\ntxn_length=[3,2]", "`txn_length`"),
        ("model='list-append'\nvalues=[0,4]", "`values`"),
        (
            "model='list-append'\nmax_writes_per_key=0",
            "`max_writes_per_key`",
        ),
        (
            "model='list-append'\nconsistency_models=[]",
            "`consistency_models`",
        ),
    ] {
        let e = WorkloadSpec::parse(&format!("name='x'\n{text}\n[mix]\nread=1\n"), "w.toml");
        let e = e.unwrap_err().to_string();
        assert!(e.contains(field), "{text}: {e}");
    }
    let e = WorkloadSpec::parse(
        "name='x'\nmodel='list-append'\n[mix]\nread=1\ncas=1\n",
        "w.toml",
    );
    assert!(e.unwrap_err().to_string().contains("mix.cas"));
}

#[test]
fn hot_cold_fields_are_checked_and_named() {
    let parse = |extra: &str| {
        WorkloadSpec::parse(
            &format!("name='x'\nmodel='kv'\nkeys=10\n{extra}\n[mix]\nread=1\n"),
            "w.toml",
        )
    };
    let ok = parse(
        "key_distribution='hot-cold'\nhot_keys=2\nhot_share=0.5\ncold_values=[10,99]\narrivals='poisson'",
    )
    .unwrap();
    assert_eq!(ok.cold_values, Some([10, 99]));
    assert_eq!(ok.key_distribution, KeyDistribution::HotCold);
    assert_eq!((ok.hot_keys, ok.hot_share), (Some(2), Some(0.5)));
    for (extra, field) in [
        ("key_distribution='hot-cold'\nhot_share=0.5", "`hot_keys`"),
        ("key_distribution='hot-cold'\nhot_keys=2", "`hot_share`"),
        (
            "key_distribution='hot-cold'\nhot_keys=10\nhot_share=0.5",
            "`hot_keys`",
        ),
        (
            "key_distribution='hot-cold'\nhot_keys=0\nhot_share=0.5",
            "`hot_keys`",
        ),
        (
            "key_distribution='hot-cold'\nhot_keys=2\nhot_share=1.5",
            "`hot_share`",
        ),
        (
            "key_distribution='hot-cold'\nhot_keys=2\nhot_share=0",
            "`hot_share`",
        ),
        ("hot_keys=2", "`hot_keys`"),
        ("key_distribution='zipf'\nhot_share=0.2", "`hot_share`"),
        ("cold_values=[1,9]", "`cold_values`"),
        (
            "key_distribution='hot-cold'\nhot_keys=2\nhot_share=0.5\ncold_values=[9,1]",
            "`cold_values`",
        ),
    ] {
        let e = parse(extra).unwrap_err().to_string();
        assert!(e.contains(field), "{extra}: {e}");
        assert!(e.starts_with("workload file w.toml"), "{e}");
    }
    // The parsed spec renders back to TOML that parses to the same spec (test.toml).
    let again = WorkloadSpec::parse(&toml::to_string(&ok).unwrap(), "t").unwrap();
    assert_eq!(again, ok);
}
