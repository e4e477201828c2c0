//! Replaying a search's linearization, independently of the search that found it: a `valid`
//! answer that comes with an order is believed only if the order holds every `ok` call once,
//! respects real time, and steps the model legally from its initial state. Linear in the order.

use super::model::Model;
use super::prep::{Event, Problem};
use crate::history::CompactHistory;

/// `Ok` if `order` (call ids of `problem`, first linearized first) is a linearization of
/// `problem`; else why not, naming ops by history index.
pub fn replay<M: Model>(
    model: &M,
    problem: &Problem<M::Op>,
    history: &CompactHistory,
    order: &[u32],
) -> Result<(), String> {
    let n = problem.calls.len();
    let mut invoked = vec![usize::MAX; n];
    let mut returned = vec![usize::MAX; n];
    for (at, ev) in problem.events.iter().enumerate() {
        match *ev {
            Event::Invoke(c) => invoked[c as usize] = at,
            Event::Return(c) => returned[c as usize] = at,
        }
    }
    let index = |c: usize| history.index(problem.calls[c].shown());
    let mut placed = vec![false; n];
    let mut state = model.init();
    // The latest invoke among the calls placed so far, and its call.
    let mut latest: Option<(usize, usize)> = None;
    for &c in order {
        let c = c as usize;
        if c >= n || placed[c] {
            return Err(format!(
                "call {c} is missing from the sub-history or placed twice"
            ));
        }
        placed[c] = true;
        if let Some((inv, d)) = latest {
            if returned[c] < inv {
                return Err(format!(
                    "the op at index {} returned before the op at index {} was invoked, yet is \
                     ordered after it",
                    index(c),
                    index(d)
                ));
            }
        }
        if latest.is_none_or(|(inv, _)| invoked[c] > inv) {
            latest = Some((invoked[c], c));
        }
        state = model
            .step(&state, &problem.calls[c].op)
            .map_err(|e| format!("the op at index {}: {e}", index(c)))?;
    }
    match (0..n).find(|&c| problem.calls[c].done.is_some() && !placed[c]) {
        Some(c) => Err(format!(
            "the ok op at index {} is not in the order",
            index(c)
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::CompactHistory;
    use crate::models::CasRegister;
    use crate::prep::prepare_compact;
    use crate::tests::hist;
    use serde_json::{json, Value};

    #[test]
    fn accepts_a_linearization_and_rejects_reordered_illegal_or_incomplete_ones() {
        // write 1 | read 1, then (after both) write 2.
        let h = hist(&[
            (1, "invoke", "write", json!(1)),
            (2, "invoke", "read", Value::Null),
            (1, "ok", "write", json!(1)),
            (2, "ok", "read", json!(1)),
            (3, "invoke", "write", json!(2)),
            (3, "ok", "write", json!(2)),
        ]);
        let mut h = CompactHistory::from_history(&h).unwrap();
        h.validate().unwrap();
        let mut m = CasRegister::new(&Value::Null);
        let p = prepare_compact(&mut m, &h, &(0..h.len() as u32).collect::<Vec<_>>()).unwrap();
        assert_eq!(replay(&m, &p, &h, &[0, 1, 2]), Ok(()));
        let illegal = replay(&m, &p, &h, &[1, 0, 2]).unwrap_err();
        assert!(illegal.contains("index 3: can't read 1"), "{illegal}");
        let late = replay(&m, &p, &h, &[2, 0, 1]).unwrap_err();
        assert!(late.contains("returned before"), "{late}");
        let short = replay(&m, &p, &h, &[0, 1]).unwrap_err();
        assert!(short.contains("index 5 is not in the order"), "{short}");
        assert!(replay(&m, &p, &h, &[0, 0]).is_err());
    }
}
