//! Splitting a history into independent sub-histories (P-compositionality): one per key when any
//! client op carries a key, else the whole history. In a keyed history, ops without a key (the
//! nemesis) are ignored: they never touch the model.

use rustc_hash::FxHashMap;

use crate::history::{History, Process};

/// A sub-history: its key (`None` when un-keyed) and the positions of its ops, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The key, for keyed histories.
    pub key: Option<String>,
    /// Positions in `History::ops`, real-time order.
    pub positions: Vec<usize>,
}

impl Group {
    /// Number of client invokes in this group.
    pub fn invokes(&self, history: &History) -> usize {
        self.positions
            .iter()
            .filter(|&&p| {
                let op = &history.ops[p];
                op.kind == crate::history::OpType::Invoke && op.process != Process::Nemesis
            })
            .count()
    }
}

/// Split `history` by key, keys in order of first appearance.
pub fn by_key(history: &History) -> Vec<Group> {
    let keyed = history
        .ops
        .iter()
        .any(|o| o.key.is_some() && o.process != Process::Nemesis);
    if !keyed {
        return vec![Group {
            key: None,
            positions: (0..history.ops.len()).collect(),
        }];
    }
    let mut index: FxHashMap<&str, usize> = FxHashMap::default();
    let mut groups: Vec<Group> = Vec::new();
    for (pos, op) in history.ops.iter().enumerate() {
        let (Some(k), Process::Client(_)) = (&op.key, op.process) else {
            continue;
        };
        let g = *index.entry(k.as_str()).or_insert_with(|| {
            groups.push(Group {
                key: Some(k.clone()),
                positions: Vec::new(),
            });
            groups.len() - 1
        });
        groups[g].positions.push(pos);
    }
    groups
}
