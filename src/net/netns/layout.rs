//! Names and addresses of one run's namespaces. Pure functions: no I/O, so the naming rules that
//! stale-run cleanup relies on are unit-tested here.
//!
//! Every name a run creates starts with `fl-<run id>-` where the run id is six lowercase hex
//! digits: `fl-1a2b3c-br` (the bridge namespace), `fl-1a2b3c-n1` (node 1's namespace) and
//! `fl-1a2b3c-h` (the controller's veth in the root namespace). Interface names must fit in 15
//! bytes (IFNAMSIZ - 1); the longest one that lives in the root namespace is 11 bytes.

use std::net::Ipv4Addr;

use crate::net::NodeId;

/// Prefix of every namespace and root-namespace link a run creates.
pub const PREFIX: &str = "fl-";

/// Number of hex digits in a run id.
pub const RUN_ID_LEN: usize = 6;

/// Most nodes one layout can address (host octets 1..=200; .254 is the controller).
pub const MAX_NODES: usize = 200;

/// First octet pair of the private range used inside the run's namespaces (`10.77.<subnet>.0/24`).
pub const NET_PREFIX: [u8; 2] = [10, 77];

/// Name of the bridge inside the bridge namespace (namespaced, so it never clashes).
pub const BRIDGE: &str = "br0";

/// Name of each node's interface inside its own namespace.
pub const NODE_IF: &str = "eth0";

/// Name of the bridge-namespace end of the controller's veth.
pub const HOST_PORT: &str = "vhost";

/// One node's place in the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSlot {
    /// The node id from the cluster spec.
    pub id: NodeId,
    /// The node's namespace (`fl-<rid>-n<k>`, k = 1-based position).
    pub namespace: String,
    /// The bridge port (in the bridge namespace) the node's veth is plugged into.
    pub bridge_port: String,
    /// The node's address on the run's subnet.
    pub ip: Ipv4Addr,
}

/// The complete naming and addressing of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Six hex digits identifying the run.
    pub run_id: String,
    /// Third octet of the run's `/24` (`10.77.<subnet>.0/24`).
    pub subnet: u8,
    /// One slot per node, in node order.
    pub nodes: Vec<NodeSlot>,
}

impl Layout {
    /// Lay out `nodes` for run `run_id` on subnet `10.77.<subnet>.0/24`.
    /// Callers check `nodes.len() <= MAX_NODES` first.
    pub fn new(run_id: &str, subnet: u8, nodes: &[NodeId]) -> Layout {
        let nodes = nodes
            .iter()
            .enumerate()
            .map(|(i, id)| NodeSlot {
                id: id.clone(),
                namespace: format!("{PREFIX}{run_id}-n{}", i + 1),
                bridge_port: format!("v{}", i + 1),
                ip: subnet_ip(subnet, (i + 1) as u8),
            })
            .collect();
        Layout {
            run_id: run_id.to_string(),
            subnet,
            nodes,
        }
    }

    /// The bridge namespace (`fl-<rid>-br`).
    pub fn bridge_namespace(&self) -> String {
        format!("{PREFIX}{}-br", self.run_id)
    }

    /// The controller's veth in the root namespace (`fl-<rid>-h`).
    pub fn host_link(&self) -> String {
        host_link_name(&self.run_id)
    }

    /// The controller's address on the run's subnet (`.254`).
    pub fn host_ip(&self) -> Ipv4Addr {
        subnet_ip(self.subnet, 254)
    }

    /// Every namespace of the run: the bridge namespace first, then the nodes'.
    pub fn namespaces(&self) -> Vec<String> {
        let mut all = vec![self.bridge_namespace()];
        all.extend(self.nodes.iter().map(|n| n.namespace.clone()));
        all
    }

    /// The slot of node `id`.
    pub fn node(&self, id: &str) -> Option<&NodeSlot> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

/// The root-namespace link name of run `run_id`.
pub fn host_link_name(run_id: &str) -> String {
    format!("{PREFIX}{run_id}-h")
}

/// `10.77.<subnet>.<host>`.
pub fn subnet_ip(subnet: u8, host: u8) -> Ipv4Addr {
    Ipv4Addr::new(NET_PREFIX[0], NET_PREFIX[1], subnet, host)
}

/// Whether `s` is a well-formed run id (six lowercase hex digits).
pub fn is_run_id(s: &str) -> bool {
    s.len() == RUN_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// If `name` is a namespace or link this backend names (`fl-<rid>-br`, `fl-<rid>-n<k>`,
/// `fl-<rid>-h`), return its run id. Anything else — including other tools' `fl-` names — is
/// `None`, so cleanup never touches it.
pub fn owner_run_id(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(PREFIX)?;
    let (rid, suffix) = rest.split_at_checked(RUN_ID_LEN)?;
    let suffix = suffix.strip_prefix('-')?;
    let ours = suffix == "br"
        || suffix == "h"
        || suffix
            .strip_prefix('n')
            .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()));
    (is_run_id(rid) && ours).then_some(rid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<NodeId> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn names_carry_the_run_id_and_fit_interface_limits() {
        let l = Layout::new("0a1b2c", 9, &ids(MAX_NODES));
        assert_eq!(l.bridge_namespace(), "fl-0a1b2c-br");
        assert_eq!(l.host_link(), "fl-0a1b2c-h");
        assert!(l.host_link().len() <= 15);
        assert_eq!(l.nodes[0].namespace, "fl-0a1b2c-n1");
        assert_eq!(l.nodes[199].ip, Ipv4Addr::new(10, 77, 9, 200));
        assert_eq!(l.host_ip(), Ipv4Addr::new(10, 77, 9, 254));
        assert!(l.nodes.iter().all(|n| n.bridge_port.len() <= 15));
        assert_eq!(l.namespaces().len(), MAX_NODES + 1);
    }

    #[test]
    fn recognises_only_its_own_names() {
        assert_eq!(owner_run_id("fl-0a1b2c-br"), Some("0a1b2c"));
        assert_eq!(owner_run_id("fl-0a1b2c-n12"), Some("0a1b2c"));
        assert_eq!(owner_run_id("fl-0a1b2c-h"), Some("0a1b2c"));
        for other in [
            "fl-0a1b2c-n",
            "fl-0a1b2c-x1",
            "fl-0A1B2C-br",
            "fl-0a1b2-br",
            "fl-0a1b2c",
            "fl-",
            "eth0",
            "fl-0a1b2c-n1x",
            "fl-ééé-br",
        ] {
            assert_eq!(owner_run_id(other), None, "{other}");
        }
    }
}
