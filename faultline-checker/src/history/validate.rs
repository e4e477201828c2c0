//! Well-formedness of a history, checked before any model sees it: indices count ops from 0 in
//! file order; each client process runs one op at a time (invoke, then exactly one completion
//! with the same `f`); a process whose op ended `info` never invokes again. Nemesis ops are
//! exempt (old Jepsen histories record them as `info` pairs without an invoke).
//!
//! An invoke with no completion is fine: it counts as `info`.

use rustc_hash::FxHashSet;

use super::compact::{CompactHistory, NONE};
use super::{History, HistoryError, Location, OpType, Process};

/// What a client process is doing, as seen so far.
#[derive(Clone, Copy)]
enum State {
    /// Invoked op at this position, not yet completed.
    Pending(u32),
    /// Its op at this position ended `info`: the process is crashed.
    Crashed(u32),
    /// Idle (last op completed `ok` or `fail`).
    Idle,
}

/// Check `history` for well-formedness. Errors name the op's index; lines are unknown here (the
/// loaders check the compact form, which knows them).
pub fn validate(history: &History) -> Result<(), HistoryError> {
    CompactHistory::from_history(history)?.validate()
}

/// The rules, on the compact form. Fills in missing completion keys and returns, for each op,
/// its partner's position (invoke <-> completion) or `NONE`.
pub(crate) fn validate_compact(h: &mut CompactHistory) -> Result<Vec<u32>, HistoryError> {
    unique_indices(h)?;
    let first_keyed = (0..h.len()).find(|&i| h.is_client(i) && h.ops[i].key != NONE);
    let mut state = vec![State::Idle; h.tables.processes.len()];
    let mut partner = vec![NONE; h.len()];
    for i in 0..h.len() {
        let bad = |message: String| malformed(h, i, message);
        let Process::Client(p) = h.process(i) else {
            continue;
        };
        let op = h.ops[i];
        let slot = &mut state[op.process as usize];
        match (op.kind, *slot) {
            (OpType::Invoke, State::Idle) => {
                if let (Some(k), NONE) = (first_keyed, op.key) {
                    return Err(bad(format!(
                        "process {p} invokes {:?} without a key, but this history is keyed \
                         (the op {} has key {}); give every client op a key, or none",
                        h.f(i),
                        describe(h, k),
                        shown_key(h, h.ops[k].key)
                    )));
                }
                *slot = State::Pending(i as u32)
            }
            (OpType::Invoke, State::Pending(j)) => {
                return Err(bad(format!(
                    "process {p} invokes {:?} while its op {} is still pending; a process \
                     runs one op at a time",
                    h.f(i),
                    describe(h, j as usize)
                )))
            }
            (OpType::Invoke, State::Crashed(j)) => {
                return Err(bad(format!(
                    "process {p} invokes again after its op {} ended with info; a crashed \
                     process must use a new process id",
                    describe(h, j as usize)
                )))
            }
            (_, State::Idle | State::Crashed(_)) => {
                return Err(bad(format!(
                    "completion ({}) for process {p} has no pending invoke",
                    type_name(op.kind)
                )))
            }
            (kind, State::Pending(j)) => {
                let inv = h.ops[j as usize];
                if inv.f != op.f {
                    return Err(bad(format!(
                        "completion for process {p} has f {:?} but its invoke (op {}) has f \
                         {:?}",
                        h.f(i),
                        describe(h, j as usize),
                        h.f(j as usize)
                    )));
                }
                if op.key != NONE && op.key != inv.key {
                    return Err(bad(format!(
                        "completion for process {p} has key {} but its invoke (op {}) has key \
                         {}; a completion must repeat its invoke's key or omit it",
                        shown_key(h, op.key),
                        describe(h, j as usize),
                        shown_key(h, inv.key)
                    )));
                }
                h.ops[i].key = inv.key;
                partner[i] = j;
                partner[j as usize] = i as u32;
                *slot = if kind == OpType::Info {
                    State::Crashed(i as u32)
                } else {
                    State::Idle
                };
            }
        }
    }
    Ok(partner)
}

/// Indices identify ops: any values, but no two alike. Usually they increase, which proves it.
fn unique_indices(h: &CompactHistory) -> Result<(), HistoryError> {
    if h.ops.windows(2).all(|w| w[0].index < w[1].index) {
        return Ok(());
    }
    let mut seen: FxHashSet<u64> = FxHashSet::default();
    for i in 0..h.len() {
        if !seen.insert(h.ops[i].index) {
            let first = (0..i)
                .find(|&j| h.ops[j].index == h.ops[i].index)
                .unwrap_or(0);
            return Err(malformed(
                h,
                i,
                format!(
                    "index {} is also the index of the op {}; indices identify ops and must \
                     be unique (or be omitted)",
                    h.ops[i].index,
                    describe(h, first)
                ),
            ));
        }
    }
    Ok(())
}

fn malformed(h: &CompactHistory, pos: usize, message: String) -> HistoryError {
    HistoryError::Malformed {
        at: Location {
            file: None,
            line: h.line(pos),
        },
        index: h.index(pos),
        message,
    }
}

/// "at index 4 (line 5)", or "at index 4" when lines are unknown.
fn describe(h: &CompactHistory, pos: usize) -> String {
    match h.line(pos) {
        Some(l) => format!("at index {} (line {l})", h.index(pos)),
        None => format!("at index {}", h.index(pos)),
    }
}

fn shown_key(h: &CompactHistory, id: u32) -> String {
    h.key_of(id).map_or("(none)".into(), |k| k.to_string())
}

fn type_name(kind: OpType) -> &'static str {
    match kind {
        OpType::Invoke => "invoke",
        OpType::Ok => "ok",
        OpType::Fail => "fail",
        OpType::Info => "info",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{parse_edn, Key, Op};
    use serde_json::Value;

    fn op(process: Process, kind: OpType, f: &str) -> Op {
        Op {
            index: 0,
            time: None,
            process,
            kind,
            f: f.into(),
            key: None,
            value: Value::Null,
            node: None,
            error: None,
        }
    }

    fn history(ops: Vec<Op>) -> History {
        let ops = ops
            .into_iter()
            .enumerate()
            .map(|(i, mut o)| {
                o.index = i as u64;
                o
            })
            .collect();
        History { ops }
    }

    fn message(h: &History) -> String {
        validate(h).err().map(|e| e.to_string()).unwrap_or_default()
    }

    use OpType::*;
    use Process::*;

    #[test]
    fn accepts_open_invokes_fail_and_nemesis_info_pairs() {
        let h = history(vec![
            op(Client(1), Invoke, "write"),
            op(Nemesis, Info, "start"),
            op(Client(2), Invoke, "read"),
            op(Client(1), Fail, "write"),
            op(Nemesis, Info, "start"),
            op(Nemesis, Invoke, "stop"),
            op(Client(1), Invoke, "cas"),
            op(Client(1), Info, "cas"),
            op(Nemesis, Info, "stop"),
        ]);
        assert!(validate(&h).is_ok(), "{}", message(&h));
    }

    #[test]
    fn rejects_double_invoke() {
        let h = history(vec![
            op(Client(3), Invoke, "read"),
            op(Client(3), Invoke, "read"),
        ]);
        let m = message(&h);
        assert!(
            m.contains("process 3 invokes") && m.contains("op index 1"),
            "{m}"
        );
    }

    #[test]
    fn rejects_completion_without_invoke() {
        let h = history(vec![op(Client(3), Ok, "read")]);
        assert_eq!(
            message(&h),
            "completion (ok) for process 3 has no pending invoke (op index 0)"
        );
    }

    #[test]
    fn rejects_invoke_after_info() {
        let h = history(vec![
            op(Client(0), Invoke, "write"),
            op(Client(0), Info, "write"),
            op(Client(0), Invoke, "read"),
        ]);
        assert!(message(&h).contains("after its op at index 1 ended with info"));
    }

    #[test]
    fn rejects_completion_with_other_f() {
        let h = history(vec![
            op(Client(0), Invoke, "write"),
            op(Client(0), Ok, "read"),
        ]);
        assert!(
            message(&h).contains("has f \"read\" but its invoke (op at index 0) has f \"write\"")
        );
    }

    #[test]
    fn indices_may_have_gaps_but_not_repeat() {
        let mut h = history(vec![
            op(Client(0), Invoke, "write"),
            op(Client(0), Ok, "write"),
            op(Client(1), Invoke, "read"),
        ]);
        h.ops[1].index = 7;
        h.ops[2].index = 3;
        assert!(validate(&h).is_ok(), "{}", message(&h));
        h.ops[2].index = 7;
        assert_eq!(
            message(&h),
            "index 7 is also the index of the op at index 7; indices identify ops and must be \
             unique (or be omitted) (op index 7)"
        );
    }

    fn keyed(mut o: Op, key: Option<&str>) -> Op {
        o.key = key.map(Key::from);
        o
    }

    #[test]
    fn completion_without_key_takes_its_invokes_key() {
        let h = history(vec![
            keyed(op(Client(0), Invoke, "read"), Some("a")),
            keyed(op(Client(1), Invoke, "read"), Some("b")),
            keyed(op(Client(0), Ok, "read"), None),
            keyed(op(Client(1), Ok, "read"), Some("b")),
            op(Nemesis, Info, "kill"),
        ]);
        let mut c = CompactHistory::from_history(&h).expect("compact");
        c.validate().expect("valid");
        assert_eq!(c.key(2), Some(&Key::from("a")));
        assert_eq!(c.key(4), None);
        assert_eq!(c.completion(0), Some(2));
        assert_eq!(c.completion(1), Some(3));
    }

    #[test]
    fn completion_with_another_key_is_malformed() {
        let h = history(vec![
            keyed(op(Client(0), Invoke, "read"), Some("3")),
            keyed(op(Client(0), Ok, "read"), Some("4")),
        ]);
        assert_eq!(
            message(&h),
            "completion for process 0 has key \"4\" but its invoke (op at index 0) has key \"3\"; \
             a completion must repeat its invoke's key or omit it (op index 1)"
        );
    }

    #[test]
    fn unkeyed_client_op_in_a_keyed_history_is_malformed() {
        let h = history(vec![
            op(Client(0), Invoke, "read"),
            keyed(op(Client(1), Invoke, "read"), Some("k")),
        ]);
        assert_eq!(
            message(&h),
            "process 0 invokes \"read\" without a key, but this history is keyed (the op at \
             index 1 has key k); give every client op a key, or none (op index 0)"
        );
    }

    #[test]
    fn every_knossos_fixture_is_well_formed() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/knossos");
        let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).expect("manifest");
        for row in manifest.lines().skip(1).filter(|r| !r.is_empty()) {
            let path = row.split('\t').next().unwrap_or_default();
            let text = std::fs::read_to_string(root.join(path)).expect("fixture");
            let h = parse_edn(&text).expect("parse");
            if let Err(e) = validate(&h) {
                panic!("{path}: {e}");
            }
        }
    }
}
