//! The safety properties of Raft (Figure 3 of the paper), checked against everything the
//! simulated nodes do, plus what a client can see: no acknowledged write is lost and reads are
//! linearizable. Each check keeps the global facts it needs, so a property is checked the moment
//! a node could break it rather than by rescanning every log.

use std::collections::HashMap;
use std::fmt;

use crate::core::Core;
use crate::kv::Kv;
use crate::types::{Command, Entry};

/// A broken property: what, where, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// Simulation round.
    pub round: u64,
    /// The property and the evidence.
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "round {}: {}", self.round, self.what)
    }
}

/// Global facts gathered from every node so far.
#[derive(Default)]
pub(super) struct Checker {
    /// Round being simulated (for messages).
    pub round: u64,
    /// Term → the node that led it (Election Safety).
    leaders: HashMap<u64, usize>,
    /// (index, term) → (command, term of the entry before it) (Log Matching).
    entries: HashMap<(u64, u64), (Command, u64)>,
    /// `committed[i]`: term of the entry committed at index `i`, 0 while unknown.
    committed: Vec<u64>,
    /// `applied[i]`: the entry some node applied at index `i` first (State Machine Safety).
    applied: Vec<Option<Entry>>,
    /// `states[i]`: the state machine after applying `applied[1..=i]`, while contiguous.
    states: Vec<String>,
    reference: Kv,
}

type Checked = Result<(), Violation>;

impl Checker {
    pub(super) fn new() -> Self {
        Checker {
            states: vec!["{}".to_string()],
            ..Checker::default()
        }
    }

    fn fail(&self, what: String) -> Checked {
        Err(self.fail_now(what))
    }

    /// A violation found by the caller, dated to the current round.
    pub(super) fn fail_now(&self, what: String) -> Violation {
        Violation {
            round: self.round,
            what,
        }
    }

    /// Highest index known to be committed.
    pub(super) fn max_committed(&self) -> u64 {
        self.committed.len().saturating_sub(1) as u64
    }

    /// Term of the entry committed at `index`, if known.
    pub(super) fn committed_term(&self, index: u64) -> Option<u64> {
        self.committed
            .get(index as usize)
            .copied()
            .filter(|t| *t > 0)
    }

    /// Election Safety: at most one leader per term, ever.
    pub(super) fn leader(&mut self, node: usize, term: u64) -> Checked {
        match self.leaders.insert(term, node) {
            Some(other) if other != node => self.fail(format!(
                "election safety: n{} and n{} both led term {term}",
                other + 1,
                node + 1
            )),
            _ => Ok(()),
        }
    }

    /// Leader Completeness: a leader of term `T` holds every entry committed in a term below `T`
    /// (entries its snapshot covers count as held; the state checks vouch for their contents).
    pub(super) fn leader_holds_committed(&self, node: usize, core: &Core) -> Checked {
        let term = core.term();
        for index in core.snapshot_index() + 1..=self.max_committed() {
            let Some(t) = self.committed_term(index).filter(|t| *t < term) else {
                continue;
            };
            if core.term_at(index) != Some(t) {
                return self.fail(format!(
                    "leader completeness: n{} leads term {term} without entry {index} (term {t}) \
                     committed before; it has term {:?} there",
                    node + 1,
                    core.term_at(index)
                ));
            }
        }
        Ok(())
    }

    /// Record that `node` has committed up to `upto` (its log has the terms); a different entry
    /// committed at the same index breaks safety. Returns the newly committed `(index, term)`s.
    pub(super) fn commit(
        &mut self,
        node: usize,
        core: &Core,
        from: u64,
        upto: u64,
    ) -> Result<Vec<(u64, u64)>, Violation> {
        let mut fresh = Vec::new();
        for index in from + 1..=upto {
            let Some(term) = core.term_at(index) else {
                continue;
            };
            let i = index as usize;
            if self.committed.len() <= i {
                self.committed.resize(i + 1, 0);
            }
            match self.committed[i] {
                0 => {
                    self.committed[i] = term;
                    fresh.push((index, term));
                }
                t if t != term => {
                    return Err(Violation {
                        round: self.round,
                        what: format!(
                            "commit safety: n{} committed entry {index} of term {term}, but term \
                             {t} was committed there before",
                            node + 1
                        ),
                    })
                }
                _ => {}
            }
        }
        Ok(fresh)
    }

    /// Log Matching: one (index, term) names one command, always preceded by the same term.
    /// `entries` are what a node's `Ready` asks to persist; `prev_term` is its term before them.
    pub(super) fn appended(
        &mut self,
        node: usize,
        entries: &[Entry],
        mut prev_term: u64,
    ) -> Checked {
        for e in entries {
            let fact = (e.cmd.clone(), prev_term);
            match self.entries.get(&(e.index, e.term)) {
                None => {
                    self.entries.insert((e.index, e.term), fact);
                }
                Some(seen) if *seen != fact => {
                    return self.fail(format!(
                        "log matching: n{} holds entry {} of term {} as {:?} after term {}, \
                         another node as {:?} after term {}",
                        node + 1,
                        e.index,
                        e.term,
                        e.cmd,
                        prev_term,
                        seen.0,
                        seen.1
                    ));
                }
                Some(_) => {}
            }
            prev_term = e.term;
        }
        Ok(())
    }

    /// Committed entries are never lost: a node's storage may only drop a committed entry when it
    /// writes the very same entry again.
    pub(super) fn drops(&self, node: usize, dropped: &[Entry], rewritten: &[Entry]) -> Checked {
        for old in dropped {
            if self.committed_term(old.index) != Some(old.term) {
                continue;
            }
            if !rewritten
                .iter()
                .any(|e| e.index == old.index && e.term == old.term)
            {
                return self.fail(format!(
                    "durability: n{} dropped committed entry {} (term {}) from its storage",
                    node + 1,
                    old.index,
                    old.term
                ));
            }
        }
        Ok(())
    }

    /// State Machine Safety: no two nodes apply different entries at one index.
    pub(super) fn apply(&mut self, node: usize, e: &Entry) -> Checked {
        let i = e.index as usize;
        if self.applied.len() <= i {
            self.applied.resize(i + 1, None);
        }
        match &self.applied[i] {
            None => self.applied[i] = Some(e.clone()),
            Some(first) if first.term != e.term || first.cmd != e.cmd => {
                return self.fail(format!(
                    "state machine safety: n{} applied {:?} (term {}) at index {}, another node \
                     applied {:?} (term {})",
                    node + 1,
                    e.cmd,
                    e.term,
                    e.index,
                    first.cmd,
                    first.term
                ));
            }
            Some(_) => {}
        }
        if self.committed_term(e.index) != Some(e.term) {
            return self.fail(format!(
                "n{} applied entry {} (term {}) that was never seen committed",
                node + 1,
                e.index,
                e.term
            ));
        }
        Ok(())
    }

    /// A node's whole state machine at `index` (after a snapshot install, when taking one, at the
    /// end) equals the state every node's applied entries lead to.
    pub(super) fn state(&mut self, node: usize, index: u64, kv: &Kv) -> Checked {
        let i = index as usize;
        while self.states.len() <= i {
            let Some(Some(e)) = self.applied.get(self.states.len()) else {
                break;
            };
            self.reference.apply(&e.cmd);
            let s = self.reference.snapshot().unwrap_or_else(|e| e.to_string());
            self.states.push(s);
        }
        let mine = kv.snapshot().unwrap_or_else(|e| e.to_string());
        match self.states.get(i) {
            None => self.fail(format!(
                "n{} holds a state machine at index {index} though no node applied every entry \
                 up to it",
                node + 1
            )),
            Some(want) if *want != mine => self.fail(format!(
                "state machine safety: n{} at index {index} holds {mine}, the applied entries \
                 give {want}",
                node + 1
            )),
            Some(_) => Ok(()),
        }
    }

    /// Linearizable reads: a read answered from the state at `applied` reflects every write
    /// acknowledged, and every read answered, before it was asked (`floor`).
    pub(super) fn read(&self, node: usize, applied: u64, floor: u64) -> Checked {
        if applied < floor {
            return self.fail(format!(
                "stale read: n{} answered from index {applied}, but index {floor} was \
                 acknowledged or read before the read began",
                node + 1
            ));
        }
        Ok(())
    }
}
