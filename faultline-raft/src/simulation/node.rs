//! One simulated node: a [`Core`] while it runs, its disk (a [`MemStorage`] holding exactly what
//! its `Ready`s persisted), its state machine, and what the checker has already seen of it.

use crate::core::{Config, Core, Role};
use crate::kv::Kv;
use crate::storage::MemStorage;
use crate::types::NodeId;

/// A read confirmed by ReadIndex, waiting for the state machine to reach `index`.
pub(super) struct ConfirmedRead {
    pub index: u64,
    /// What the read must reflect (see `Checker::read`).
    pub floor: u64,
}

/// A simulated node.
pub(super) struct SimNode {
    pub cfg: Config,
    /// `None` while crashed.
    pub core: Option<Core>,
    /// Survives crashes.
    pub disk: MemStorage,
    pub kv: Kv,
    /// Index of the last entry applied to `kv`.
    pub applied: u64,
    /// Commit index already reported to the checker.
    pub seen_commit: u64,
    /// Role and term last seen, to notice a new leadership.
    pub seen_role: Role,
    pub seen_term: u64,
    pub reads: Vec<ConfirmedRead>,
}

/// Ids `n1`, `n2`, ...
pub(super) fn name(i: usize) -> NodeId {
    format!("n{}", i + 1)
}

impl SimNode {
    /// A fresh node, not started yet.
    pub(super) fn new(cfg: Config) -> Self {
        SimNode {
            cfg,
            core: None,
            disk: MemStorage::default(),
            kv: Kv::default(),
            applied: 0,
            seen_commit: 0,
            seen_role: Role::Follower,
            seen_term: 0,
            reads: Vec::new(),
        }
    }

    pub(super) fn is_up(&self) -> bool {
        self.core.is_some()
    }

    /// Lose everything but the disk.
    pub(super) fn crash(&mut self) {
        self.core = None;
        self.reads.clear();
    }

    /// Start from exactly what the disk holds; `seed` drives the new election timeouts.
    pub(super) fn start(&mut self, seed: u64) -> Result<(), String> {
        let rec = self.disk.state().clone();
        self.kv = Kv::restore(&rec.snapshot.data)
            .map_err(|e| format!("{}: stored snapshot does not decode: {e}", self.cfg.id))?;
        self.applied = rec.snapshot.index;
        self.seen_commit = rec.snapshot.index;
        self.seen_role = Role::Follower;
        self.seen_term = rec.hard_state.term;
        let mut cfg = self.cfg.clone();
        cfg.seed = seed;
        self.core = Some(Core::new(cfg, rec.hard_state, rec.snapshot, rec.entries));
        Ok(())
    }

    /// Entries the disk would drop if `first` were appended (to check nothing committed goes).
    pub(super) fn disk_from(&self, first: u64) -> Vec<crate::types::Entry> {
        self.disk
            .state()
            .entries
            .iter()
            .filter(|e| e.index >= first)
            .cloned()
            .collect()
    }

    /// Take the reads whose index is applied; their floors, for the checker.
    pub(super) fn ready_reads(&mut self) -> Vec<u64> {
        let applied = self.applied;
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.reads)
            .into_iter()
            .partition(|r| r.index <= applied);
        self.reads = later;
        now.into_iter().map(|r| r.floor).collect()
    }
}
