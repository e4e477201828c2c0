//! `--test-count N` and `--keep-going`: the same plan run N times, run `i` (0-based) with seed
//! `seed + i`, so every run has a fresh seed, each is stored and rerunnable on its own
//! (`--rerun`), and `--seed S --test-count N` repeats the whole series.

use super::{flag, Plan, PlanError, PlanInput};

/// Most runs one series may ask for.
pub const MAX_TEST_COUNT: i64 = 10_000;

/// How many times to run a plan. Invariant: `count >= 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Series {
    /// Runs to make (`--test-count`, default 1).
    pub count: u32,
    /// Run all `count` runs even after an invalid one (`--keep-going`); otherwise the series
    /// stops at the first invalid run.
    pub keep_going: bool,
}

impl Series {
    /// Validate `--test-count` and `--keep-going`.
    pub fn resolve(input: &PlanInput) -> Result<Series, PlanError> {
        let count = match input.test_count {
            None => 1,
            Some(n) if (1..=MAX_TEST_COUNT).contains(&n) => n as u32,
            Some(n) => {
                return Err(flag(
                    "test-count",
                    format!("must be between 1 and {MAX_TEST_COUNT} runs, got {n}"),
                ))
            }
        };
        Ok(Series {
            count,
            keep_going: input.keep_going,
        })
    }

    /// Whether this is more than one run (the series table and per-run JUnit apply).
    pub fn is_series(&self) -> bool {
        self.count > 1
    }

    /// The seed of run `i` (0-based) of a series whose first run has `base`.
    pub fn seed(base: u64, i: u32) -> u64 {
        base.wrapping_add(u64::from(i))
    }

    /// Run `i` (0-based) of the series over `base`: the same plan with seed [`Series::seed`].
    pub fn plan(&self, base: &Plan, i: u32) -> Plan {
        let mut p = base.clone();
        p.seed = Self::seed(base.seed, i);
        p.seed_was_random = base.seed_was_random && i == 0;
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_bounded_and_named_by_their_flag() {
        let input = |n| PlanInput {
            test_count: n,
            ..Default::default()
        };
        assert_eq!(Series::resolve(&input(None)).unwrap().count, 1);
        assert!(Series::resolve(&input(Some(5))).unwrap().is_series());
        for bad in [0, -1, MAX_TEST_COUNT + 1] {
            let e = Series::resolve(&input(Some(bad))).unwrap_err().to_string();
            assert!(e.starts_with("--test-count: "), "{e}");
        }
    }

    #[test]
    fn run_i_has_seed_plus_i_and_nothing_else_changes() {
        let base = Plan::resolve(&PlanInput {
            seed: Some(40),
            ..Default::default()
        })
        .unwrap();
        let s = Series {
            count: 3,
            keep_going: false,
        };
        let seeds: Vec<u64> = (0..3).map(|i| s.plan(&base, i).seed).collect();
        assert_eq!(seeds, [40, 41, 42]);
        assert_eq!(s.plan(&base, 2).rerun_command(), {
            let mut p = base.clone();
            p.seed = 42;
            p.rerun_command()
        });
        assert_eq!(Series::seed(u64::MAX, 1), 0);
    }
}
