//! The parallel JSONL reader against the sequential one (the reference): on random histories,
//! good and bad, cut into tiny blocks and pieces so every boundary is crossed, both give the same
//! ops and lines, or the same error on the same line.

use std::io::Cursor;

use proptest::prelude::*;

use super::{read_with, Sizes};
use crate::history::jsonl::read_jsonl_with_lines;
use crate::history::CompactHistory;

fn tiny(max_line: usize, block: usize, piece: usize) -> Sizes {
    Sizes {
        max_line,
        block,
        piece,
    }
}

/// Both readers on `text`: `Ok` when they agree, else what differs.
fn agree(text: &[u8], sizes: Sizes) -> Result<(), String> {
    let seq = read_jsonl_with_lines(Cursor::new(text), sizes.max_line);
    let fast = read_with(Cursor::new(text), "", sizes);
    match (seq, fast) {
        (Ok((h, lines)), Ok(c)) => {
            let got = c.to_history();
            if got != h {
                return Err(format!("ops differ:\n{:?}\n{:?}", h.ops, got.ops));
            }
            let fast_lines: Vec<u64> = (0..c.len()).map(|i| c.line(i).unwrap_or(0)).collect();
            if fast_lines != lines {
                return Err(format!("lines differ: {lines:?} vs {fast_lines:?}"));
            }
            Ok(())
        }
        (Err(a), Err(b)) if a.to_string() == b.to_string() => Ok(()),
        (a, b) => Err(format!(
            "outcomes differ: sequential {:?}, parallel {:?}",
            a.map(|(h, _)| h.ops.len()).map_err(|e| e.to_string()),
            b.map(|c| c.len()).map_err(|e| e.to_string())
        )),
    }
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_string()),
        (0i64..4).prop_map(|i| i.to_string()),
        Just("-3".to_string()),
        Just("-0".to_string()),
        Just("2.5".to_string()),
        Just("true".to_string()),
        "[a-c3]{0,2}".prop_map(|s| format!("\"{s}\"")),
        Just(r#""\u0061""#.to_string()),
        Just(r#""é\"q""#.to_string()),
        Just(r#""]}{[,\\""#.to_string()),
        Just("1e2".to_string()),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => scalar(),
        1 => (scalar(), scalar()).prop_map(|(a, b)| format!("[{a}, {b}]")),
        1 => (scalar(), scalar()).prop_map(|(a, b)| format!("[{a},{b}]")),
        1 => scalar().prop_map(|a| format!("{{\"x\": {a}}}")),
    ]
}

/// One line: an op (fields in random order, some optional), a blank line, or garbage.
fn line() -> impl Strategy<Value = String> {
    let op = (
        prop_oneof![
            (0u64..4).prop_map(|p| p.to_string()),
            Just("\"nemesis\"".to_string())
        ],
        prop_oneof![Just("invoke"), Just("ok"), Just("fail"), Just("info")],
        prop_oneof![Just("read"), Just("write"), Just("cas")],
        proptest::option::of(scalar()),
        proptest::option::of(value()),
        proptest::option::of(0u64..6),
        proptest::option::of(prop_oneof![Just("\"n1\""), Just("\"boom\"")]),
        proptest::option::of(prop_oneof![Just("7"), Just("-2"), Just("-0"), Just("null")]),
        any::<bool>(),
    )
        .prop_map(|(p, t, f, key, value, index, node, time, reverse)| {
            let mut fields = vec![
                format!("\"process\" : {p} "),
                format!("\"type\":\"{t}\""),
                format!("\"f\":\"{f}\""),
            ];
            fields.extend(key.map(|k| format!("\"key\":{k}")));
            fields.extend(value.map(|v| format!("\"value\": {v}")));
            fields.extend(index.map(|i| format!("\"index\":{i}")));
            fields.extend(node.map(|n| format!("\"node\":{n}")));
            fields.extend(time.map(|t| format!("\"time\":{t}")));
            if reverse {
                fields.reverse();
            }
            format!("{{{}}}", fields.join(","))
        });
    prop_oneof![
        12 => op,
        1 => Just(String::new()),
        1 => Just("  \r".to_string()),
    ]
}

fn garbage() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{\"process\":1,\"type\":\"invoke\"".to_string()),
        Just("[1, 2]".to_string()),
        Just("{\"process\":1,\"type\":\"maybe\",\"f\":\"read\"}".to_string()),
        Just("{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":[1]}".to_string()),
        Just("{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"value\":1e999}".to_string()),
        Just("x".repeat(90)),
        Just("\u{1F600}".to_string()),
        Just(r#"{"process":1,"type":"ok","f":"read","value":[1,,2]}"#.to_string()),
        Just(r#"{"process":1,"type":"ok","f":"read","value":[1}}"#.to_string()),
        Just(r#"{"process":1,"type":"ok","f":"read","value":tru}"#.to_string()),
        Just(r#"{"process":1,"type":"ok","f":"read","value":"a}"#.to_string()),
        Just(r#"{"process":1,"type":"ok","f":"read","value":1 2}"#.to_string()),
        Just(r#"{"process":1,"type":"ok","f":"read","time":1.5}"#.to_string()),
        Just(r#"{"process":1,"type":"ok","f":"read"}}"#.to_string()),
        Just(r#"{"process":-1,"type":"ok","f":"read"}"#.to_string()),
        Just(r#"{"process":1,"type":"ok","f":"read","node":7}"#.to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn parallel_reader_matches_sequential_on_good_histories(
        lines in proptest::collection::vec(line(), 1..60),
        block in 16usize..400,
        piece in 1usize..120,
        final_newline in any::<bool>(),
    ) {
        let mut text = lines.join("\n");
        if final_newline {
            text.push('\n');
        }
        agree(text.as_bytes(), tiny(200, block, piece)).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn parallel_reader_reports_the_same_first_error(
        lines in proptest::collection::vec(line(), 0..40),
        bad in proptest::collection::vec((0usize..40, garbage()), 1..3),
        block in 16usize..400,
        piece in 1usize..120,
    ) {
        let mut lines = lines;
        for (at, g) in bad {
            lines.insert(at.min(lines.len()), g);
        }
        let text = lines.join("\n");
        agree(text.as_bytes(), tiny(80, block, piece)).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn default_sizes_match_too() {
    let text = "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"key\":3}\n".repeat(50_000);
    agree(text.as_bytes(), tiny(1 << 20, 1 << 20, 64 << 10)).expect("agree");
}

#[test]
fn errors_name_the_line_across_blocks_and_pieces() {
    let ok = r#"{"process":0,"type":"invoke","f":"read"}"#;
    let mut lines = vec![ok.to_string(); 1000];
    lines[876] = r#"{"process":0,"type":"invoke","f":7}"#.to_string();
    let text = lines.join("\n");
    let e = read_with(Cursor::new(text.as_bytes()), "h.jsonl", tiny(100, 300, 70))
        .expect_err("bad line")
        .to_string();
    assert_eq!(e, "h.jsonl:877: field \"f\" must be a string, got 7");
}

#[test]
fn a_line_longer_than_the_cap_is_refused_with_its_line() {
    let text = format!(
        "{}\n\n{{\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"value\":\"{}\"}}\n",
        r#"{"process":0,"type":"invoke","f":"read"}"#,
        "x".repeat(5000)
    );
    let e = read_with(Cursor::new(text.as_bytes()), "h.jsonl", tiny(1000, 64, 16))
        .expect_err("too long")
        .to_string();
    assert!(
        e.starts_with("h.jsonl:3: line is longer than the 1000-byte cap"),
        "{e}"
    );
}

#[test]
fn keys_and_values_are_interned_by_content() {
    let text = br#"{"process":0,"type":"invoke","f":"write","key":"k","value":[1,2]}
{"process":0,"type":"ok","f":"write","key":"\u006b","value":[1, 2]}
{"process":1,"type":"invoke","f":"write","key":3,"value":null}"#;
    let c: CompactHistory = read_with(Cursor::new(&text[..]), "", tiny(1000, 64, 16)).expect("ok");
    assert_eq!(c.ops[0].key, c.ops[1].key);
    assert_ne!(c.ops[0].key, c.ops[2].key);
    assert_eq!(c.value(0), c.value(1));
    assert_eq!(c.ops[2].value, crate::history::compact::NULL);
}
