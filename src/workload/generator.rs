//! Seeded op generators: one per worker, each a ChaCha8 stream derived from the plan seed, so a
//! seed reproduces every worker's sequence of requests.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::spec::{KeyDistribution, WorkloadSpec};
use crate::client::Request;

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
            values: spec.values,
            mix: [m.read, m.read + m.write, m.read + m.write + m.cas],
        }
    }

    fn key(&mut self) -> String {
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
        self.keys[i].clone()
    }

    fn value(&mut self) -> Value {
        json!(self.rng.random_range(self.values[0]..=self.values[1]))
    }

    /// The next request.
    pub fn next_request(&mut self) -> Request {
        let pick = self.rng.random_range(0..self.mix[2]);
        let key = self.key();
        if pick < self.mix[0] {
            Request::Read { key }
        } else if pick < self.mix[1] {
            Request::Write {
                key,
                value: self.value(),
            }
        } else {
            Request::Cas {
                key,
                from: self.value(),
                to: self.value(),
            }
        }
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
