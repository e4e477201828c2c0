//! The clients and the store behind [`super::generate`]: random transactions over a rotating
//! pool of keys, each applied atomically between its invoke and its completion, plus the
//! scripted scenarios that inject one anomaly on fresh keys and fresh processes.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;

use super::generate::{pick, rng, GMop, GenConfig, Inject, Store};
use crate::history::OpType;

type Emit<'a> = &'a mut dyn FnMut(u64, OpType, &[GMop]);

/// What happens to a transaction once invoked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Ok,
    Fail,
    Info,
}

enum Phase {
    Idle,
    Invoked(Vec<GMop>, Fate),
    Applied(Vec<GMop>, Fate),
}

struct Client {
    process: u64,
    phase: Phase,
}

struct Keys {
    active: Vec<u64>,
    next: u64,
    writes: FxHashMap<u64, u64>,
    max: u64,
}

impl Keys {
    /// A key for a new micro-op, and the next unique value if it is a write.
    fn pick(&mut self, rng: &mut ChaCha8Rng, write: bool) -> (u64, u64) {
        let i = pick(rng, self.active.len());
        if !write {
            return (self.active[i], 0);
        }
        let mut k = self.active[i];
        if self.writes.get(&k).copied().unwrap_or(0) >= self.max {
            k = self.fresh();
            self.active[i] = k;
        }
        let n = self.writes.entry(k).or_insert(0);
        *n += 1;
        (k, *n)
    }

    fn fresh(&mut self) -> u64 {
        self.next += 1;
        self.next - 1
    }
}

/// Run the simulation, sending every op to `emit`.
pub(crate) fn run(cfg: &GenConfig, emit: Emit) {
    let mut rng = rng(cfg.seed);
    let mut store = Store::default();
    let mut keys = Keys {
        active: (0..cfg.keys.max(1) as u64).collect(),
        next: cfg.keys.max(1) as u64,
        writes: FxHashMap::default(),
        max: cfg.max_writes_per_key.max(1),
    };
    let n = cfg.processes.max(1);
    let mut next_process = n as u64;
    let mut clients: Vec<Client> = (0..n as u64)
        .map(|p| Client {
            process: p,
            phase: Phase::Idle,
        })
        .collect();
    let (mut invoked, mut busy, mut injected) = (0usize, 0usize, cfg.inject.is_none());
    while invoked < cfg.txns || busy > 0 {
        let c = &mut clients[pick(&mut rng, n)];
        match std::mem::replace(&mut c.phase, Phase::Idle) {
            Phase::Idle if invoked < cfg.txns => {
                if !injected && invoked >= cfg.txns / 2 {
                    injected = true;
                    if let Some(inj) = cfg.inject {
                        scenario(inj, &mut keys, &mut next_process, emit);
                    }
                }
                let mops = txn(cfg, &mut rng, &mut keys);
                emit(c.process, OpType::Invoke, &mops);
                let roll: f64 = rng.random();
                let fate = if roll < cfg.fail_rate {
                    Fate::Fail
                } else if roll < cfg.fail_rate + cfg.info_rate {
                    Fate::Info
                } else {
                    Fate::Ok
                };
                c.phase = Phase::Invoked(mops, fate);
                invoked += 1;
                busy += 1;
            }
            Phase::Idle => {}
            Phase::Invoked(mut mops, fate) => {
                let applies = match fate {
                    Fate::Ok => true,
                    Fate::Fail => false,
                    Fate::Info => rng.random_bool(0.5),
                };
                if applies {
                    store.apply(&mut mops);
                }
                c.phase = Phase::Applied(mops, fate);
            }
            Phase::Applied(mops, fate) => {
                let kind = match fate {
                    Fate::Ok => OpType::Ok,
                    Fate::Fail => OpType::Fail,
                    Fate::Info => OpType::Info,
                };
                if kind == OpType::Ok {
                    emit(c.process, kind, &mops);
                } else {
                    emit(c.process, kind, &unread(&mops));
                }
                if kind == OpType::Info {
                    c.process = next_process;
                    next_process += 1;
                }
                busy -= 1;
            }
        }
    }
}

/// The micro-ops with every read result forgotten (invokes, and non-ok completions).
fn unread(mops: &[GMop]) -> Vec<GMop> {
    mops.iter()
        .map(|m| match m {
            GMop::Read(k, _) => GMop::Read(*k, None),
            w => w.clone(),
        })
        .collect()
}

fn txn(cfg: &GenConfig, rng: &mut ChaCha8Rng, keys: &mut Keys) -> Vec<GMop> {
    let len = rng.random_range(cfg.min_len.max(1)..=cfg.max_len.max(cfg.min_len.max(1)));
    (0..len)
        .map(|_| {
            let write = rng.random_bool(0.5);
            let (k, v) = keys.pick(rng, write);
            if write {
                GMop::Write(k, v)
            } else {
                GMop::Read(k, None)
            }
        })
        .collect()
}

/// Emit the scripted ops of one injected anomaly on fresh keys and processes.
fn scenario(inj: Inject, keys: &mut Keys, next_process: &mut u64, emit: Emit) {
    let (k1, k2) = (keys.fresh(), keys.fresh());
    let mut fresh = || {
        *next_process += 1;
        *next_process - 1
    };
    let (p1, p2, p3, p4) = (fresh(), fresh(), fresh(), fresh());
    use GMop::{Read as R, Write as W};
    use OpType::{Fail, Invoke as I, Ok as K};
    let r = |k: u64| R(k, None);
    let seen = |k: u64, l: &[u64]| R(k, Some(l.to_vec()));
    let script: Vec<(u64, OpType, Vec<GMop>)> = match inj {
        Inject::G0 => vec![
            (p1, I, vec![W(k1, 1), W(k2, 1)]),
            (p2, I, vec![W(k1, 2), W(k2, 2)]),
            (p1, K, vec![W(k1, 1), W(k2, 1)]),
            (p2, K, vec![W(k1, 2), W(k2, 2)]),
            (p3, I, vec![r(k1), r(k2)]),
            (p3, K, vec![seen(k1, &[1, 2]), seen(k2, &[2, 1])]),
        ],
        Inject::G1a => vec![
            (p1, I, vec![W(k1, 1)]),
            (p1, Fail, vec![W(k1, 1)]),
            (p2, I, vec![r(k1)]),
            (p2, K, vec![seen(k1, &[1])]),
        ],
        Inject::G1b => vec![
            (p1, I, vec![W(k1, 1), W(k1, 2)]),
            (p2, I, vec![r(k1)]),
            (p2, K, vec![seen(k1, &[1])]),
            (p1, K, vec![W(k1, 1), W(k1, 2)]),
        ],
        Inject::G1c => vec![
            (p1, I, vec![W(k1, 1), r(k2)]),
            (p2, I, vec![W(k2, 1), r(k1)]),
            (p1, K, vec![W(k1, 1), seen(k2, &[1])]),
            (p2, K, vec![W(k2, 1), seen(k1, &[1])]),
        ],
        Inject::GSingle => vec![
            (p2, I, vec![r(k1), r(k2)]),
            (p1, I, vec![W(k1, 1), W(k2, 1)]),
            (p1, K, vec![W(k1, 1), W(k2, 1)]),
            (p2, K, vec![seen(k1, &[]), seen(k2, &[1])]),
        ],
        Inject::G2Item => vec![
            (p1, I, vec![r(k1), W(k2, 1)]),
            (p2, I, vec![r(k2), W(k1, 1)]),
            (p1, K, vec![seen(k1, &[]), W(k2, 1)]),
            (p2, K, vec![seen(k2, &[]), W(k1, 1)]),
        ],
        Inject::Internal => vec![
            (p1, I, vec![W(k1, 1), r(k1)]),
            (p1, K, vec![W(k1, 1), seen(k1, &[])]),
        ],
        Inject::LostUpdate => vec![
            (p1, I, vec![W(k1, 1)]),
            (p1, K, vec![W(k1, 1)]),
            (p2, I, vec![r(k1), W(k1, 2)]),
            (p3, I, vec![r(k1), W(k1, 3)]),
            (p2, K, vec![seen(k1, &[1]), W(k1, 2)]),
            (p3, K, vec![seen(k1, &[1]), W(k1, 3)]),
        ],
        Inject::GSingleRealtime => vec![
            (p1, I, vec![W(k1, 1)]),
            (p1, K, vec![W(k1, 1)]),
            (p2, I, vec![r(k1)]),
            (p2, K, vec![seen(k1, &[])]),
        ],
        Inject::DuplicateElements => vec![
            (p1, I, vec![W(k1, 1)]),
            (p1, K, vec![W(k1, 1)]),
            (p2, I, vec![r(k1)]),
            (p2, K, vec![seen(k1, &[1, 1])]),
        ],
        Inject::IncompatibleOrder => vec![
            (p1, I, vec![W(k1, 1)]),
            (p1, K, vec![W(k1, 1)]),
            (p2, I, vec![W(k1, 2)]),
            (p2, K, vec![W(k1, 2)]),
            (p3, I, vec![r(k1)]),
            (p3, K, vec![seen(k1, &[1, 2])]),
            (p4, I, vec![r(k1)]),
            (p4, K, vec![seen(k1, &[2, 1])]),
        ],
    };
    for (p, kind, mops) in script {
        emit(p, kind, &mops);
    }
}
