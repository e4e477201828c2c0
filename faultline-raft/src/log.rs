//! The in-memory view of the replicated log: entries after the latest snapshot, lookups by index,
//! the conflict-truncating append of §5.3, compaction, the snapshot rule of §7 (also used by
//! storage), and which suffix still needs persisting.

use super::types::{Entry, Snapshot};

/// The log held by the Raft core.
///
/// Invariants: `entries[i].index == snap_index + 1 + i`; `unstable_from > snap_index`; every entry
/// with index `>= unstable_from` has not yet been handed to storage.
#[derive(Debug, Clone, Default)]
pub struct RaftLog {
    snap_index: u64,
    snap_term: u64,
    entries: Vec<Entry>,
    unstable_from: u64,
}

impl RaftLog {
    /// A log recovered from storage: a snapshot point plus the entries after it (all stable).
    pub fn restore(snap_index: u64, snap_term: u64, entries: Vec<Entry>) -> Self {
        let mut log = RaftLog {
            snap_index,
            snap_term,
            entries: Vec::new(),
            unstable_from: 0,
        };
        for e in entries {
            if e.index == log.last_index() + 1 {
                log.entries.push(e);
            }
        }
        log.unstable_from = log.last_index() + 1;
        log
    }

    /// Index of the last entry (or of the snapshot when the log is empty).
    pub fn last_index(&self) -> u64 {
        self.snap_index + self.entries.len() as u64
    }

    /// Term of the last entry.
    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.snap_term, |e| e.term)
    }

    /// Index covered by the latest snapshot; entries up to it are compacted away.
    pub fn snap_index(&self) -> u64 {
        self.snap_index
    }

    /// Term of the entry at `index`, if known (the snapshot point counts as known).
    pub fn term(&self, index: u64) -> Option<u64> {
        if index == self.snap_index {
            return Some(self.snap_term);
        }
        self.get(index).map(|e| e.term)
    }

    /// The entry at `index`, if held.
    pub fn get(&self, index: u64) -> Option<&Entry> {
        if index <= self.snap_index {
            return None;
        }
        self.entries.get((index - self.snap_index - 1) as usize)
    }

    /// Entries in `[lo, hi]` (clamped to what is held), at most `max` of them.
    pub fn slice(&self, lo: u64, hi: u64, max: usize) -> Vec<Entry> {
        let lo = lo.max(self.snap_index + 1);
        let hi = hi.min(self.last_index());
        if lo > hi {
            return Vec::new();
        }
        let start = (lo - self.snap_index - 1) as usize;
        let end = ((hi - self.snap_index) as usize).min(start.saturating_add(max));
        self.entries[start..end].to_vec()
    }

    /// First index of the run of entries with the same term as the entry at `index` (used for
    /// the conflict hint of fast backtracking).
    pub fn first_index_of_term_at(&self, index: u64) -> u64 {
        let Some(term) = self.term(index) else {
            return index;
        };
        let mut i = index;
        while i > self.snap_index + 1 && self.term(i - 1) == Some(term) {
            i -= 1;
        }
        i
    }

    /// Last index whose entry has term `term`, if any (leader side of fast backtracking).
    pub fn last_index_of_term(&self, term: u64) -> Option<u64> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.term == term)
            .map(|e| e.index)
    }

    /// Append one entry at the end (leader).
    pub fn push(&mut self, term: u64, cmd: super::types::Command) -> u64 {
        let index = self.last_index() + 1;
        self.entries.push(Entry { index, term, cmd });
        index
    }

    /// Drop every entry at `index` and after (a conflicting suffix, §5.3 step 3).
    pub fn truncate_from(&mut self, index: u64) {
        if index <= self.snap_index {
            return;
        }
        self.entries
            .truncate((index - self.snap_index - 1) as usize);
        self.unstable_from = self.unstable_from.min(index);
    }

    /// Append `entry`, which must directly follow the last entry.
    pub fn append(&mut self, entry: Entry) {
        debug_assert_eq!(entry.index, self.last_index() + 1);
        self.entries.push(entry);
    }

    /// Forget entries up to `index`, now covered by a snapshot whose last entry has `term`.
    pub fn compact(&mut self, index: u64, term: u64) {
        if index <= self.snap_index || index > self.last_index() {
            return;
        }
        let drop = (index - self.snap_index) as usize;
        self.entries.drain(..drop);
        self.snap_index = index;
        self.snap_term = term;
        self.unstable_from = self.unstable_from.max(index + 1);
    }

    /// Move the log's start to a snapshot received from the leader, by [`after_snapshot`]: keep
    /// the entries after it when the log holds its last entry, otherwise drop them all. Returns
    /// whether a suffix was kept.
    pub fn install(&mut self, snap: &Snapshot) -> bool {
        let entries = std::mem::take(&mut self.entries);
        self.entries = after_snapshot(entries, snap);
        self.snap_index = snap.index;
        self.snap_term = snap.term;
        // Kept entries stay as (un)stable as they were; an emptied log has nothing unstable.
        self.unstable_from = self
            .unstable_from
            .clamp(snap.index + 1, self.last_index() + 1);
        !self.entries.is_empty()
    }

    /// Entries that changed since the last call, for storage; storage truncates from the first.
    pub fn take_unstable(&mut self) -> Vec<Entry> {
        let out = self.slice(self.unstable_from, self.last_index(), usize::MAX);
        self.unstable_from = self.last_index() + 1;
        out
    }

    /// Is there anything storage has not seen yet?
    pub fn has_unstable(&self) -> bool {
        self.unstable_from <= self.last_index()
    }
}

/// The entries of a log (consecutive indexes) that may follow `snap`, by the rule of §7: "if an
/// existing log entry has the same index and term as the snapshot's last included entry, retain
/// log entries following it"; otherwise the whole log goes. A log that already starts right after
/// the snapshot (rewritten after it) is kept whole. One rule for a local compaction (whose log
/// always holds that entry), an installed snapshot, and recovery after a crash between writing a
/// snapshot and rewriting the log.
pub fn after_snapshot(mut entries: Vec<Entry>, snap: &Snapshot) -> Vec<Entry> {
    let Some(first) = entries.first().map(|e| e.index) else {
        return entries;
    };
    if first > snap.index {
        return entries;
    }
    let at = (snap.index - first) as usize;
    if entries.get(at).is_some_and(|e| e.term == snap.term) {
        entries.drain(..=at);
        entries
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Command;

    fn log_with_terms(terms: &[u64]) -> RaftLog {
        let mut log = RaftLog::default();
        for &t in terms {
            log.push(t, Command::Noop);
        }
        log
    }

    #[test]
    fn truncation_marks_suffix_unstable_again() {
        let mut log = log_with_terms(&[1, 1, 2]);
        assert_eq!(log.take_unstable().len(), 3);
        log.truncate_from(3);
        log.append(Entry {
            index: 3,
            term: 3,
            cmd: Command::Noop,
        });
        let unstable = log.take_unstable();
        assert_eq!(unstable.len(), 1);
        assert_eq!(unstable[0].term, 3);
    }

    #[test]
    fn compaction_keeps_terms_and_indexes() {
        let mut log = log_with_terms(&[1, 1, 2, 2, 3]);
        log.compact(3, 2);
        assert_eq!(log.term(3), Some(2));
        assert_eq!(log.term(2), None);
        assert_eq!(log.last_index(), 5);
        assert_eq!(log.slice(1, 10, 10).len(), 2);
        assert_eq!(log.first_index_of_term_at(5), 5);
        assert_eq!(log.last_index_of_term(2), Some(4));
    }

    fn log(first: u64, terms: &[u64]) -> Vec<Entry> {
        terms
            .iter()
            .enumerate()
            .map(|(i, &term)| Entry {
                index: first + i as u64,
                term,
                cmd: Command::Noop,
            })
            .collect()
    }

    fn snap(index: u64, term: u64) -> Snapshot {
        Snapshot {
            index,
            term,
            data: String::new(),
        }
    }

    fn indexes(entries: &[Entry]) -> Vec<u64> {
        entries.iter().map(|e| e.index).collect()
    }

    #[test]
    fn a_snapshot_matching_a_log_entry_keeps_the_suffix_after_it() {
        let kept = after_snapshot(log(1, &[1, 1, 2, 2, 3]), &snap(3, 2));
        assert_eq!(indexes(&kept), vec![4, 5]);
    }

    #[test]
    fn a_snapshot_the_log_does_not_match_drops_the_whole_log() {
        assert!(after_snapshot(log(1, &[1, 1, 2, 2, 3]), &snap(3, 3)).is_empty());
        assert!(after_snapshot(log(1, &[1, 1]), &snap(5, 1)).is_empty());
    }

    #[test]
    fn installing_a_snapshot_keeps_a_matching_suffix_and_its_unstable_mark() {
        let mut log = log_with_terms(&[1, 1, 2, 2, 3]);
        let _ = log.take_unstable();
        log.push(3, Command::Noop);
        assert!(log.install(&snap(3, 2)));
        assert_eq!((log.snap_index(), log.term(3)), (3, Some(2)));
        assert_eq!(log.last_index(), 6);
        assert_eq!(indexes(&log.take_unstable()), vec![6]);

        let mut log = log_with_terms(&[1, 1, 2, 2, 3]);
        let _ = log.take_unstable();
        assert!(!log.install(&snap(4, 3)));
        assert_eq!((log.last_index(), log.last_term()), (4, 3));
        assert!(!log.has_unstable());
        // The next entry after an emptied log is unstable again.
        log.push(3, Command::Noop);
        assert_eq!(indexes(&log.take_unstable()), vec![5]);
    }

    #[test]
    fn a_log_already_cut_at_the_snapshot_is_kept() {
        let kept = after_snapshot(log(4, &[2, 3]), &snap(3, 2));
        assert_eq!(indexes(&kept), vec![4, 5]);
        assert!(after_snapshot(Vec::new(), &snap(3, 2)).is_empty());
    }
}
