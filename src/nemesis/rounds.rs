//! The loop of an `order = "families"` schedule: faults in [`FamilyCycle`] order, shortened when
//! the run has a time limit so that a round (every family once) fits in what is left of it, and
//! with `overlap > 1` several at once, as long as no two hold the same resource.
//!
//! A fault the run turns out not to be able to do is dropped the first time that shows and
//! recorded as left out, like the optional faults preflight leaves out: today `vote-twice` once a
//! node is seen as a pre-candidate (with pre-vote, two candidates never share a term).
//!
//! With `overlap > 1`, every scheduled fault's note carries an `id`, and a `fault-end` op with
//! that id follows its undo, so coverage can tell overlapping windows apart.

use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::coverage::{FAMILIES, FAULT_END, LEFT_OUT};
use super::families::FamilyCycle;
use super::kind::FaultKind;
use super::plan::Planner;
use super::runloop::Undo;
use super::schedule::NemesisSchedule;
use super::verbs::Nemesis;
use super::NemesisError;

/// The shortest a fault is made when a round must fit in the time left.
const MIN_DURATION: Duration = Duration::from_millis(800);
/// The shortest quiet time before a fault when a round must fit in the time left.
const MIN_INTERVAL: Duration = Duration::from_millis(200);

/// What a fault holds while it lasts; two faults holding the same never overlap.
mod hold {
    pub const PROCESSES: u8 = 1;
    pub const NETWORK: u8 = 2;
    pub const CLOCKS: u8 = 4;
    pub const LINKS: u8 = 8;
    pub const DISKS: u8 = 16;
    /// Whole-cluster and multi-step faults: alone.
    pub const EVERYTHING: u8 = u8::MAX;
}

/// What `kind` holds while it lasts.
fn holds(kind: FaultKind) -> u8 {
    use FaultKind::*;
    match kind {
        Kill | KillMajority | Pause | KillLeader | PauseLeader => hold::PROCESSES,
        PartitionHalves | PartitionOne | PartitionRing | Bridge | PartitionLeader => hold::NETWORK,
        ClockSkew | ClockStrobe => hold::CLOCKS,
        SkewIsolateLeader => hold::CLOCKS | hold::NETWORK,
        Delay | Slow | Flaky => hold::LINKS,
        // netns loss rules live next to the partition rules.
        Loss => hold::LINKS | hold::NETWORK,
        // A failing disk can make its node exit; the heal restarts it.
        DiskError | DiskFull => hold::DISKS | hold::PROCESSES,
        KillAll | LoseUnfsynced | TornWrite | ReelectDeposed | VoteTwice | ElectionFlap => {
            hold::EVERYTHING
        }
    }
}

/// About how long a multi-step fault's steps take before its `duration` starts (the sequences'
/// own waits), so that a round's budget leaves room for them.
fn steps_take(kind: FaultKind) -> Duration {
    match kind {
        FaultKind::ReelectDeposed | FaultKind::ElectionFlap => Duration::from_secs(2),
        FaultKind::VoteTwice => Duration::from_millis(1500),
        _ => Duration::ZERO,
    }
}

/// How [`Nemesis::end`] came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The fault was undone.
    Undone,
    /// `stop` completed first.
    Stopped,
}

/// A fault that has started and not yet been undone.
struct Active {
    holds: u8,
    ends: Instant,
    undo: Undo,
    id: Option<u64>,
    kind: FaultKind,
}

/// How long the next fault waits and lasts: the schedule's values, shortened so that the
/// `left` families of this round fit in `remaining` (with `overlap` faults at a time).
pub(super) fn fit(
    schedule: &NemesisSchedule,
    remaining: Option<Duration>,
    left: usize,
) -> (Duration, Duration) {
    let Some(remaining) = remaining else {
        return (schedule.interval, schedule.duration);
    };
    let slot = remaining.mul_f64(f64::from(schedule.overlap)) / (left.max(1) as u32);
    let interval = schedule
        .interval
        .min(slot / 4)
        .max(MIN_INTERVAL.min(schedule.interval));
    let duration = schedule
        .duration
        .min(slot.saturating_sub(interval))
        .max(MIN_DURATION.min(schedule.duration));
    (interval, duration)
}

impl Nemesis {
    /// Run a families schedule until `stop` (or `max_faults` faults); returns how many faults
    /// started. The caller heals everything afterwards.
    pub(super) async fn run_families(
        &self,
        schedule: &NemesisSchedule,
        seed: u64,
        deadline: Option<Instant>,
        max_faults: Option<usize>,
        stop: &mut (impl std::future::Future<Output = ()> + Unpin),
    ) -> Result<usize, NemesisError> {
        let mut planner = Planner::new(schedule, &self.cluster.node_ids(), seed);
        let mut cycle = FamilyCycle::new(&schedule.faults, seed);
        self.record_families(&cycle);
        let overlap = schedule.overlap.max(1) as usize;
        // The time left, less what the multi-step faults still due this round spend on their
        // steps before their `duration` starts.
        let remaining = |cycle: &FamilyCycle| {
            deadline.map(|d| {
                let steps: Duration = cycle.upcoming().into_iter().map(steps_take).sum();
                d.saturating_duration_since(Instant::now())
                    .saturating_sub(steps)
            })
        };
        let mut active: Vec<Active> = Vec::new();
        let mut pending: Option<FaultKind> = None;
        let mut faults = 0;
        let mut next_start =
            Instant::now() + fit(schedule, remaining(&cycle), cycle.left_in_round()).0;
        let far = || Instant::now() + Duration::from_secs(86_400);
        loop {
            let first_end = active.iter().map(|a| a.ends).min();
            tokio::select! {
                _ = &mut *stop => return Ok(faults),
                _ = tokio::time::sleep_until(first_end.unwrap_or_else(far)), if first_end.is_some() => {
                    let i = active
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, a)| a.ends)
                        .map_or(0, |(i, _)| i);
                    let done = active.swap_remove(i);
                    if self.end(done, stop).await? == Ended::Stopped {
                        // `stop` has completed and must not be polled again.
                        return Ok(faults);
                    }
                    if pending.is_some() {
                        let left = cycle.left_in_round() + 1;
                        next_start = Instant::now() + fit(schedule, remaining(&cycle), left).0;
                    }
                    continue;
                }
                _ = tokio::time::sleep_until(next_start) => {}
            }
            let limit_reached = max_faults.is_some_and(|m| faults >= m);
            let Some(kind) = pending
                .take()
                .or_else(|| (!limit_reached).then(|| cycle.next_kind()).flatten())
            else {
                next_start = far();
                continue;
            };
            if let Some(why) = self.cannot_do(kind) {
                self.record(LEFT_OUT, json!({ kind.name(): why }), None);
                cycle.drop_kind(kind);
                next_start = Instant::now();
                continue;
            }
            let held = active.iter().fold(0, |h, a| h | a.holds);
            if active.len() >= overlap || held & holds(kind) != 0 {
                // Wait for a fault to end; its end sets the next start.
                pending = Some(kind);
                next_start = far();
                continue;
            }
            let left = cycle.left_in_round() + 1;
            let (interval, duration) = fit(
                schedule,
                remaining(&cycle).map(|r| r.saturating_sub(steps_take(kind))),
                left,
            );
            let Some(planned) = planner.plan(kind) else {
                next_start = far();
                continue;
            };
            faults += 1;
            let id = (overlap > 1).then_some(faults as u64);
            let undo = tokio::select! {
                _ = &mut *stop => return Ok(faults),
                undo = async {
                    let ids = self.cluster.node_ids();
                    let leader = self.probe.leader().await.filter(|l| ids.contains(l));
                    self.start(&planned, leader, id).await
                } => undo?,
            };
            let now = Instant::now();
            // A fault that found out the run cannot do it (vote-twice under pre-vote) stopped
            // early: undo it now, and never draw it again.
            let ends = match self.cannot_do(kind) {
                Some(why) => {
                    self.record(LEFT_OUT, json!({ kind.name(): why }), None);
                    cycle.drop_kind(kind);
                    now
                }
                None => now + duration,
            };
            active.push(Active {
                holds: holds(kind),
                ends,
                undo,
                id,
                kind,
            });
            next_start = now + interval;
        }
    }

    /// Undo `done` (and say so when faults overlap); stops early on `stop`, since the caller
    /// heals everything then anyway, and says so: a completed `stop` must not be polled again.
    async fn end(
        &self,
        done: Active,
        stop: &mut (impl std::future::Future<Output = ()> + Unpin),
    ) -> Result<Ended, NemesisError> {
        tokio::select! {
            _ = &mut *stop => return Ok(Ended::Stopped),
            r = self.undo(done.undo) => r?,
        }
        if let Some(id) = done.id {
            self.record(
                FAULT_END,
                json!({ "ends": id, "fault": done.kind.name() }),
                None,
            );
        }
        Ok(Ended::Undone)
    }

    /// Record the families the schedule will visit and their faults, in order.
    fn record_families(&self, cycle: &FamilyCycle) {
        let families: serde_json::Map<String, serde_json::Value> = cycle
            .families()
            .into_iter()
            .map(|(f, kinds)| {
                let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
                (f.name().to_string(), json!(names))
            })
            .collect();
        self.record(FAMILIES, families.into(), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn schedule(text: &str) -> NemesisSchedule {
        NemesisSchedule::parse(text, Path::new("d.toml")).unwrap()
    }

    #[test]
    fn faults_are_shortened_so_a_round_fits_the_time_left() {
        let s =
            schedule("name='d'\norder='families'\nfaults=['kill']\ninterval='1s'\nduration='3s'\n");
        // No time limit: the schedule's values.
        assert_eq!(
            fit(&s, None, 9),
            (Duration::from_secs(1), Duration::from_secs(3))
        );
        // Plenty of time: the schedule's values.
        assert_eq!(
            fit(&s, Some(Duration::from_secs(60)), 5),
            (Duration::from_secs(1), Duration::from_secs(3))
        );
        // 30 s for 9 families: 3.33 s each, a quarter of it quiet.
        let (i, d) = fit(&s, Some(Duration::from_secs(30)), 9);
        assert!(i < Duration::from_secs(1) && i >= MIN_INTERVAL, "{i:?}");
        assert!((i + d).as_secs_f64() <= 30.0 / 9.0 + 1e-6, "{i:?} {d:?}");
        // Almost no time: never below the minimum.
        assert_eq!(
            fit(&s, Some(Duration::from_millis(100)), 9),
            (MIN_INTERVAL, MIN_DURATION)
        );
        // Two at a time: twice the room per fault.
        let two = schedule(
            "name='d'\norder='families'\noverlap=2\nfaults=['kill']\ninterval='1s'\nduration='3s'\n",
        );
        assert!(fit(&two, Some(Duration::from_secs(30)), 9).1 > d);
    }

    #[test]
    fn whole_cluster_and_multi_step_faults_hold_everything() {
        for (k, _) in FaultKind::ALL {
            let h = holds(k);
            assert_ne!(h, 0, "{k} holds nothing");
            if matches!(
                k,
                FaultKind::KillAll
                    | FaultKind::LoseUnfsynced
                    | FaultKind::TornWrite
                    | FaultKind::ReelectDeposed
                    | FaultKind::VoteTwice
                    | FaultKind::ElectionFlap
            ) {
                assert_eq!(h, hold::EVERYTHING);
            }
        }
        assert_eq!(
            holds(FaultKind::Kill) & holds(FaultKind::PartitionHalves),
            0
        );
        assert_ne!(
            holds(FaultKind::PartitionLeader) & holds(FaultKind::Bridge),
            0
        );
    }
}
