//! The generator's histories are what it claims: clean ones pass every model, each injected
//! anomaly is found with its class, and the JSONL writer agrees with the in-memory history.

use super::*;
use crate::txn::{check, check_jsonl, TxnOptions, TxnVerdict};

fn cfg(model: TxnModel, seed: u64, inject: Option<Inject>) -> GenConfig {
    GenConfig {
        seed,
        model,
        txns: 400,
        processes: 8,
        inject,
        ..GenConfig::default()
    }
}

#[test]
fn clean_histories_are_strict_serializable() {
    for model in [TxnModel::ListAppend, TxnModel::RwRegister] {
        for seed in 0..4 {
            let h = generate(&cfg(model, seed, None));
            let opts = TxnOptions {
                model,
                linearizable_keys: model == TxnModel::RwRegister,
                ..TxnOptions::default()
            };
            let r = check(&h, &opts).expect("check");
            assert_eq!(
                r.valid,
                TxnVerdict::Valid,
                "{model:?} seed {seed}: {:?}",
                r.anomaly_types
            );
            assert!(
                r.stats.fail > 0 && r.stats.info > 0 && r.stats.edges > 0,
                "{:?}",
                r.stats
            );
        }
    }
}

#[test]
fn every_injected_anomaly_is_found_with_its_class() {
    for model in [TxnModel::ListAppend, TxnModel::RwRegister] {
        for (inj, name) in Inject::ALL {
            if !inj.supports(model) {
                continue;
            }
            let h = generate(&cfg(model, 3, Some(inj)));
            let r = check(
                &h,
                &TxnOptions {
                    model,
                    ..TxnOptions::default()
                },
            )
            .expect("check");
            let types: Vec<&str> = r.anomaly_types.iter().map(|a| a.name()).collect();
            assert_eq!(r.valid, TxnVerdict::Invalid, "{model:?} {inj:?}: {types:?}");
            assert!(types.contains(&name), "{model:?} {inj:?}: {types:?}");
        }
    }
}

#[test]
fn jsonl_output_matches_the_history() {
    let c = cfg(TxnModel::ListAppend, 9, Some(Inject::G1c));
    let h = generate(&c);
    let mut a = Vec::new();
    crate::history::write_jsonl(&h, &mut a).expect("write");
    let mut b = Vec::new();
    generate_jsonl(&c, &mut b).expect("jsonl");
    let parsed = crate::history::read_jsonl(b.as_slice()).expect("parse");
    assert_eq!(parsed, h);
    let opts = TxnOptions::default();
    let (mut x, mut y) = (
        check(&h, &opts).expect("slow"),
        check_jsonl(&b, &opts).expect("fast"),
    );
    x.stats.elapsed_ms = 0;
    y.stats.elapsed_ms = 0;
    assert_eq!(x, y);
}
