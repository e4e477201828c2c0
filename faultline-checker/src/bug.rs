//! The checker contradicting itself: two searches with opposite definite answers, a search that
//! panicked, or a linearization that does not replay. Each is a bug in faultline, reported as an
//! error (exit 3), never as a verdict: a wrong `valid` is the worst thing a checker can print.

use std::fmt;

use crate::history::Key;

/// One of the checker's searches (see the crate docs, "Strategy").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Search {
    /// The exact configuration-set walk (Knossos `linear`).
    Walk,
    /// Wing & Gong / Lowe with a memo (Porcupine).
    Wgl,
    /// The walk that lets crashed calls happen any number of times (proves only invalidity).
    RelaxedWalk,
    /// The exact walk re-run with path tracking to build the counterexample.
    EvidenceWalk,
}

impl fmt::Display for Search {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Search::Walk => "the config-set walk",
            Search::Wgl => "the WGL search",
            Search::RelaxedWalk => "the relaxed walk",
            Search::EvidenceWalk => "the counterexample walk",
        })
    }
}

/// What to tell the user after any checker bug.
const REPORT: &str = "this is a bug in faultline's checker, not a verdict about the history: \
    please report it together with the history file (FAULTLINE_VERIFY=1 cross-checks every \
    search)";

/// The checker contradicted itself on one sub-history.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckerBug {
    /// One search found a linearization, another proved there is none.
    #[error(
        "checker bug on {}: {valid} found a linearization but {invalid} proved there is none \
         (it could not linearize the op at index {op}{fingerprint}); {REPORT}",
        key_name(.key),
        fingerprint = if *.proven { "" } else { ", with a fingerprint memo" }
    )]
    Disagreement {
        /// The key of the sub-history (`None` for un-keyed histories).
        key: Option<Key>,
        /// The search that answered valid.
        valid: Search,
        /// The search that answered invalid.
        invalid: Search,
        /// History index of the op the invalid answer could not linearize.
        op: u64,
        /// False when the invalid answer came from WGL's fingerprint memo (a 128-bit hash
        /// collision could in theory explain it; a bug is far more likely).
        proven: bool,
    },
    /// A search panicked.
    #[error("checker bug on {}: {search} panicked: {message}; {REPORT}", key_name(.key))]
    Panicked {
        /// The key of the sub-history.
        key: Option<Key>,
        /// The search that panicked.
        search: Search,
        /// The panic message.
        message: String,
    },
    /// A search answered valid, but the order it found does not replay on the model.
    #[error(
        "checker bug on {}: {search} answered valid but its linearization does not replay: \
         {message}; {REPORT}",
        key_name(.key)
    )]
    BadWitness {
        /// The key of the sub-history.
        key: Option<Key>,
        /// The search whose witness failed.
        search: Search,
        /// Why the order is not a linearization.
        message: String,
    },
}

fn key_name(key: &Option<Key>) -> String {
    match key {
        Some(k) => format!("key {k}"),
        None => "the history".into(),
    }
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_both_searches_the_key_and_ask_for_a_report() {
        let e = CheckerBug::Disagreement {
            key: Some("k1".into()),
            valid: Search::Walk,
            invalid: Search::Wgl,
            op: 17,
            proven: true,
        };
        let m = e.to_string();
        assert!(
            m.starts_with("checker bug on key k1: the config-set walk found"),
            "{m}"
        );
        assert!(m.contains("the WGL search proved there is none"), "{m}");
        assert!(m.contains("index 17)"), "{m}");
        assert!(
            m.contains("please report it together with the history file"),
            "{m}"
        );
        let p = CheckerBug::Panicked {
            key: None,
            search: Search::RelaxedWalk,
            message: "boom".into(),
        };
        assert!(p
            .to_string()
            .starts_with("checker bug on the history: the relaxed walk panicked: boom;"));
    }
}
