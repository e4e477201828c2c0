//! Tests of the EDN import, including all 122 Knossos fixtures.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use super::parse_edn;
use crate::history::{HistoryError, OpType, Process};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/knossos")
}

#[test]
fn parses_every_knossos_fixture_with_manifest_op_counts() {
    let root = fixtures();
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let mut rows = manifest.lines();
    let header: Vec<&str> = rows.next().expect("header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (path_col, ops_col, nem_col) = (col("path"), col("ops"), col("nemesis_ops"));
    let mut files = 0;
    let mut bytes = 0;
    let mut parse_time = std::time::Duration::ZERO;
    for row in rows.filter(|r| !r.trim().is_empty()) {
        let cells: Vec<&str> = row.split('\t').collect();
        let text = std::fs::read_to_string(root.join(cells[path_col])).expect("fixture");
        bytes += text.len();
        let start = Instant::now();
        let history = parse_edn(&text).unwrap_or_else(|e| panic!("{}: {e}", cells[path_col]));
        parse_time += start.elapsed();
        let want: usize = cells[ops_col].parse().expect("ops column");
        let nemesis: usize = cells[nem_col].parse().expect("nemesis_ops column");
        assert_eq!(history.ops.len(), want, "{}", cells[path_col]);
        let got_nemesis = history
            .ops
            .iter()
            .filter(|o| o.process == Process::Nemesis)
            .count();
        assert_eq!(got_nemesis, nemesis, "{}", cells[path_col]);
        for (i, op) in history.ops.iter().enumerate() {
            assert_eq!(op.index, i as u64, "{} op {i}", cells[path_col]);
        }
        files += 1;
    }
    assert_eq!(files, 122);
    assert!(bytes > 2_000_000);
    eprintln!("parsed {files} fixtures ({bytes} bytes) in {parse_time:?}");
}

#[test]
fn known_counterexample_op_is_at_the_quoted_index() {
    let text = std::fs::read_to_string(fixtures().join("data/cas-register/bad/cas-failure.edn"))
        .expect("fixture");
    let h = parse_edn(&text).expect("parse");
    let op = &h.ops[491];
    assert_eq!(op.process, Process::Client(70));
    assert_eq!(op.kind, OpType::Ok);
    assert_eq!(op.f, "read");
    assert_eq!(op.value, json!(0));
}

#[test]
fn accepts_vector_list_and_bare_stream() {
    let one = "{:process 0 :type :invoke :f :read :value nil}";
    for text in [
        format!("[{one} {one}]"),
        format!("({one}\n{one})"),
        format!("{one}\n{one}\n"),
        format!("; comment\n{one},{one} ; trailing\n"),
    ] {
        let h = parse_edn(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(h.ops.len(), 2, "{text}");
        assert_eq!(h.ops[1].index, 1);
    }
}

#[test]
fn maps_keywords_nil_vectors_and_txn_values() {
    let text = r#"[{:type :ok,
  :f :txn, :process 3
  :value [[:read :x nil] [:write :y 1]], :time 77}
 {:index 1 :process :nemesis :type :info :f :start :value "Cut off [:n3 #{:n4}] {:n2 #{:n3}}"}
 {:process 4 :type :fail :f :release :error [:not-found "lease \"x\" gone"] :key :k1}
 {:process 5 :type :ok :f :write :value {:a #{1 2} :b [true false 1.5 -2]} :error :timeout}]"#;
    let h = parse_edn(text).expect("parse");
    assert_eq!(
        h.ops[0].value,
        json!([["read", "x", null], ["write", "y", 1]])
    );
    assert_eq!(h.ops[0].time, Some(77));
    assert_eq!(h.ops[0].process, Process::Client(3));
    assert_eq!(h.ops[1].process, Process::Nemesis);
    assert_eq!(h.ops[1].value, json!("Cut off [:n3 #{:n4}] {:n2 #{:n3}}"));
    assert_eq!(h.ops[2].value, json!(null));
    assert_eq!(
        h.ops[2].error.as_deref(),
        Some(r#"["not-found","lease \"x\" gone"]"#)
    );
    assert_eq!(h.ops[2].key, Some(crate::history::Key::from("k1")));
    assert_eq!(
        h.ops[3].value,
        json!({"a": [1, 2], "b": [true, false, 1.5, -2]})
    );
    assert_eq!(h.ops[3].error.as_deref(), Some("timeout"));
    assert_eq!(h.ops[3].index, 3);
}

#[test]
fn accepts_tagged_records_discards_and_odd_numbers() {
    let text = "#jepsen.history.Op{:index 0 :process 1 :type :invoke :f :write \
                :value [12N 1/2 3.5M \\a #inst \"2020\"]} #_{:ignored true}";
    let h = parse_edn(text).expect("parse");
    assert_eq!(h.ops.len(), 1);
    assert_eq!(h.ops[0].value, json!([12, 0.5, 3.5, "a", "2020"]));
}

fn err(text: &str) -> String {
    match parse_edn(text) {
        Ok(h) => panic!("{text:?} parsed to {} ops", h.ops.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn rejects_malformed_input_with_a_line_number() {
    let e = err("[{:process 0 :type :invoke :f :read}\n{:process 0 :type :ok :f :read");
    assert!(e.contains("line 2") && e.contains("never closed"), "{e}");
    let e = err("[{:process 0 :type :invoke :f :read}]]");
    assert!(e.contains("after the end"), "{e}");
    let e = err("{:process 0 :type :invoke :f :read ]");
    assert!(e.contains("unbalanced"), "{e}");
    let e = err("{:process 0 :type :bogus :f :read}");
    assert!(e.contains("unknown :type :bogus"), "{e}");
    let e = err("\n\n{:process \"x\" :type :ok :f :read}");
    assert!(e.starts_with("line 3: :process"), "{e}");
    let e = err("{:process 0 :type :ok :f :read :value \"abc}");
    assert!(e.contains("unterminated string"), "{e}");
    let e = err("{:process 0 :type}");
    assert!(e.contains("odd number"), "{e}");
    let e = err("[1 2]");
    assert!(e.contains("expected an op map"), "{e}");
    let e = err("{:type :ok :f :read}");
    assert!(e.contains("no :process"), "{e}");
    let e = err(&"[".repeat(100_000));
    assert!(e.contains("nesting deeper"), "{e}");
}

#[test]
fn empty_input_is_an_error() {
    for text in ["", "  \n; nothing\n", "[]", "()"] {
        assert!(
            matches!(parse_edn(text), Err(HistoryError::Empty { .. })),
            "{text:?}"
        );
    }
}

#[test]
fn deep_discards_are_an_error_not_a_stack_overflow() {
    let e = err(&"#_".repeat(100_000));
    assert!(e.contains("nesting deeper"), "{e}");
}

mod never_panics {
    use super::parse_edn;
    use proptest::prelude::*;

    const SAMPLE: &str = r#"[{:process 0, :type :invoke, :f :cas, :value [1 2], :time 5}
 ; comment "with [brackets"
 {:process :nemesis :type :info :f :start :value "Cut off [:n3 #{:n4}]" :error [:x nil]}
 #jepsen.history.Op{:index 2 :process 0 :type :ok :f :cas :value [1 2] :key \a}]"#;

    proptest! {
        #[test]
        fn on_arbitrary_text(s in "\\PC{0,200}") {
            let _ = parse_edn(&s);
        }

        #[test]
        fn on_edn_like_token_soup(s in r#"[\[\](){}#_:;,"\\ \nA-Za-z0-9.+\-/]{0,300}"#) {
            let _ = parse_edn(&s);
        }

        #[test]
        fn on_truncated_or_spliced_samples(cut in 0usize..400, at in 0usize..400, junk in "[\\[\\](){}\"#;\\\\ ]{0,4}") {
            let mut s: String = SAMPLE.chars().take(cut).collect();
            let at = at.min(s.chars().count());
            let idx = s.char_indices().nth(at).map_or(s.len(), |(i, _)| i);
            s.insert_str(idx, &junk);
            let _ = parse_edn(&s);
        }
    }
}

#[test]
fn keys_keep_their_type_and_composite_keys_are_refused() {
    let h = parse_edn(
        r#"{:process 0 :type :invoke :f :read :key 3}
           {:process 1 :type :invoke :f :read :key "3"}
           {:process 2 :type :invoke :f :read :key :3x}"#,
    )
    .expect("parse");
    use crate::history::Key;
    assert_eq!(h.ops[0].key, Some(Key::from(3i64)));
    assert_eq!(h.ops[1].key, Some(Key::from("3")));
    assert_eq!(h.ops[2].key, Some(Key::from("3x")));
    let e = err("{:process 0 :type :invoke :f :read :key [1 2]}");
    assert_eq!(
        e,
        "line 1: :key must be a keyword, string, number or boolean, got [1 2]"
    );
}

#[test]
fn indices_with_gaps_are_kept() {
    let h = parse_edn(
        "[{:index 4 :process 0 :type :invoke :f :read}
          {:index 9 :process 0 :type :ok :f :read :value 1}]",
    )
    .expect("parse");
    assert_eq!((h.ops[0].index, h.ops[1].index), (4, 9));
    crate::history::validate(&h).expect("gaps are fine");
}
