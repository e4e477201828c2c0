//! Checker bugs are errors, never verdicts: models that behave differently in one search (by
//! thread name, or by which search started first) make the searches disagree, panic or return a
//! bogus order, and each case must surface as the matching [`CheckerBug`].

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};

use super::check_problem;
use crate::budget::Budget;
use crate::bug::{CheckerBug, Search};
use crate::compete::{SearchConfig, Strategy};
use crate::history::{CompactHistory, History, Key};
use crate::model::Model;
use crate::models::{CasRegister, RegOp};
use crate::prep::prepare_compact;
use crate::tests::hist;
use crate::{Tuning, Verdict};

/// How [`Faulty`] misbehaves.
#[derive(Clone, Copy, PartialEq)]
enum Fault {
    /// On the WGL thread, every read fails.
    WglRejectsReads,
    /// On the WGL thread, every read succeeds, whatever it returned.
    WglAcceptsReads,
    /// On the WGL thread, the search panics as it starts (so even a lost race panics).
    WglPanics,
    /// The first search to start rejects every read; later ones are honest.
    FirstSearchRejectsReads,
}

/// A cas-register with a planted bug. The state carries whether this search lies, so the lie
/// stays inside one search.
struct Faulty {
    inner: CasRegister,
    fault: Fault,
    inits: AtomicUsize,
}

impl Faulty {
    fn lies(&self) -> bool {
        std::thread::current().name() == Some("faultline-wgl")
    }
}

impl Model for Faulty {
    type State = (u32, bool);
    type Op = RegOp;

    fn compile(&mut self, f: &str, i: &Value, d: Option<&Value>) -> Result<RegOp, String> {
        self.inner.compile(f, i, d)
    }
    fn init(&self) -> (u32, bool) {
        if self.fault == Fault::WglPanics && self.lies() {
            panic!("planted panic");
        }
        let first = self.inits.fetch_add(1, Ordering::Relaxed) == 0;
        let liar = match self.fault {
            Fault::FirstSearchRejectsReads => first,
            _ => self.lies(),
        };
        (self.inner.init(), liar)
    }
    fn step(&self, s: &(u32, bool), op: &RegOp) -> Result<(u32, bool), String> {
        let read = matches!(op, RegOp::Read(_));
        match self.fault {
            Fault::WglRejectsReads | Fault::FirstSearchRejectsReads if s.1 && read => {
                Err("planted: reads fail".into())
            }
            Fault::WglAcceptsReads if s.1 && read => Ok(*s),
            _ => self.inner.step(&s.0, op).map(|v| (v, s.1)),
        }
    }
    fn is_read_only(&self, op: &RegOp) -> bool {
        self.inner.is_read_only(op)
    }
    fn render_state(&self, s: &(u32, bool)) -> String {
        self.inner.render_state(&s.0)
    }
    fn render_op(&self, op: &RegOp) -> String {
        self.inner.render_op(op)
    }
}

/// write 1; read 1 (valid), or read 2 when `stale` (invalid); plus a crashed write 3.
fn history(stale: bool) -> History {
    hist(&[
        (1, "invoke", "write", json!(1)),
        (1, "ok", "write", json!(1)),
        (2, "invoke", "write", json!(3)),
        (3, "invoke", "read", Value::Null),
        (3, "ok", "read", json!(if stale { 2 } else { 1 })),
    ])
}

fn run(fault: Fault, h: &History, strategy: Strategy, verify: bool) -> Result<Verdict, CheckerBug> {
    let mut model = Faulty {
        inner: CasRegister::new(&Value::Null),
        fault,
        inits: AtomicUsize::new(0),
    };
    let mut c = CompactHistory::from_history(h).unwrap();
    c.validate().unwrap();
    let problem =
        prepare_compact(&mut model, &c, &(0..c.len() as u32).collect::<Vec<_>>()).unwrap();
    model.inits.store(0, Ordering::Relaxed);
    let cfg = SearchConfig {
        strategy,
        verify,
        tuning: Tuning {
            compete_min_calls: 0,
            ..Tuning::default()
        },
    };
    let budget = Budget::new(None, 1 << 30);
    check_problem(&model, &problem, &c, Some("k".into()), &budget, &cfg)
}

#[test]
fn searches_that_disagree_are_a_bug_naming_both_and_the_key() {
    let e = run(
        Fault::WglRejectsReads,
        &history(false),
        Strategy::Compete,
        true,
    )
    .unwrap_err();
    let CheckerBug::Disagreement {
        key,
        valid,
        invalid,
        op,
        proven,
    } = e
    else {
        panic!("expected a disagreement, got {e:?}");
    };
    assert_eq!(
        (key, valid, invalid),
        (Some(Key::from("k")), Search::Walk, Search::Wgl)
    );
    assert_eq!((op, proven), (4, true));
}

#[test]
fn a_valid_answer_whose_order_does_not_replay_is_a_bug() {
    let e = run(
        Fault::WglAcceptsReads,
        &history(true),
        Strategy::Compete,
        true,
    )
    .unwrap_err();
    assert!(
        matches!(&e, CheckerBug::BadWitness { search: Search::Wgl, message, .. }
            if message.contains("can't read 2")),
        "{e:?}"
    );
}

#[test]
fn a_panicking_search_is_a_bug_naming_it_not_a_cancellation() {
    for verify in [false, true] {
        let e = run(Fault::WglPanics, &history(false), Strategy::Compete, verify).unwrap_err();
        assert_eq!(
            e,
            CheckerBug::Panicked {
                key: Some("k".into()),
                search: Search::Wgl,
                message: "planted panic".into(),
            }
        );
    }
}

#[test]
fn the_counterexample_walk_contradicting_a_proof_is_a_bug_even_when_racing() {
    // The relaxed walk (first to start) wrongly proves invalidity; the evidence walk finds an order.
    let e = run(
        Fault::FirstSearchRejectsReads,
        &history(false),
        Strategy::RelaxedWalk,
        false,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            CheckerBug::Disagreement {
                valid: Search::EvidenceWalk,
                invalid: Search::RelaxedWalk,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn honest_models_agree_in_every_mode() {
    for stale in [false, true] {
        for verify in [false, true] {
            let v = run(
                Fault::WglRejectsReads,
                &history(stale),
                Strategy::Walk,
                verify,
            )
            .expect("the walk alone has nobody to disagree with");
            assert_eq!(matches!(v, Verdict::Valid), !stale, "{v:?}");
        }
    }
}
