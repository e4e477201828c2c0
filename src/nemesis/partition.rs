//! Network partitions as data: which directed links are cut, and a readable description for the
//! history. Pure functions over node lists; the randomness (which nodes go where) comes from the
//! caller's seeded shuffle.

use std::collections::BTreeSet;

use crate::net::{Link, NodeId};

/// A set of cut links plus how to describe it (`[n1 n2] [n3 n4 n5]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Readable description, recorded as the nemesis op's value.
    pub description: String,
    /// The directed links to cut. Symmetric ((a,b) cut iff (b,a) cut) for every constructor but
    /// [`Partition::directed`].
    pub cuts: BTreeSet<Link>,
}

fn group(nodes: &[NodeId]) -> String {
    format!("[{}]", nodes.join(" "))
}

fn cut_between(a: &[NodeId], b: &[NodeId], cuts: &mut BTreeSet<Link>) {
    for x in a {
        for y in b {
            if x != y {
                cuts.insert((x.clone(), y.clone()));
                cuts.insert((y.clone(), x.clone()));
            }
        }
    }
}

impl Partition {
    /// Complete groups: nodes in different groups cannot talk. Groups must be disjoint.
    pub fn groups(groups: &[Vec<NodeId>]) -> Partition {
        let mut cuts = BTreeSet::new();
        for (i, a) in groups.iter().enumerate() {
            for b in &groups[i + 1..] {
                cut_between(a, b, &mut cuts);
            }
        }
        let description = groups
            .iter()
            .map(|g| group(g))
            .collect::<Vec<_>>()
            .join(" ");
        Partition { description, cuts }
    }

    /// Split `shuffled` into a minority (first `n/2`) and a majority.
    pub fn halves(shuffled: &[NodeId]) -> Partition {
        let (a, b) = shuffled.split_at(shuffled.len() / 2);
        let (mut a, mut b) = (a.to_vec(), b.to_vec());
        a.sort();
        b.sort();
        Self::groups(&[a, b])
    }

    /// Exactly these directed links, one-way cuts included: multi-step faults use them to hold
    /// back one side of a conversation (a cut link delays messages, it never refuses them).
    /// Self-links are dropped.
    pub fn directed(description: String, cuts: impl IntoIterator<Item = Link>) -> Partition {
        Partition {
            description,
            cuts: cuts.into_iter().filter(|(a, b)| a != b).collect(),
        }
    }

    /// Cut `node` off from every other node.
    pub fn isolate(node: &NodeId, all: &[NodeId]) -> Partition {
        let mut rest: Vec<NodeId> = all.iter().filter(|n| *n != node).cloned().collect();
        rest.sort();
        Self::groups(&[vec![node.clone()], rest])
    }

    /// A bridge: `shuffled[0]` sees everyone; the rest split in two halves that cannot talk.
    pub fn bridge(shuffled: &[NodeId]) -> Partition {
        let Some((bridge, rest)) = shuffled.split_first() else {
            return Self::groups(&[]);
        };
        let (a, b) = rest.split_at(rest.len() / 2);
        let (mut a, mut b) = (a.to_vec(), b.to_vec());
        a.sort();
        b.sort();
        let mut cuts = BTreeSet::new();
        cut_between(&a, &b, &mut cuts);
        Partition {
            description: format!("{} {} bridge {bridge}", group(&a), group(&b)),
            cuts,
        }
    }

    /// The nodes this partition hits, for fault coverage: those that can no longer reach a
    /// majority (themselves included); when every node still can (rings, bridges), those that
    /// lost at least one link.
    pub fn hit(&self, all: &[NodeId]) -> Vec<NodeId> {
        let majority = all.len() / 2 + 1;
        let reach = |a: &NodeId| {
            all.iter()
                .filter(|b| *b == a || !self.cuts.contains(&(a.clone(), (*b).clone())))
                .count()
        };
        let cut_off: Vec<NodeId> = all
            .iter()
            .filter(|a| reach(a) < majority)
            .cloned()
            .collect();
        if !cut_off.is_empty() {
            return cut_off;
        }
        all.iter()
            .filter(|a| self.cuts.iter().any(|(x, y)| x == *a || y == *a))
            .cloned()
            .collect()
    }

    /// Majority ring over `shuffled` (ring order): each node keeps links to the nodes within ring
    /// distance `d`, the smallest `d` that lets it see a majority (itself included), and loses the
    /// rest; neighbouring nodes therefore see different majorities. With 3 nodes every pair is
    /// adjacent, so the ring degenerates to cutting one link (each node still sees a majority).
    pub fn ring(shuffled: &[NodeId]) -> Partition {
        let n = shuffled.len();
        let majority = n / 2 + 1;
        let d = majority / 2; // sees 2d+1 >= majority nodes
        let mut cuts = BTreeSet::new();
        for i in 0..n {
            for j in 0..n {
                let dist = (i + n - j) % n;
                let dist = dist.min(n - dist);
                if i != j && dist > d {
                    cuts.insert((shuffled[i].clone(), shuffled[j].clone()));
                }
            }
        }
        if cuts.is_empty() && n >= 2 {
            let (a, b) = (shuffled[0].clone(), shuffled[1].clone());
            cuts.insert((a.clone(), b.clone()));
            cuts.insert((b, a));
        }
        let mut pairs: Vec<String> = cuts
            .iter()
            .filter(|(a, b)| a < b)
            .map(|(a, b)| format!("{a}-{b}"))
            .collect();
        pairs.sort();
        Partition {
            description: format!("ring {} cut {}", group(shuffled), pairs.join(" ")),
            cuts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<NodeId> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    fn sees(p: &Partition, a: &NodeId, all: &[NodeId]) -> usize {
        all.iter()
            .filter(|b| *b == a || !p.cuts.contains(&(a.clone(), (*b).clone())))
            .count()
    }

    #[test]
    fn halves_are_minority_and_majority() {
        let p = Partition::halves(&ids(5));
        assert_eq!(p.description, "[n1 n2] [n3 n4 n5]");
        assert_eq!(p.cuts.len(), 2 * 2 * 3);
        assert!(p.cuts.contains(&("n1".into(), "n4".into())));
        assert!(p.cuts.contains(&("n4".into(), "n1".into())));
        assert!(!p.cuts.contains(&("n1".into(), "n2".into())));
    }

    #[test]
    fn isolate_and_bridge() {
        let all = ids(5);
        let p = Partition::isolate(&"n3".into(), &all);
        assert_eq!(p.description, "[n3] [n1 n2 n4 n5]");
        assert_eq!(p.cuts.len(), 8);
        let b = Partition::bridge(&all);
        assert_eq!(b.description, "[n2 n3] [n4 n5] bridge n1");
        assert_eq!(sees(&b, &"n1".into(), &all), 5);
        assert_eq!(sees(&b, &"n2".into(), &all), 3);
    }

    #[test]
    fn hit_nodes_are_the_cut_off_minority_else_every_node_that_lost_a_link() {
        let all = ids(5);
        assert_eq!(Partition::halves(&all).hit(&all), ["n1", "n2"]);
        assert_eq!(Partition::isolate(&"n4".into(), &all).hit(&all), ["n4"]);
        assert_eq!(Partition::ring(&all).hit(&all).len(), 5);
        let b = Partition::bridge(&all);
        assert_eq!(b.hit(&all), ["n2", "n3", "n4", "n5"]);
        assert!(Partition::groups(&[]).hit(&all).is_empty());
    }

    #[test]
    fn directed_keeps_one_way_cuts() {
        let p = Partition::directed(
            "x".into(),
            [
                ("n1".to_string(), "n2".to_string()),
                ("n3".to_string(), "n3".to_string()),
            ],
        );
        assert_eq!(p.cuts.len(), 1);
        assert!(p.cuts.contains(&("n1".into(), "n2".into())));
        assert!(!p.cuts.contains(&("n2".into(), "n1".into())));
    }

    #[test]
    fn every_node_in_a_ring_sees_a_majority_but_not_all() {
        for n in [3, 5, 7, 9] {
            let all = ids(n);
            let p = Partition::ring(&all);
            assert!(!p.cuts.is_empty(), "n={n}");
            for a in &all {
                assert!(sees(&p, a, &all) > n / 2, "n={n} {a}");
                for b in &all {
                    assert_eq!(
                        p.cuts.contains(&(a.clone(), b.clone())),
                        p.cuts.contains(&(b.clone(), a.clone()))
                    );
                }
            }
        }
        assert_eq!(
            Partition::ring(&ids(5)).description,
            "ring [n1 n2 n3 n4 n5] cut n1-n3 n1-n4 n2-n4 n2-n5 n3-n5"
        );
    }
}
