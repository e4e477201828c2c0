//! Splitting a history into independent sub-histories (P-compositionality): one per key when any
//! client op carries a key, else the whole history. In a keyed history, ops without a key (the
//! nemesis) are ignored: they never touch the model. Validation has already given every client
//! completion its invoke's key and refused unkeyed client ops in keyed histories, so grouping by
//! the op's own key puts each completion with its invoke.

use crate::history::{CompactHistory, OpType, NONE};

/// A sub-history: its key id (`None` when un-keyed) and the positions of its ops, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    /// The key's id in the history's key table, for keyed histories.
    pub key: Option<u32>,
    /// Positions in the history, real-time order.
    pub positions: Vec<u32>,
    /// Number of client invokes in this group.
    pub invokes: usize,
}

/// Split `h` by key, keys in order of first appearance. Two passes (count, then fill) so each
/// group is allocated once, at its final size.
pub(crate) fn by_key(h: &CompactHistory) -> Vec<Group> {
    let client = |p: usize| h.is_client(p);
    let keyed = (0..h.len()).any(|p| client(p) && h.ops[p].key != NONE);
    if !keyed {
        let positions: Vec<u32> = (0..h.len() as u32).collect();
        let invokes = count_invokes(h, &positions);
        return vec![Group {
            key: None,
            positions,
            invokes,
        }];
    }
    // Key ids are dense and numbered in order of first appearance.
    let mut sizes: Vec<u32> = Vec::new();
    let mut invokes: Vec<usize> = Vec::new();
    for (p, op) in h.ops.iter().enumerate() {
        if op.key == NONE || !client(p) {
            continue;
        }
        let k = op.key as usize;
        if k >= sizes.len() {
            sizes.resize(k + 1, 0);
            invokes.resize(k + 1, 0);
        }
        sizes[k] += 1;
        invokes[k] += usize::from(op.kind == OpType::Invoke);
    }
    let mut groups: Vec<Group> = (sizes.iter().zip(&invokes).enumerate())
        .map(|(k, (&n, &invokes))| Group {
            key: Some(k as u32),
            positions: Vec::with_capacity(n as usize),
            invokes,
        })
        .collect();
    for (p, op) in h.ops.iter().enumerate() {
        if op.key != NONE && client(p) {
            groups[op.key as usize].positions.push(p as u32);
        }
    }
    groups.retain(|g| !g.positions.is_empty());
    groups
}

fn count_invokes(h: &CompactHistory, positions: &[u32]) -> usize {
    positions
        .iter()
        .filter(|&&p| h.ops[p as usize].kind == OpType::Invoke && h.is_client(p as usize))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{read_jsonl_compact, Key};

    fn compact(text: &str) -> CompactHistory {
        let mut c = read_jsonl_compact(text.as_bytes(), "h.jsonl", 1 << 20).expect("parse");
        c.validate().expect("valid");
        c
    }

    #[test]
    fn completions_follow_their_invokes_and_typed_keys_stay_apart() {
        let c = compact(
            r#"{"process":0,"type":"invoke","f":"read","key":3}
{"process":1,"type":"invoke","f":"read","key":"3"}
{"process":"nemesis","type":"info","f":"kill"}
{"process":0,"type":"ok","f":"read","value":1}
{"process":1,"type":"ok","f":"read","key":"3","value":2}"#,
        );
        let groups = by_key(&c);
        let keys: Vec<Option<&Key>> = groups
            .iter()
            .map(|g| g.key.and_then(|k| c.key_of(k)))
            .collect();
        assert_eq!(keys, vec![Some(&Key::from(3i64)), Some(&Key::from("3"))]);
        assert_eq!(groups[0].positions, vec![0, 3]);
        assert_eq!(groups[1].positions, vec![1, 4]);
        assert_eq!((groups[0].invokes, groups[1].invokes), (1, 1));
    }

    #[test]
    fn unkeyed_histories_are_one_group() {
        let c = compact(
            r#"{"process":0,"type":"invoke","f":"read"}
{"process":0,"type":"ok","f":"read","value":1}"#,
        );
        let g = by_key(&c);
        assert_eq!(g.len(), 1);
        assert_eq!((g[0].key, g[0].invokes, g[0].positions.len()), (None, 1, 2));
    }
}
