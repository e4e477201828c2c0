//! Plain-text renderings of ops and counterexamples, shared by the HTML table and JUnit XML.

use std::fmt::Write;

use crate::checker::Counterexample;
use crate::history::{Op, OpType};

/// One-line text for an op: `#index pP type f value [key=K] [node=N]` (the node that answered,
/// when the client recorded it).
pub fn op_text(op: &Op) -> String {
    let kind = match op.kind {
        OpType::Invoke => "invoke",
        OpType::Ok => "ok",
        OpType::Fail => "fail",
        OpType::Info => "info",
    };
    let mut s = format!("#{} p{} {kind} {} {}", op.index, op.process, op.f, op.value);
    if let Some(k) = &op.key {
        let _ = write!(s, " key={k}");
    }
    if let Some(n) = &op.node {
        let _ = write!(s, " node={n}");
    }
    s
}

/// Human-readable text of a counterexample (the `<failure>` body).
pub fn counterexample_text(ce: &Counterexample) -> String {
    let op = op_text;
    let mut s = String::new();
    if let Some(k) = &ce.key {
        let _ = writeln!(s, "key: {k}");
    }
    let _ = writeln!(s, "op that could not be linearized: {}", op(&ce.op));
    let _ = writeln!(
        s,
        "previous ok: {}",
        ce.previous_ok
            .as_ref()
            .map(op)
            .unwrap_or_else(|| "none".into())
    );
    let _ = writeln!(
        s,
        "longest linearizable prefix: {} ops",
        ce.longest_prefix.len()
    );
    let _ = writeln!(s, "possible states before it: {}", ce.states.join(", "));
    for (i, path) in ce.final_paths.iter().take(10).enumerate() {
        let _ = writeln!(s, "final path {}:", i + 1);
        for step in path {
            let mark = if step.legal { "  " } else { "!!" };
            let _ = writeln!(s, "  {mark} {} -> {}", op(&step.op), step.state);
        }
    }
    if ce.final_paths.len() > 10 {
        let _ = writeln!(
            s,
            "({} more final paths not shown)",
            ce.final_paths.len() - 10
        );
    }
    s
}
