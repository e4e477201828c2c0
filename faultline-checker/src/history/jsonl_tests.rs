//! Tests of JSONL reading and writing.

use std::io::Cursor;

use serde_json::json;

use super::{read_jsonl, read_jsonl_with_lines, write_jsonl};
use crate::history::{HistoryError, OpType, Process};

fn err(text: &[u8]) -> String {
    match read_jsonl(Cursor::new(text)) {
        Ok(h) => panic!("parsed to {} ops", h.ops.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn reads_the_design_example_and_skips_blank_lines() {
    let text = br#"{"index":0,"time":1234567,"process":3,"type":"invoke","f":"cas","key":"k1","value":[1,2]}

{"index":1,"time":1300000,"process":3,"type":"ok","f":"cas","key":"k1","value":[1,2],"node":"n2"}
   
{"index":2,"time":1400000,"process":"nemesis","type":"info","f":"partition","value":"[n1 n2] [n3 n4 n5]"}
"#;
    let (h, lines) = read_jsonl_with_lines(Cursor::new(&text[..]), 1 << 20).expect("parse");
    assert_eq!(h.ops.len(), 3);
    assert_eq!(lines, vec![1, 3, 5]);
    assert_eq!(h.ops[0].value, json!([1, 2]));
    assert_eq!(h.ops[1].kind, OpType::Ok);
    assert_eq!(h.ops[1].node.as_deref(), Some("n2"));
    assert_eq!(h.ops[2].process, Process::Nemesis);
}

#[test]
fn missing_index_defaults_to_position_and_crlf_is_fine() {
    let text = b"{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\r\n{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"value\":null}";
    let h = read_jsonl(Cursor::new(&text[..])).expect("parse");
    assert_eq!(h.ops[1].index, 1);
    assert_eq!(h.ops[1].value, json!(null));
}

#[test]
fn round_trips_through_write_jsonl() {
    let text = br#"{"index":0,"process":3,"type":"invoke","f":"cas","key":"k1","value":[1,2]}
{"index":1,"time":5,"process":"nemesis","type":"info","f":"kill","value":null,"error":"boom"}
"#;
    let h = read_jsonl(Cursor::new(&text[..])).expect("parse");
    let mut out = Vec::new();
    write_jsonl(&h, &mut out).expect("write");
    let again = read_jsonl(Cursor::new(&out)).expect("reparse");
    assert_eq!(h, again);
}

#[test]
fn reports_line_and_what_is_wrong() {
    let ok = r#"{"index":0,"process":1,"type":"invoke","f":"read"}"#;
    let e = err(format!("{ok}\n{{\"index\":1,\"process\":1,\"ty").as_bytes());
    assert!(e.starts_with("line 2: bad JSON at column"), "{e}");
    let e = err(br#"{"process":"p1","type":"invoke","f":"read"}"#);
    assert_eq!(
        e,
        "line 1: field \"process\" must be a non-negative integer or \"nemesis\", got \"p1\""
    );
    let e = err(br#"{"process":1,"type":"done","f":"read"}"#);
    assert!(e.contains("unknown type \"done\""), "{e}");
    let e = err(br#"{"process":1,"type":"ok","f":7}"#);
    assert!(e.contains("field \"f\" must be a string, got 7"), "{e}");
    let e = err(br#"{"process":1,"type":"ok","f":"read","time":"noon"}"#);
    assert!(e.contains("field \"time\" must be an integer"), "{e}");
    let e = err(br#"{"process":1,"f":"read"}"#);
    assert!(e.contains("missing field \"type\""), "{e}");
    let e = err(b"[1,2]");
    assert!(e.contains("expected a JSON object"), "{e}");
    let e = err(b"[\n{\"process\":1}\n]");
    assert!(e.contains("looks like a JSON array"), "{e}");
    let e = err(b"\xff\xfe\x00garbage\x01");
    assert!(e.contains("not valid UTF-8"), "{e}");
}

#[test]
fn caps_line_length() {
    let long = vec![b'x'; 5000];
    match read_jsonl_with_lines(Cursor::new(long), 1024) {
        Err(e) => assert!(
            e.to_string().contains("longer than the 1024-byte cap"),
            "{e}"
        ),
        Ok(_) => panic!("accepted an over-long line"),
    }
}

#[test]
fn empty_input_is_an_error() {
    for text in [&b""[..], b"\n\n  \n"] {
        assert!(matches!(
            read_jsonl(Cursor::new(text)),
            Err(HistoryError::Empty { .. })
        ));
    }
}

/// Throughput check: `cargo test --lib history::jsonl::tests::loads_a_million_ops -- --ignored --nocapture`.
#[test]
#[ignore = "performance measurement; run explicitly"]
fn loads_a_million_ops() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.jsonl");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    for i in 0..1_000_000u64 {
        let p = (i / 2) % 10;
        let kind = if i % 2 == 0 { "invoke" } else { "ok" };
        writeln!(
            w,
            r#"{{"index":{i},"time":{},"process":{p},"type":"{kind}","f":"cas","key":"k{}","value":[{},{}]}}"#,
            i * 1000,
            p % 3,
            i % 5,
            (i + 1) % 5
        )
        .expect("write");
    }
    drop(w);
    let start = std::time::Instant::now();
    let h = crate::history::load(&path, None).expect("load");
    let load = start.elapsed();
    let start = std::time::Instant::now();
    crate::history::validate(&h).expect("valid");
    eprintln!(
        "loaded {} ops ({} MB) in {load:?}, validated in {:?}",
        h.ops.len(),
        std::fs::metadata(&path)
            .map(|m| m.len() / 1_000_000)
            .unwrap_or(0),
        start.elapsed()
    );
}

#[test]
fn process_deserializes_from_integer_or_nemesis_only() {
    let p: Process = serde_json::from_str("7").expect("int");
    assert_eq!(p, Process::Client(7));
    let p: Process = serde_json::from_str("\"nemesis\"").expect("nemesis");
    assert_eq!(p, Process::Nemesis);
    for bad in ["-1", "\"p1\"", "1.5", "null", "[1]"] {
        assert!(serde_json::from_str::<Process>(bad).is_err(), "{bad}");
    }
}

mod never_panics {
    use proptest::prelude::*;
    use std::io::Cursor;

    proptest! {
        #[test]
        fn on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = super::read_jsonl_with_lines(Cursor::new(bytes), 64);
        }

        #[test]
        fn on_json_like_soup(s in r#"[{}\[\]":,\n a-z0-9\-.]{0,200}"#) {
            let _ = super::read_jsonl(Cursor::new(s.into_bytes()));
        }
    }
}
