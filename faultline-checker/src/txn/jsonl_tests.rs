//! The JSONL fast path against the history path: same acceptance, same reports, errors with
//! their line, streaming across chunk boundaries.

use super::*;

#[test]
fn jsonl_fast_path_agrees_with_history_path() {
    let h = la(&[
        (Okay, "ax1ry1"),
        (Okay, "ax2ay1"),
        (Okay, "rx12"),
        (Fail, "ay3"),
        (Info, "az1"),
    ]);
    let hist = crate::history::History { ops: h.ops.clone() };
    let mut bytes = Vec::new();
    crate::history::write_jsonl(&hist, &mut bytes).expect("write");
    let opts = TxnOptions::default();
    let mut a = check(&hist, &opts).expect("slow");
    let mut b = check_jsonl(&bytes, &opts).expect("fast");
    a.stats.elapsed_ms = 0;
    b.stats.elapsed_ms = 0;
    assert_eq!(a, b);
}

#[test]
fn streaming_reader_agrees_across_chunk_boundaries() {
    let c = generate::GenConfig {
        txns: 60,
        inject: Some(generate::Inject::G1c),
        ..Default::default()
    };
    let mut bytes = Vec::new();
    generate::generate_jsonl(&c, &mut bytes).expect("jsonl");
    bytes.extend_from_slice(b"\n\n");
    let whole =
        match jsonl::read(&bytes, TxnModel::ListAppend, jsonl::Limits::none()).expect("read") {
            jsonl::Parsed::Done(t) => t,
            jsonl::Parsed::OverBudget(r) => panic!("{r}"),
        };
    for chunk in [1, 7, 100, 4096] {
        let t = match jsonl::read_chunked(
            bytes.as_slice(),
            TxnModel::ListAppend,
            jsonl::Limits::none(),
            chunk,
        )
        .expect("read")
        {
            jsonl::Parsed::Done(t) => t,
            jsonl::Parsed::OverBudget(r) => panic!("{r}"),
        };
        assert_eq!(
            (t.txns.len(), t.mops.clone(), t.elems.clone()),
            (whole.txns.len(), whole.mops.clone(), whole.elems.clone()),
            "chunk {chunk}"
        );
    }
    let opts = TxnOptions::default();
    let mut a = check_jsonl(&bytes, &opts).expect("bytes");
    let mut b = check_jsonl_read(bytes.as_slice(), &opts).expect("stream");
    a.stats.elapsed_ms = 0;
    b.stats.elapsed_ms = 0;
    assert_eq!(a, b);
    assert_eq!(a.valid, TxnVerdict::Invalid);
}

#[test]
fn bad_lines_name_their_line() {
    let text = "{\"process\":0,\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"append\",\"x\",1]]}\n\n{\"process\":0,\"type\":\"ok\",\"f\":\"txn\",\"value\":[[\"w\",\"x\",1]]}\n";
    let e = check_jsonl(text.as_bytes(), &TxnOptions::default()).expect_err("bad mop");
    let s = e.to_string();
    assert!(
        s.starts_with("line 3: micro-op 1") && s.contains("use --model rw-register"),
        "{s}"
    );
    let e = check_jsonl(
        b"{\"process\":0,\"type\":\"ok\",\"f\":\"txn\",\"value\":[]}\n",
        &TxnOptions::default(),
    )
    .expect_err("no invoke");
    assert!(
        e.to_string()
            .contains("line 1: completion (ok) for process 0 has no pending invoke"),
        "{e}"
    );
    let e = check_jsonl(
        b"{\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n",
        &TxnOptions::default(),
    )
    .expect_err("not txn");
    assert!(e.to_string().contains("f is \"read\""), "{e}");
    let e = check_jsonl(b"{\"process\":0,\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"append\",\"\\u0078\",1]]}\n{\"process\":0", &TxnOptions::default()).expect_err("truncated");
    assert!(e.to_string().starts_with("line 2: bad JSON"), "{e}");
}

/// The fast JSONL path accepts exactly what the history path accepts, and reads it the same.
#[test]
fn fast_path_accepts_and_rejects_like_the_history_path() {
    let inv =
        r#"{"process":0,"type":"invoke","f":"txn","value":[["append","x",1],["r","y",null]]}"#;
    let variants = [
        r#"{"process":0,"type":"ok","f":"txn","value":[["append","x",1],["r","y",[]]],"node":"n1"}"#,
        r#"{"process":0,"type":"ok","f":"txn","value":[["append","x",1],["r","y",[]]],"node":5}"#,
        r#"{"process":0,"type":"ok","type":"ok","f":"txn","value":[["append","x",1],["r","y",[]]]}"#,
        r#"{"process":0,"type":"ok","f":"txn","value":[["append","\u0078",1],["r","y",[]]]}"#,
        r#"{"process":0,"type":"ok","f":"txn","value":[["append","x",1],["r","y",[01]]]}"#,
        r#"{"process":0,"type":"ok","f":"txn","time":null,"index":null,"value":[["append","x",1],["r","y",null]]}"#,
        r#"{"process":0,"type":"ok","f":"txn","extra":{"a":[1,2.5e3,"s"]},"value":[["append","x",1],["r","y",[]]]}"#,
        r#"{"value":[["append","x",1],["r","y",[]]],"process":0,"type":"ok","f":"txn"}"#,
        r#"{"process":0,"type":"ok","f":"txn","value":[["append","x",1],["r","y",[]]]} trailing"#,
        r#"{"process":0,"type":"ok","f":"txn","value":[["append","x",1.0],["r","y",[-0]]]}"#,
        r#"{"process":0,"type":"ok","f":"txn","value":[["append","x",1],["r","y"]]}"#,
        r#"{"process":-1,"type":"ok","f":"txn","value":[["append","x",1],["r","y",[]]]}"#,
    ];
    let opts = TxnOptions::default();
    for (i, v) in variants.iter().enumerate() {
        let text = format!("{inv}\n{v}\n");
        let slow = crate::history::read_jsonl(text.as_bytes())
            .map_err(|e| e.to_string())
            .and_then(|h| check(&h, &opts).map_err(|e| e.to_string()));
        let fast = check_jsonl(text.as_bytes(), &opts).map_err(|e| e.to_string());
        match (slow, fast) {
            (Ok(mut a), Ok(mut b)) => {
                a.stats.elapsed_ms = 0;
                b.stats.elapsed_ms = 0;
                assert_eq!(a, b, "variant {i}");
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!("variant {i}: history path {a:?}, fast path {b:?}"),
        }
    }
}
