//! Jepsen `independent` histories: values written as `[key value]` tuples (for cas,
//! `[key [old new]]`). Once printed to EDN a tuple cannot be told from an ordinary pair, so the
//! user says so (`faultline check --independent`) and we lift the first element into `key`.

use serde_json::Value;

use super::{History, HistoryError, Location, Process};

/// Move the first element of every client op's `[key value]` tuple into `key`. Nemesis ops are
/// left alone (they belong to every key). Ops that already have a key are an error, as is a
/// value that is not a 2-element array.
pub fn lift_tuple_keys(history: &mut History) -> Result<(), HistoryError> {
    for (i, op) in history.ops.iter_mut().enumerate() {
        if op.process == Process::Nemesis {
            continue;
        }
        let bad = |message: String| HistoryError::Malformed {
            at: Location::default(),
            index: i as u64,
            message,
        };
        if op.key.is_some() {
            return Err(bad(
                "op already has a key; --independent is for histories whose values are \
                 [key value] tuples"
                    .into(),
            ));
        }
        let Value::Array(pair) = &mut op.value else {
            return Err(bad(format!(
                "--independent expects values [key value], got {}",
                short(&op.value)
            )));
        };
        if pair.len() != 2 {
            return Err(bad(format!(
                "--independent expects values [key value], got an array of {} elements",
                pair.len()
            )));
        }
        let value = pair.pop().unwrap_or(Value::Null);
        let key = match pair.pop().unwrap_or(Value::Null) {
            Value::String(s) => s,
            k => k.to_string(),
        };
        op.key = Some(key);
        op.value = value;
    }
    Ok(())
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::parse_edn;
    use serde_json::json;

    #[test]
    fn lifts_tuple_keys_and_leaves_nemesis_ops() {
        let mut h = parse_edn(
            "{:process 0 :type :invoke :f :cas :value [3 [1 2]]}
             {:process :nemesis :type :info :f :start :value \"x\"}
             {:process 0 :type :ok :f :cas :value [:k7 [1 2]]}
             {:process 1 :type :invoke :f :read :value [3 nil]}",
        )
        .expect("parse");
        lift_tuple_keys(&mut h).expect("lift");
        assert_eq!(h.ops[0].key.as_deref(), Some("3"));
        assert_eq!(h.ops[0].value, json!([1, 2]));
        assert_eq!(h.ops[1].key, None);
        assert_eq!(h.ops[1].value, json!("x"));
        assert_eq!(h.ops[2].key.as_deref(), Some("k7"));
        assert_eq!(h.ops[3].value, json!(null));
    }

    #[test]
    fn rejects_values_that_are_not_pairs() {
        let mut h = parse_edn("{:process 0 :type :invoke :f :write :value 5}").expect("parse");
        let e = lift_tuple_keys(&mut h).expect_err("not a pair").to_string();
        assert_eq!(
            e,
            "--independent expects values [key value], got 5 (op index 0)"
        );
    }
}
