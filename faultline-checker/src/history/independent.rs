//! Jepsen `independent` histories: values written as `[key value]` tuples (for cas,
//! `[key [old new]]`). Once printed to EDN a tuple cannot be told from an ordinary pair, so the
//! user says so (`faultline check --independent`) and we lift the first element into `key`.

use rustc_hash::FxHashMap;
use serde_json::Value;

use super::compact::{CompactHistory, NONE};
use super::{History, HistoryError, Key, Location, Process};

/// Move the first element of every client op's `[key value]` tuple into `key`, keeping its type
/// (`[3 ..]` gives the number key 3, `["3" ..]` the string key "3"). Nemesis ops are left alone
/// (they belong to every key). Ops that already have a key are an error, as is a value that is
/// not a 2-element array or whose first element is not a scalar.
pub fn lift_tuple_keys(history: &mut History) -> Result<(), HistoryError> {
    let mut c = CompactHistory::from_history(history)?;
    c.lift_tuple_keys()?;
    *history = c.to_history();
    Ok(())
}

impl CompactHistory {
    /// [`lift_tuple_keys`] on the compact form (each distinct value is split once). Errors name
    /// `file:line` where known.
    pub fn lift_tuple_keys(&mut self) -> Result<(), HistoryError> {
        let mut split: FxHashMap<u32, (u32, u32)> = FxHashMap::default();
        for i in 0..self.ops.len() {
            if self.process(i) == Process::Nemesis {
                continue;
            }
            let bad = |message: String| {
                HistoryError::Malformed {
                    at: Location {
                        file: None,
                        line: self.line(i),
                    },
                    index: self.index(i),
                    message,
                }
                .in_file_if(&self.source)
            };
            if self.ops[i].key != NONE {
                return Err(bad(
                    "op already has a key; --independent is for histories whose \
                     values are [key value] tuples"
                        .into(),
                ));
            }
            let id = self.ops[i].value;
            let (key, value) = match split.get(&id) {
                Some(&kv) => kv,
                None => {
                    let (k, v) = split_tuple(self.value_of(id)).map_err(bad)?;
                    let kv = (self.tables.key(&k), self.tables.value(&v));
                    split.insert(id, kv);
                    kv
                }
            };
            self.ops[i].key = key;
            self.ops[i].value = value;
        }
        Ok(())
    }
}

/// `[key value]` into its key and value.
fn split_tuple(v: &Value) -> Result<(Key, Value), String> {
    let Value::Array(pair) = v else {
        return Err(format!(
            "--independent expects values [key value], got {}",
            short(v)
        ));
    };
    let [k, value] = pair.as_slice() else {
        return Err(format!(
            "--independent expects values [key value], got an array of {} elements",
            pair.len()
        ));
    };
    match Key::from_json(k) {
        Ok(Some(key)) => Ok((key, value.clone())),
        Ok(None) => Err(
            "--independent: the key of [key value] is nil; keys must be a \
                         string, keyword, number or boolean"
                .into(),
        ),
        Err(e) => Err(format!("--independent: in [key value], {e}")),
    }
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
        assert_eq!(h.ops[0].key, Some(Key::from(3i64)));
        assert_eq!(h.ops[0].value, json!([1, 2]));
        assert_eq!(h.ops[1].key, None);
        assert_eq!(h.ops[1].value, json!("x"));
        assert_eq!(h.ops[2].key, Some(Key::from("k7")));
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
