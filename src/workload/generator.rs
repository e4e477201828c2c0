//! Seeded op generators: one per worker, each a ChaCha8 stream derived from the plan seed, so a
//! seed reproduces every worker's sequence of draws.
//!
//! On the cold keys of a `hot-cold` workload, values come from `cold_values` (a wide range, so a
//! lost or stale write is told apart from every other), and a CAS starts from the value this
//! worker last saw on that key (read-modify-write, [`OpGenerator::observe`]), so it often
//! succeeds although values rarely repeat. The draws are the same whatever was observed.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::spec::{KeyDistribution, WorkloadSpec};
use crate::client::{Completion, Request};
use crate::history::OpType;

/// How a generator draws keys (from the workload's [`KeyDistribution`]).
#[derive(Debug, Clone)]
enum KeyPick {
    /// Every key equally likely.
    Uniform,
    /// Cumulative key weights (last element = total).
    Weighted(Vec<f64>),
    /// With probability `share`, one of the first `hot` keys; otherwise one of the others.
    /// Invariant: `1 <= hot < keys.len()`.
    HotCold { hot: usize, share: f64 },
}

/// Generates the requests of one worker.
#[derive(Debug, Clone)]
pub struct OpGenerator {
    rng: ChaCha8Rng,
    keys: Vec<String>,
    /// How the next key is drawn.
    pick: KeyPick,
    values: [i64; 2],
    /// Values of the cold keys (hot-cold only; otherwise `values`).
    cold_values: [i64; 2],
    /// Cold keys (by index): the value this worker last saw each hold.
    seen: HashMap<usize, Value>,
    /// The key index of the last request, which [`OpGenerator::observe`] is about.
    last: Option<usize>,
    /// Cumulative op weights: read, read+write, read+write+cas.
    mix: [u32; 3],
}

impl OpGenerator {
    /// The generator for `worker` under `seed` (distinct workers get independent streams).
    pub fn new(spec: &WorkloadSpec, seed: u64, worker: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Stream 0 is left to other seeded consumers (e.g. the nemesis schedule).
        rng.set_stream(worker + 1);
        let keys = spec.key_names();
        let pick = match (spec.key_distribution, spec.hot_keys, spec.hot_share) {
            (KeyDistribution::Zipf, ..) => {
                let mut acc = 0.0;
                KeyPick::Weighted(
                    (0..keys.len())
                        .map(|i| {
                            acc += 1.0 / ((i + 1) as f64).powf(spec.zipf_exponent);
                            acc
                        })
                        .collect(),
                )
            }
            (KeyDistribution::HotCold, Some(hot), Some(share))
                if (hot as usize) < keys.len() && hot > 0 =>
            {
                KeyPick::HotCold {
                    hot: hot as usize,
                    share,
                }
            }
            // A spec that skipped validation: fall back to every key alike.
            _ => KeyPick::Uniform,
        };
        let m = spec.mix;
        OpGenerator {
            rng,
            keys,
            pick,
            values: spec.value_range(),
            cold_values: spec.cold_values.unwrap_or(spec.value_range()),
            seen: HashMap::new(),
            last: None,
            mix: [m.read, m.read + m.write, m.read + m.write + m.cas],
        }
    }

    fn is_cold(&self, i: usize) -> bool {
        matches!(self.pick, KeyPick::HotCold { hot, .. } if i >= hot)
    }

    fn key_index(&mut self) -> usize {
        let n = self.keys.len();
        let i = match &self.pick {
            KeyPick::Uniform => self.rng.random_range(0..n),
            KeyPick::Weighted(cdf) => {
                let total = cdf.last().copied().unwrap_or(0.0);
                let x = self.rng.random::<f64>() * total;
                cdf.partition_point(|c| *c <= x).min(n - 1)
            }
            KeyPick::HotCold { hot, share } => {
                if self.rng.random::<f64>() < *share {
                    self.rng.random_range(0..*hot)
                } else {
                    self.rng.random_range(*hot..n)
                }
            }
        };
        i
    }

    fn value(&mut self, i: usize) -> Value {
        let [lo, hi] = if self.is_cold(i) {
            self.cold_values
        } else {
            self.values
        };
        json!(self.rng.random_range(lo..=hi))
    }

    /// The next request.
    pub fn next_request(&mut self) -> Request {
        let pick = self.rng.random_range(0..self.mix[2]);
        let i = self.key_index();
        self.last = Some(i);
        let key = self.keys[i].clone();
        if pick < self.mix[0] {
            Request::Read { key }
        } else if pick < self.mix[1] {
            Request::Write {
                key,
                value: self.value(i),
            }
        } else {
            let drawn = self.value(i);
            let to = self.value(i);
            let from = match self.seen.get(&i) {
                Some(v) if self.is_cold(i) => v.clone(),
                _ => drawn,
            };
            Request::Cas { key, from, to }
        }
    }

    /// How the last request ended: on a cold key, remember the value it now holds as far as
    /// this worker knows (an ok read's result, an ok write's or CAS's new value), and forget it
    /// when the outcome is unknown or a CAS found another value.
    pub fn observe(&mut self, req: &Request, c: &Completion) {
        let Some(i) = self.last.take().filter(|i| self.is_cold(*i)) else {
            return;
        };
        let now = match (req, c.kind) {
            (Request::Read { .. }, OpType::Ok) => Some(c.value.clone()),
            (Request::Write { value, .. }, OpType::Ok) => Some(value.clone()),
            (Request::Cas { to, .. }, OpType::Ok) => Some(to.clone()),
            (Request::Read { .. } | Request::Write { .. }, OpType::Fail) => return,
            _ => None,
        };
        match now {
            Some(v) => self.seen.insert(i, v),
            None => self.seen.remove(&i),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> WorkloadSpec {
        WorkloadSpec::parse(text, "t.toml").unwrap()
    }

    #[test]
    fn same_seed_same_requests_different_workers_differ() {
        let s = spec("name='x'\nmodel='kv'\nkeys=8\n[mix]\nread=1\nwrite=1\ncas=1\n");
        let run = |seed, w| {
            let mut g = OpGenerator::new(&s, seed, w);
            (0..50).map(|_| g.next_request()).collect::<Vec<_>>()
        };
        assert_eq!(run(7, 0), run(7, 0));
        assert_ne!(run(7, 0), run(7, 1));
        assert_ne!(run(7, 0), run(8, 0));
    }

    #[test]
    fn mix_weights_are_respected() {
        let s = spec("name='x'\nmodel='register'\nvalues=[1,1]\n[mix]\nread=0\nwrite=1\n");
        let mut g = OpGenerator::new(&s, 1, 0);
        for _ in 0..100 {
            let r = g.next_request();
            assert_eq!(
                r,
                Request::Write {
                    key: "k0".into(),
                    value: json!(1)
                }
            );
        }
    }

    #[test]
    fn zipf_makes_the_first_key_hottest() {
        let s = spec("name='x'\nmodel='kv'\nkeys=10\nkey_distribution='zipf'\n[mix]\nread=1\n");
        let mut g = OpGenerator::new(&s, 3, 0);
        let mut counts = [0u32; 10];
        for _ in 0..5000 {
            if let Request::Read { key } = g.next_request() {
                let i: usize = key[1..].parse().unwrap();
                counts[i] += 1;
            }
        }
        assert!(counts[0] > 2 * counts[4], "{counts:?}");
        assert!(counts.iter().all(|c| *c > 0), "{counts:?}");
    }

    fn ok(value: Value) -> Completion {
        Completion {
            kind: OpType::Ok,
            value,
            node: None,
            error: None,
        }
    }

    /// Cold keys take wide values and CAS from what this worker saw last; hot keys keep the
    /// small range; what a worker observes never changes what it draws.
    #[test]
    fn cold_keys_use_their_range_and_cas_from_the_last_value_seen() {
        let s = spec(
            "name='x'\nmodel='kv'\nkeys=3\nkey_distribution='hot-cold'\nhot_keys=1\nhot_share=0.5\nvalues=[0,2]\ncold_values=[100,1000000]\n[mix]\nread=1\nwrite=1\ncas=1\n",
        );
        let mut watched = OpGenerator::new(&s, 4, 0);
        let mut blind = OpGenerator::new(&s, 4, 0);
        let mut cas_from_seen = 0;
        for _ in 0..3000 {
            let req = watched.next_request();
            let same = blind.next_request();
            let (key, v) = match &req {
                Request::Read { key } => (key, None),
                Request::Write { key, value } => (key, Some(value)),
                Request::Cas { key, to, .. } => (key, Some(to)),
                Request::Txn { .. } => panic!("a single-key generator made a transaction"),
            };
            let cold = key != "k0";
            if let Some(v) = v.and_then(Value::as_i64) {
                assert_eq!(cold, v >= 100, "{req:?}");
            }
            match (&req, &same) {
                (Request::Cas { from, .. }, Request::Cas { from: drawn, .. }) if cold => {
                    if from != drawn {
                        cas_from_seen += 1;
                        assert_eq!(from, &json!(7), "{req:?}");
                    }
                }
                _ => assert_eq!(req, same),
            }
            // Every cold read answers 7, so a cold CAS after one starts from 7.
            let c = match &req {
                Request::Read { .. } => ok(json!(7)),
                _ => Completion {
                    kind: OpType::Info,
                    ..ok(Value::Null)
                },
            };
            watched.observe(&req, &c);
        }
        assert!(cas_from_seen > 50, "{cas_from_seen}");
    }

    #[test]
    fn hot_cold_sends_the_hot_share_to_the_hot_keys_and_reaches_every_cold_one() {
        let s = spec(
            "name='x'\nmodel='kv'\nkeys=50\nkey_distribution='hot-cold'\nhot_keys=2\nhot_share=0.6\n[mix]\nread=1\n",
        );
        let mut g = OpGenerator::new(&s, 9, 3);
        let mut counts = [0u32; 50];
        let draws = 20_000;
        for _ in 0..draws {
            let Request::Read { key } = g.next_request() else {
                panic!("only reads")
            };
            counts[key[1..].parse::<usize>().unwrap()] += 1;
        }
        let hot = f64::from(counts[0] + counts[1]) / f64::from(draws);
        assert!((0.57..0.63).contains(&hot), "hot share {hot}");
        // Each hot key gets about half the hot share, each cold key about 0.4 / 48.
        assert!(counts[0].abs_diff(counts[1]) < 600, "{counts:?}");
        let cold = &counts[2..];
        assert!(cold.iter().all(|c| (90..250).contains(c)), "{cold:?}");
    }
}
