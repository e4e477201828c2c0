//! The nemesis: faults as verbs over node sets (kill, restart, pause, resume, partition, heal,
//! clock skew and strobe, link delay / bandwidth / resets / loss), seeded fault schedules from
//! `nemesis/*.toml` checked against what the run can do, heal-all at the end of a run, and fault
//! coverage. It asks the
//! [`Cluster`](crate::cluster::Cluster) to act by node id (never by pid), cuts links through the
//! `net` backend, and records each fault it starts and ends in the history as a `nemesis` op
//! (type `info`, Jepsen style: one op when a fault starts, with its plan, one when it is done).
//! It touches histories only to log its own ops.
//!
//! - [`schedule`]: [`NemesisSchedule`] parsed from TOML; [`params`]: its `[clock]` and `[link]`.
//! - `kind`: [`FaultKind`], every fault by name, with its [`requirements`].
//! - [`families`]: [`Family`], the groups of faults, and [`FamilyCycle`], the order of an
//!   `order = "families"` schedule (every family once per round).
//! - [`partition`]: [`Partition`]s as data (halves, isolate, ring, bridge).
//! - [`plan`]: the seeded, deterministic [`Planner`].
//! - [`probe`]: [`LeaderProbe`], how the nemesis learns who leads ([`StatusProbe`] for HTTP-KV).
//! - `sequences`: multi-step faults aimed at one Raft rule each (`reelect-deposed`,
//!   `election-flap`, `vote-twice`).
//! - [`Nemesis`]: the verbs (`verbs`: processes and partitions, `clocks`, `links`, `disk`: power
//!   loss, torn writes, EIO and ENOSPC through the run's lazy filesystems), the schedule
//!   loop ([`Nemesis::run`], `runloop`; `rounds` for `order = "families"`) and
//!   [`Nemesis::heal_all`].
//! - [`note`]: [`FaultNote`], the targets and roles a scheduled fault's first op records.
//! - [`coverage`]: which faults hit which roles, and availability in each fault window, computed
//!   from a history's nemesis ops.

#![warn(missing_docs)]

mod clocks;
pub mod coverage;
mod disk;
pub mod families;
mod kind;
mod links;
pub mod note;
pub mod params;
pub mod partition;
pub mod plan;
pub mod probe;
pub mod requirements;
mod rounds;
mod runloop;
pub mod schedule;
mod sequences;
mod verbs;
mod vote_twice;

pub use families::{Family, FamilyCycle};
pub use kind::FaultKind;
pub use note::{FaultNote, TargetRole};
pub use params::{ClockParams, LinkParams};
pub use partition::Partition;
pub use plan::{DiskFault, LeaderAction, Planned, PlannedFault, Planner};
pub use probe::{BoxFuture, FnLeaderProbe, LeaderProbe, NoLeaderProbe, NodeState, StatusProbe};
pub use requirements::{Capabilities, HostNeed, Missing, Requirement};
pub use schedule::{NemesisSchedule, Order, Restricted, ScheduleError, Targets, MAX_OVERLAP};
pub use verbs::{Nemesis, NemesisSummary};

use crate::net::NetError;

/// Errors that stop the nemesis. Failures of single verbs on single nodes (a node that will not
/// restart) are not errors: they are recorded in the history and reported in the summary.
#[derive(Debug, thiserror::Error)]
pub enum NemesisError {
    /// The network backend failed to cut or heal links.
    #[error("nemesis: network backend {backend}: {source}")]
    Net {
        /// Backend name.
        backend: &'static str,
        /// The backend's error.
        source: NetError,
    },
    /// Something outside the run changed what the nodes saw (a lazy filesystem unmounted from
    /// under a node), so the history says nothing about the system under test.
    #[error("nemesis: the run cannot be judged: {0}")]
    Unjudgeable(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// The runner spawns the nemesis and shares the cluster across tasks: keep these `Send`.
    #[allow(dead_code)]
    fn futures_are_send(n: Arc<Nemesis>, s: NemesisSchedule, c: Arc<crate::cluster::Cluster>) {
        fn is_send<T: Send + 'static>(_: T) {}
        fn is_sync<T: Send + Sync>() {}
        is_sync::<Nemesis>();
        is_sync::<crate::cluster::Cluster>();
        is_sync::<crate::net::ProxyBackend>();
        is_send(async move { n.run(&s, 1, std::future::pending::<()>()).await });
        is_send(async move { c.restart("n1").await });
    }
}
