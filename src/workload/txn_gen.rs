//! The transaction generator, shared by every worker (as Jepsen's is): a seeded stream of
//! transactions over a pool of `keys` live keys. Each micro-op picks a live key and reads or
//! writes it; a key that took `max_writes_per_key` writes is retired and a fresh key takes its
//! slot, so lists (and the checker's work per read) stay short. Values written are unique per
//! key (1, 2, 3, ... in generation order), which lets the checker name the writer of every
//! value it sees.
//!
//! Shared so that uniqueness and rotation hold across workers; the sequence of transactions is
//! fixed by the seed, which worker takes which depends on timing (as in Jepsen).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::spec::{KeyDistribution, TxnKind, TxnShape, WorkloadSpec};
use crate::client::Request;
use crate::protocol::MicroOp;

/// Most keys one final-read transaction reads.
pub const FINAL_READ_CHUNK: usize = 32;

/// Generates the transactions of a run.
#[derive(Debug, Clone)]
pub struct TxnGenerator {
    rng: ChaCha8Rng,
    shape: TxnShape,
    /// Key number live in each slot.
    live: Vec<u64>,
    /// Writes generated for each slot's live key. Invariant: `< max_writes_per_key`.
    writes: Vec<u32>,
    /// The number the next fresh key gets.
    next_key: u64,
    /// Cumulative slot weights (zipf); empty for uniform.
    slot_cdf: Vec<f64>,
    /// Weight of reads; of writes.
    mix: [u32; 2],
}

/// The name of key number `n`.
fn key_name(n: u64) -> String {
    format!("k{n}")
}

impl TxnGenerator {
    /// The generator for `spec` (a transaction workload of `shape`) under `seed`.
    pub fn new(spec: &WorkloadSpec, shape: TxnShape, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Stream 0 is the nemesis schedule's; workers of single-key workloads use 1..=n.
        rng.set_stream(u64::MAX);
        let n = spec.keys.max(1) as usize;
        let slot_cdf = match spec.key_distribution {
            KeyDistribution::Uniform => Vec::new(),
            KeyDistribution::Zipf => {
                let mut acc = 0.0;
                (0..n)
                    .map(|i| {
                        acc += 1.0 / ((i + 1) as f64).powf(spec.zipf_exponent);
                        acc
                    })
                    .collect()
            }
            KeyDistribution::HotCold => hot_cold_cdf(spec, n),
        };
        TxnGenerator {
            rng,
            shape,
            live: (0..n as u64).collect(),
            writes: vec![0; n],
            next_key: n as u64,
            slot_cdf,
            mix: [spec.mix.read, spec.mix.write],
        }
    }

    fn slot(&mut self) -> usize {
        match self.slot_cdf.last() {
            None => self.rng.random_range(0..self.live.len()),
            Some(total) => {
                let x = self.rng.random::<f64>() * total;
                self.slot_cdf
                    .partition_point(|c| *c <= x)
                    .min(self.live.len() - 1)
            }
        }
    }

    fn micro_op(&mut self) -> MicroOp {
        let slot = self.slot();
        let key = key_name(self.live[slot]);
        let read = self.rng.random_range(0..self.mix[0] + self.mix[1]) < self.mix[0];
        if read {
            return MicroOp::Read {
                key,
                value: Value::Null,
            };
        }
        self.writes[slot] += 1;
        let value = json!(self.writes[slot]);
        if self.writes[slot] >= self.shape.max_writes_per_key {
            self.live[slot] = self.next_key;
            self.next_key += 1;
            self.writes[slot] = 0;
        }
        match self.shape.kind {
            TxnKind::ListAppend => MicroOp::Append { key, value },
            TxnKind::RwRegister => MicroOp::Write { key, value },
        }
    }

    /// The next transaction.
    pub fn next_request(&mut self) -> Request {
        let [lo, hi] = self.shape.length;
        let n = self.rng.random_range(lo..=hi.max(lo));
        Request::Txn {
            ops: (0..n).map(|_| self.micro_op()).collect(),
        }
    }

    /// The keys live now, in slot order.
    pub fn live_keys(&self) -> Vec<String> {
        self.live.iter().map(|n| key_name(*n)).collect()
    }
}

/// Read-only transactions that read each of `keys` once, at most [`FINAL_READ_CHUNK`] keys each.
pub fn final_read_txns(keys: &[String]) -> Vec<Request> {
    keys.chunks(FINAL_READ_CHUNK)
        .map(|chunk| Request::Txn {
            ops: chunk
                .iter()
                .map(|k| MicroOp::Read {
                    key: k.clone(),
                    value: Value::Null,
                })
                .collect(),
        })
        .collect()
}

/// Cumulative slot weights of a `hot-cold` distribution: the first `hot_keys` slots share
/// `hot_share` of the transactions' keys, the other slots the rest.
fn hot_cold_cdf(spec: &WorkloadSpec, n: usize) -> Vec<f64> {
    let hot = (spec.hot_keys.unwrap_or(1) as usize).clamp(1, n);
    let share = spec.hot_share.unwrap_or(0.5);
    let cold = n - hot;
    let mut acc = 0.0;
    (0..n)
        .map(|i| {
            acc += if i < hot {
                share / hot as f64
            } else {
                (1.0 - share) / cold.max(1) as f64
            };
            acc
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::WorkloadKind;
    use std::collections::{HashMap, HashSet};

    fn generator(text: &str, seed: u64) -> TxnGenerator {
        let spec = WorkloadSpec::parse(text, "t.toml").unwrap();
        let WorkloadKind::Txn(shape) = spec.kind().unwrap() else {
            panic!("transactions")
        };
        TxnGenerator::new(&spec, shape, seed)
    }

    const APPEND: &str = "name='t'\nmodel='list-append'\nkeys=3\ntxn_length=[1,4]\nmax_writes_per_key=5\n[mix]\nread=1\nwrite=1\n";

    #[test]
    fn values_are_unique_per_key_and_keys_retire_after_their_writes() {
        let mut g = generator(APPEND, 7);
        let mut seen: HashMap<String, HashSet<Value>> = HashMap::new();
        let mut lengths = HashSet::new();
        for _ in 0..500 {
            let Request::Txn { ops } = g.next_request() else {
                panic!("a transaction")
            };
            lengths.insert(ops.len());
            for op in ops {
                if let MicroOp::Append { key, value } = op {
                    assert!(
                        seen.entry(key.clone()).or_default().insert(value.clone()),
                        "{key} got {value} twice"
                    );
                } else {
                    assert!(matches!(op, MicroOp::Read { .. }));
                }
            }
        }
        assert_eq!(lengths, HashSet::from([1, 2, 3, 4]));
        // Every retired key took exactly max_writes_per_key appends; there were many.
        assert!(seen.len() > 20, "{}", seen.len());
        let live: HashSet<String> = g.live_keys().into_iter().collect();
        for (key, values) in &seen {
            assert!(values.len() <= 5);
            if !live.contains(key) {
                assert_eq!(values.len(), 5, "{key}");
            }
        }
    }

    #[test]
    fn the_seed_fixes_the_sequence_and_registers_get_writes() {
        let rw = APPEND.replace("list-append", "rw-register");
        let run = |seed| {
            let mut g = generator(&rw, seed);
            (0..30).map(|_| g.next_request()).collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
        assert!(run(3).iter().any(|r| matches!(
            r,
            Request::Txn { ops } if ops.iter().any(|o| matches!(o, MicroOp::Write { .. }))
        )));
    }

    #[test]
    fn final_reads_cover_every_key_in_chunks() {
        let keys: Vec<String> = (0..70).map(key_name).collect();
        let txns = final_read_txns(&keys);
        assert_eq!(txns.len(), 3);
        let read: Vec<String> = txns
            .iter()
            .flat_map(|t| match t {
                Request::Txn { ops } => ops.iter().map(|o| o.key().to_string()).collect(),
                _ => vec![],
            })
            .collect();
        assert_eq!(read, keys);
    }
}
