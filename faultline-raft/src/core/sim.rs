//! A deterministic in-memory network of cores for unit tests: messages are delivered in order,
//! links can be cut, and every node's applied entries are recorded.

use std::collections::{BTreeSet, VecDeque};

use super::{Config, Core, Role};
use crate::bugs::Bugs;
use crate::types::{Command, Entry, HardState, Message, Snapshot};

/// A simulated cluster.
pub struct Sim {
    pub nodes: Vec<Core>,
    pub applied: Vec<Vec<Entry>>,
    queue: VecDeque<Message>,
    /// Directed links that drop messages: (from, to).
    cut: BTreeSet<(String, String)>,
}

pub fn name(i: usize) -> String {
    format!("n{}", i + 1)
}

impl Sim {
    pub fn new(n: usize, pre_vote: bool, bugs: Bugs) -> Self {
        let nodes = (0..n)
            .map(|i| {
                let cfg = Config {
                    id: name(i),
                    peers: (0..n).filter(|&j| j != i).map(name).collect(),
                    client_addr: format!("client-{}", name(i)),
                    election_ticks: 10,
                    heartbeat_ticks: 2,
                    pre_vote,
                    check_quorum: true,
                    max_batch: 64,
                    seed: 1000 + i as u64,
                    bugs: bugs.clone(),
                };
                Core::new(cfg, HardState::default(), Snapshot::default(), Vec::new())
            })
            .collect();
        Sim {
            nodes,
            applied: vec![Vec::new(); n],
            queue: VecDeque::new(),
            cut: BTreeSet::new(),
        }
    }

    /// Cut every link between `group` and the other nodes (both directions).
    pub fn isolate(&mut self, group: &[usize]) {
        for &a in group {
            for b in 0..self.nodes.len() {
                if !group.contains(&b) {
                    self.cut.insert((name(a), name(b)));
                    self.cut.insert((name(b), name(a)));
                }
            }
        }
    }

    pub fn heal(&mut self) {
        self.cut.clear();
    }

    fn collect(&mut self) {
        for i in 0..self.nodes.len() {
            while self.nodes[i].has_ready() {
                let rd = self.nodes[i].ready();
                self.applied[i].extend(rd.committed);
                self.queue.extend(rd.messages);
            }
        }
    }

    /// Deliver messages until the network is quiet.
    pub fn deliver(&mut self) {
        self.collect();
        let mut budget = 100_000;
        while let Some(m) = self.queue.pop_front() {
            budget -= 1;
            assert!(budget > 0, "message storm");
            if self.cut.contains(&(m.from.clone(), m.to.clone())) {
                continue;
            }
            if let Some(i) = self.nodes.iter().position(|n| n.id() == &m.to) {
                self.nodes[i].step(m);
                self.collect();
            }
        }
    }

    /// Tick every node once and deliver.
    pub fn tick(&mut self) {
        for n in &mut self.nodes {
            n.tick();
        }
        self.deliver();
    }

    pub fn leaders(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].soft_state().role == Role::Leader)
            .collect()
    }

    /// Tick until some node among `among` leads; returns it.
    pub fn elect(&mut self, among: &[usize]) -> usize {
        for _ in 0..500 {
            self.tick();
            if let Some(&l) = self.leaders().iter().find(|l| among.contains(l)) {
                return l;
            }
        }
        panic!("no leader elected among {among:?}");
    }

    pub fn put(&mut self, node: usize, key: &str, v: i64) -> Option<(u64, u64)> {
        let cmd = Command::Put {
            key: key.into(),
            value: v.into(),
        };
        let r = self.nodes[node].propose(cmd).ok();
        self.deliver();
        r
    }
}
