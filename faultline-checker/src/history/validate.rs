//! Well-formedness of a history, checked before any model sees it: indices count ops from 0 in
//! file order; each client process runs one op at a time (invoke, then exactly one completion
//! with the same `f`); a process whose op ended `info` never invokes again. Nemesis ops are
//! exempt (old Jepsen histories record them as `info` pairs without an invoke).
//!
//! An invoke with no completion is fine: it counts as `info`.

use rustc_hash::FxHashMap;

use super::{History, HistoryError, Location, OpType, Process};

/// What a client process is doing, as seen so far.
enum State {
    /// Invoked op at this position, with this `f`, not yet completed.
    Pending(usize),
    /// Its op at this position ended `info`: the process is crashed.
    Crashed(usize),
    /// Idle (last op completed `ok` or `fail`).
    Idle,
}

/// Check `history` for well-formedness. The error names the op index (position); the caller adds
/// file and line ([`HistoryError::with_op_lines`], [`HistoryError::in_file`]).
pub fn validate(history: &History) -> Result<(), HistoryError> {
    let mut procs: FxHashMap<u64, State> = FxHashMap::default();
    for (i, op) in history.ops.iter().enumerate() {
        let bad = |message: String| HistoryError::Malformed {
            at: Location::default(),
            index: i as u64,
            message,
        };
        if op.index != i as u64 {
            return Err(bad(format!(
                "index is {} but the op is at position {i}; indices must count ops from 0 in \
                 file order (or be omitted)",
                op.index
            )));
        }
        let Process::Client(p) = op.process else {
            continue;
        };
        let state = procs.entry(p).or_insert(State::Idle);
        match (op.kind, &*state) {
            (OpType::Invoke, State::Idle) => *state = State::Pending(i),
            (OpType::Invoke, State::Pending(j)) => {
                return Err(bad(format!(
                    "process {p} invokes {:?} while its op {j} is still pending; a process runs \
                     one op at a time",
                    op.f
                )))
            }
            (OpType::Invoke, State::Crashed(j)) => {
                return Err(bad(format!(
                    "process {p} invokes again after its op {j} ended with info; a crashed \
                     process must use a new process id"
                )))
            }
            (_, State::Idle | State::Crashed(_)) => {
                return Err(bad(format!(
                    "completion ({}) for process {p} has no pending invoke",
                    type_name(op.kind)
                )))
            }
            (kind, State::Pending(j)) => {
                let j = *j;
                let invoke_f = &history.ops[j].f;
                if *invoke_f != op.f {
                    return Err(bad(format!(
                        "completion for process {p} has f {:?} but its invoke (op {j}) has f \
                         {invoke_f:?}",
                        op.f
                    )));
                }
                *state = if kind == OpType::Info {
                    State::Crashed(i)
                } else {
                    State::Idle
                };
            }
        }
    }
    Ok(())
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
    use crate::history::{parse_edn, Op};
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
        assert!(message(&h).contains("after its op 1 ended with info"));
    }

    #[test]
    fn rejects_completion_with_other_f() {
        let h = history(vec![
            op(Client(0), Invoke, "write"),
            op(Client(0), Ok, "read"),
        ]);
        assert!(message(&h).contains("has f \"read\" but its invoke (op 0) has f \"write\""));
    }

    #[test]
    fn rejects_index_not_equal_to_position() {
        let mut h = history(vec![
            op(Client(0), Invoke, "write"),
            op(Client(0), Ok, "write"),
        ]);
        h.ops[1].index = 7;
        assert!(message(&h).contains("index is 7 but the op is at position 1"));
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
