//! What a fault needs from the run ([`Requirement`]), what this run has ([`Capabilities`],
//! gathered once by the runner before anything starts), and the verdict of checking one against
//! the other ([`Missing`]: what is missing and how to get it).
//!
//! A fault module with a check of its own (root plus `/dev/fuse` plus a package, say) plugs in
//! through [`Requirement::Check`]: `FaultKind::X => &[Requirement::Check(module::requirements)]`.

use std::fmt;
use std::path::PathBuf;

/// Facts about this run that faults depend on. Gathered before the run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The effective uid, 0 for root.
    pub euid: u32,
    /// Whether `/dev/fuse` exists.
    pub dev_fuse: bool,
    /// libfaketime's path, or why it cannot be used (naming the package to install).
    pub libfaketime: Result<PathBuf, String>,
    /// The network backend's name (`proxy`, `netns`).
    pub net: &'static str,
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
    /// `/dev/fuse` exists.
    DevFuse,
    /// libfaketime is installed (Debian `libfaketime`) and usable.
    Libfaketime,
    /// Knowing who leads (the leader-targeted faults).
    LeaderProbe,
    /// Each node's role and term (faults that steer elections).
    NodeStatus,
    /// This network backend (`proxy` or `netns`).
    Net(&'static str),
    /// A check supplied by the fault's own module, called as is (e.g. a filesystem's).
    Check(fn() -> Result<(), Missing>),
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
                "/dev/fuse",
                "install fuse3 and run where /dev/fuse exists (containers need --device /dev/fuse)",
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
                match *want {
                    "netns" => "run with --net netns (needs root, ip and nft)".to_string(),
                    other => format!("run with --net {other}"),
                },
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
        fn custom() -> Result<(), Missing> {
            Err(Missing::new("a lazy filesystem", "install fuse3"))
        }
        assert_eq!(
            Requirement::Check(custom).check(&c).unwrap_err().what,
            "a lazy filesystem"
        );
    }
}
