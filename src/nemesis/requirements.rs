//! What a fault needs from the run ([`Requirement`]), what this run has ([`Capabilities`],
//! gathered once by the runner before anything starts), and the verdict of checking one against
//! the other ([`Missing`]: what is missing and how to get it). This is the one place that decides
//! whether a run can do a fault: the controller (root, `/dev/fuse`, libfaketime), the hosts the
//! nodes run on ([`HostFaults`]) and the network backend.
//!
//! A fault module with a check of its own (root plus `/dev/fuse` plus a package, say) plugs in
//! through [`Requirement::Check`]: `FaultKind::X => &[Requirement::Check(module::requirements)]`.

use std::fmt;
use std::path::PathBuf;

use crate::host::HostFaults;

/// Facts about this run that faults depend on. Gathered before the run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The effective uid, 0 for root.
    pub euid: u32,
    /// Whether `/dev/fuse` can be opened for reading and writing (mounting needs it).
    pub dev_fuse: bool,
    /// libfaketime's path, or why it cannot be used (naming the package to install).
    pub libfaketime: Result<PathBuf, String>,
    /// The network backend's name (`proxy`, `netns`, `hosts`).
    pub net: &'static str,
    /// What the hosts of every node can take (all of it for local nodes; SSH hosts take no
    /// clock or disk faults).
    pub hosts: HostFaults,
    /// Whether the client protocol can say which node leads.
    pub leader_probe: bool,
    /// Whether the client protocol reports each node's role and term (HTTP-KV `GET /status`).
    pub node_status: bool,
}

/// One thing a fault needs.
#[derive(Debug, Clone, Copy)]
pub enum Requirement {
    /// Running as root.
    Root,
    /// `/dev/fuse` can be opened for reading and writing.
    DevFuse,
    /// libfaketime is installed (Debian `libfaketime`) and usable.
    Libfaketime,
    /// Knowing who leads (the leader-targeted faults).
    LeaderProbe,
    /// Each node's role and term (faults that steer elections).
    NodeStatus,
    /// This network backend (`proxy` or `netns`).
    Net(&'static str),
    /// Hosts whose nodes can take this kind of fault.
    Host(HostNeed),
    /// A check supplied by the fault's own module, called as is (e.g. a filesystem's).
    Check(fn() -> Result<(), Missing>),
}

/// What a fault needs from the hosts its nodes run on (a field of [`HostFaults`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostNeed {
    /// Signals to node processes (kill, restart, pause, resume).
    Process,
    /// Cutting links between nodes.
    Partition,
    /// Moving node clocks (a libfaketime preload and its control file).
    Clock,
    /// A lazy filesystem under the nodes' data directories.
    Disk,
}

impl HostNeed {
    fn met_by(self, f: &HostFaults) -> bool {
        match self {
            HostNeed::Process => f.process,
            HostNeed::Partition => f.partition,
            HostNeed::Clock => f.clock,
            HostNeed::Disk => f.disk,
        }
    }

    fn name(self) -> &'static str {
        match self {
            HostNeed::Process => "process",
            HostNeed::Partition => "partition",
            HostNeed::Clock => "clock",
            HostNeed::Disk => "disk",
        }
    }
}

/// A requirement the run does not meet: what is missing and how to get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// What is missing, e.g. `libfaketime (Debian package libfaketime)`.
    pub what: String,
    /// What to do about it, e.g. `apt-get install libfaketime`.
    pub fix: String,
}

impl Missing {
    /// A missing `what`, fixed by `fix`.
    pub fn new(what: impl Into<String>, fix: impl Into<String>) -> Missing {
        Missing {
            what: what.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "needs {}: {}", self.what, self.fix)
    }
}

impl Requirement {
    /// Whether `caps` meets this requirement.
    pub fn check(&self, caps: &Capabilities) -> Result<(), Missing> {
        match self {
            Requirement::Root if caps.euid != 0 => Err(Missing::new(
                "root",
                format!("this process runs as uid {}; run as root", caps.euid),
            )),
            Requirement::DevFuse if !caps.dev_fuse => Err(Missing::new(
                "a usable /dev/fuse",
                "install fuse3 and load the fuse module (modprobe fuse); containers need \
                 --device /dev/fuse",
            )),
            Requirement::Libfaketime => match &caps.libfaketime {
                Ok(_) => Ok(()),
                Err(why) => Err(Missing::new(
                    "libfaketime (Debian package libfaketime)",
                    why.clone(),
                )),
            },
            Requirement::LeaderProbe if !caps.leader_probe => Err(Missing::new(
                "a leader probe",
                "the cluster's client protocol cannot tell which node leads",
            )),
            Requirement::NodeStatus if !caps.node_status => Err(Missing::new(
                "each node's role and term",
                "only HTTP-KV nodes report them (GET /status); this cluster's client does not",
            )),
            Requirement::Net(want) if *want != caps.net => Err(Missing::new(
                format!("the {want} network backend"),
                match (*want, caps.net) {
                    (_, "hosts") => format!(
                        "nodes on SSH hosts (--hosts) have their links cut by nftables on each \
                         host, which neither delays nor drops packets at random; run the nodes \
                         locally with --net {want}"
                    ),
                    ("netns", _) => "run with --net netns (needs root, ip and nft)".to_string(),
                    (other, _) => format!("run with --net {other}"),
                },
            )),
            Requirement::Host(need) if !need.met_by(&caps.hosts) => Err(Missing::new(
                format!("nodes whose hosts take {} faults", need.name()),
                "SSH hosts (--hosts) take kill, pause and partitions; clock and disk faults act \
                 on local nodes only (a libfaketime preload, a FUSE mount): run without --hosts",
            )),
            Requirement::Check(check) => check(),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps() -> Capabilities {
        Capabilities {
            euid: 1000,
            dev_fuse: false,
            libfaketime: Err("not found in /usr/lib; apt-get install libfaketime".into()),
            net: "proxy",
            hosts: crate::host::LocalHost::FAULTS,
            leader_probe: true,
            node_status: false,
        }
    }

    #[test]
    fn missing_requirements_say_what_and_how() {
        let c = caps();
        let e = Requirement::Libfaketime.check(&c).unwrap_err();
        assert_eq!(
            e.to_string(),
            "needs libfaketime (Debian package libfaketime): not found in /usr/lib; apt-get install libfaketime"
        );
        assert!(Requirement::Root
            .check(&c)
            .unwrap_err()
            .fix
            .contains("uid 1000"));
        assert!(Requirement::Net("netns")
            .check(&c)
            .unwrap_err()
            .fix
            .contains("--net netns"));
        assert!(Requirement::Net("proxy").check(&c).is_ok());
        assert!(Requirement::LeaderProbe.check(&c).is_ok());
        assert!(Requirement::NodeStatus.check(&c).is_err());
        assert!(Requirement::DevFuse.check(&c).is_err());
        assert!(Requirement::Host(HostNeed::Disk).check(&c).is_ok());
        let ssh = Capabilities {
            net: "hosts",
            hosts: crate::host::SshHost::FAULTS,
            ..caps()
        };
        let e = Requirement::Host(HostNeed::Clock).check(&ssh).unwrap_err();
        assert_eq!(e.what, "nodes whose hosts take clock faults");
        assert!(e.fix.contains("run without --hosts"), "{e}");
        assert!(Requirement::Host(HostNeed::Partition).check(&ssh).is_ok());
        let e = Requirement::Net("netns").check(&ssh).unwrap_err();
        assert!(
            e.fix.contains("--hosts") && e.fix.contains("--net netns"),
            "{e}"
        );
        fn custom() -> Result<(), Missing> {
            Err(Missing::new("a lazy filesystem", "install fuse3"))
        }
        assert_eq!(
            Requirement::Check(custom).check(&c).unwrap_err().what,
            "a lazy filesystem"
        );
    }
}
