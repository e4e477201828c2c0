//! Before anything starts: what this machine, the nodes' hosts and the plan's network backend
//! can do ([`Capabilities`]), the schedule cut down to it (an explicitly asked fault the run
//! cannot do stops the run here; optional ones are left out and recorded), and whether the nodes
//! must start under libfaketime, with a warning when their binary cannot be reached by a preload.

use std::path::PathBuf;

use crate::clock::{self, elf};
use crate::cluster::ClientKind;
use crate::history::{Op, OpType, Process, Recorder};
use crate::host::{LocalHost, SshHost};
use crate::nemesis::coverage::{LEFT_OUT, WARNING};
use crate::nemesis::{Capabilities, FaultKind, Missing, NemesisSchedule, ScheduleError};
use crate::plan::Plan;

/// How the nodes' clocks are controlled, when the schedule moves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockSetup {
    /// libfaketime, to preload.
    pub lib: PathBuf,
    /// Whether CLOCK_MONOTONIC moves too.
    pub monotonic: bool,
}

/// The outcome of the checks.
#[derive(Debug, Clone)]
pub struct Preflight {
    /// The schedule to run (only faults this run can do).
    pub schedule: NemesisSchedule,
    /// Optional faults left out, with what is missing.
    pub left_out: Vec<(FaultKind, Missing)>,
    /// Set when a fault moves clocks.
    pub clock: Option<ClockSetup>,
    /// Things the user should know (e.g. clock faults that cannot reach the node binary).
    pub warnings: Vec<String>,
}

/// What this process and plan offer faults.
pub fn capabilities(plan: &Plan) -> Capabilities {
    Capabilities {
        euid: nix::unistd::geteuid().as_raw(),
        dev_fuse: crate::disk::dev_fuse().is_ok(),
        libfaketime: clock::libfaketime::locate(),
        net: plan.net.name(),
        // With --hosts every node runs on an SSH host.
        hosts: if plan.hosts.is_some() {
            SshHost::FAULTS
        } else {
            LocalHost::FAULTS
        },
        // Both client protocols can say who leads (HTTP-KV /status, etcd's status call).
        leader_probe: true,
        node_status: plan.cluster.client == ClientKind::HttpKv,
    }
}

/// Check `plan` against `caps`.
pub fn check(plan: &Plan, caps: &Capabilities) -> Result<Preflight, ScheduleError> {
    let restricted = plan.nemesis.restrict(caps)?;
    let schedule = restricted.schedule;
    let mut warnings = Vec::new();
    let clock = match (
        &caps.libfaketime,
        schedule.faults.iter().any(|f| f.moves_clocks()),
    ) {
        (Ok(lib), true) => {
            if let Ok(program) = plan.cluster.resolve_command() {
                match elf::linkage(&program) {
                    Ok(l) => warnings.extend(l.warning(&program)),
                    Err(e) => tracing::debug!("cannot read {}: {e}", program.display()),
                }
            }
            Some(ClockSetup {
                lib: lib.clone(),
                monotonic: schedule.clock.monotonic,
            })
        }
        _ => None,
    };
    Ok(Preflight {
        schedule,
        left_out: restricted.left_out,
        clock,
        warnings,
    })
}

impl Preflight {
    /// Record what was left out and the warnings as nemesis ops, before the first fault, so the
    /// history (and coverage computed from it) says so.
    pub fn record(&self, recorder: &Recorder) {
        let op = |f: &str, value: serde_json::Value| Op {
            index: 0,
            time: None,
            process: Process::Nemesis,
            kind: OpType::Info,
            f: f.to_string(),
            key: None,
            value,
            node: None,
            error: None,
        };
        if !self.left_out.is_empty() {
            let why: serde_json::Map<String, serde_json::Value> = self
                .left_out
                .iter()
                .map(|(k, m)| (k.name().to_string(), m.to_string().into()))
                .collect();
            recorder.record(op(LEFT_OUT, why.into()));
        }
        for w in &self.warnings {
            recorder.record(op(WARNING, w.clone().into()));
        }
    }
}
