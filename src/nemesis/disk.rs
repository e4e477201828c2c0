//! Disk faults as verbs over node sets, through the run's lazy filesystems ([`LazyDisks`]):
//! power loss (kill, then discard what was not fsynced), a torn last write, and EIO / ENOSPC
//! on writes until healed. A node that dies of a failed write is restarted when the fault heals.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use super::plan::DiskFault;
use super::verbs::{noted, Nemesis};
use crate::disk::{DiskMode, LazyDisks, Lost};
use crate::net::NodeId;

fn describe(id: &str, lost: Lost) -> String {
    let mut s = format!("{id}: lost {} B in {} files", lost.bytes, lost.files);
    if let Some((kept, of)) = lost.torn {
        s.push_str(&format!(", tore the last write at {kept} of {of} B"));
    }
    s
}

impl Nemesis {
    fn lazy_disks(&self) -> Result<&LazyDisks, String> {
        self.disks
            .as_deref()
            .ok_or_else(|| "no lazy filesystem is mounted for this run".to_string())
    }

    /// Power loss on `nodes`: SIGKILL each, then discard every write its filesystem holds that
    /// was never fsynced; with `tear_seed`, a seeded prefix of the last unsynced write reaches
    /// the disk. The nodes stay down (restart them with [`Nemesis::restart`]).
    pub fn lose_unfsynced(&self, nodes: &[NodeId], tear_seed: Option<u64>) {
        let f = if tear_seed.is_some() {
            DiskFault::TornWrite
        } else {
            DiskFault::LoseUnfsynced
        }
        .verb();
        let desc = noted(nodes, "");
        // The first op carries the fault's note; the second (a plain string) what was lost.
        let value = self.value_of(desc.clone());
        self.record(f, value, None);
        let mut failures = Vec::new();
        let mut notes = Vec::new();
        for (i, id) in nodes.iter().enumerate() {
            if let Err(e) = self.cluster.kill(id) {
                failures.push(e.to_string());
                continue;
            }
            if let Ok(disks) = self.lazy_disks() {
                if !disks.is_mounted(id) {
                    let why = format!(
                        "{id}: its lazy filesystem is no longer mounted (something outside this \
                         run unmounted it), so its writes since then bypassed the filesystem and \
                         a power loss would show a lost disk, not a lost write"
                    );
                    failures.push(why.clone());
                    self.make_unjudgeable(why);
                    continue;
                }
            }
            let control = match self.lazy_disks().map(|d| d.control(id)) {
                Ok(Some(c)) => c,
                Ok(None) => {
                    failures.push(format!("{id}: no lazy filesystem"));
                    continue;
                }
                Err(e) => {
                    failures.push(e);
                    continue;
                }
            };
            let lost = match tear_seed {
                None => Ok(control.lose_unfsynced()),
                Some(seed) => {
                    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(i as u64));
                    control.tear(|len| if len > 1 { rng.random_range(1..len) } else { 0 })
                }
            };
            match lost {
                Ok(l) => notes.push(describe(id, l)),
                Err(e) => failures.push(format!("{id}: cannot write the torn prefix: {e}")),
            }
        }
        let lost = Value::String(format!("{desc} {}", notes.join("; ")));
        self.done(f, lost, failures);
    }

    /// Make writes (and, for EIO, fsyncs) on `nodes`' data directories fail until
    /// [`Nemesis::disk_heal`].
    pub fn disk_fail(&self, nodes: &[NodeId], fault: DiskFault) {
        let mode = match fault {
            DiskFault::Full => DiskMode::Full,
            _ => DiskMode::Eio,
        };
        self.per_node(fault.verb(), nodes, "", |id| {
            if let Some(c) = self.lazy_disks().ok().and_then(|d| d.control(id)) {
                c.set_mode(mode);
            }
            Ok(())
        });
    }

    /// Make `nodes`' disks work again, then restart those that died of a failed write.
    pub async fn disk_heal(&self, nodes: &[NodeId]) {
        self.per_node("disk-heal", nodes, "", |id| {
            if let Some(c) = self.lazy_disks().ok().and_then(|d| d.control(id)) {
                c.set_mode(DiskMode::Healthy);
            }
            Ok(())
        });
        let dead: Vec<NodeId> = nodes
            .iter()
            .filter(|n| !self.cluster.is_running(n))
            .cloned()
            .collect();
        if !dead.is_empty() {
            self.restart(&dead).await;
        }
    }

    /// Nodes whose disk is failing right now.
    pub(super) fn failing_disks(&self) -> Vec<NodeId> {
        let Some(disks) = self.disks.as_deref() else {
            return Vec::new();
        };
        disks
            .node_ids()
            .into_iter()
            .filter(|id| {
                disks
                    .control(id)
                    .is_some_and(|c| c.mode() != DiskMode::Healthy)
            })
            .collect()
    }
}
