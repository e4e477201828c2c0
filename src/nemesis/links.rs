//! The link verbs: degrade every link to and from some nodes (`delay`, `slow`, `flaky`, `loss`,
//! see [`crate::net::LinkFault`]) and restore them (`restore-links`), through the network
//! backend.

use serde_json::Value;

use super::verbs::{failure, Nemesis};
use super::NemesisError;
use crate::net::{LinkFault, LinkFaults, NodeId};

impl Nemesis {
    fn set_link_faults(&self, faults: LinkFaults) -> Result<(), NemesisError> {
        self.net
            .set_link_faults(&faults)
            .map_err(|source| NemesisError::Net {
                backend: self.net.name(),
                source,
            })?;
        *self.degraded.lock().unwrap_or_else(|e| e.into_inner()) = faults;
        Ok(())
    }

    /// Degrade every link to and from `nodes` with `fault`; `seed` feeds the backend's random
    /// draws. Replaces whatever links were degraded before.
    pub fn degrade_links(
        &self,
        nodes: &[NodeId],
        fault: LinkFault,
        seed: u64,
    ) -> Result<(), NemesisError> {
        let f = fault.name();
        let value = self.value_of(format!("[{}] {}", nodes.join(" "), fault.describe()));
        self.record(f, value.clone(), None);
        let all = self.cluster.node_ids();
        let res = self.set_link_faults(LinkFaults::around(nodes, &all, fault, seed));
        self.done(f, value, failure(&res));
        res
    }

    /// Restore every degraded link.
    pub fn restore_links(&self) -> Result<(), NemesisError> {
        let value = Value::String("all links".into());
        self.record("restore-links", value.clone(), None);
        let res = self.set_link_faults(LinkFaults::none());
        self.done("restore-links", value, failure(&res));
        res
    }

    /// heal-all's part: restore links if any are degraded (recorded), else make sure the
    /// backend agrees that none are (not recorded).
    pub(super) fn restore_links_if_degraded(&self) -> Result<(), NemesisError> {
        let degraded = !self
            .degraded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty();
        if degraded {
            self.restore_links()
        } else {
            self.set_link_faults(LinkFaults::none())
        }
    }
}
