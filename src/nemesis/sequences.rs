//! Multi-step faults, each aimed at one Raft rule, built from the plain verbs:
//!
//! - `reelect-deposed` (rule: a follower deletes a conflicting suffix before appending): isolate
//!   the leader while clients keep writing to it, so it appends entries that never commit; let
//!   the majority elect a new leader and commit other entries at the same indices; heal so the old
//!   leader catches up; make a minority lag; then cut off the new leader together with every
//!   node that did not lag, so that the old leader (the only up-to-date node of the majority left)
//!   is elected again. A node that kept its stale suffix now serves a state that lacks
//!   acknowledged writes.
//! - `election-flap` (rule: persist the vote before answering): kill the leader, then kill and
//!   restart the other nodes one after another for the whole election that follows, so a node
//!   may vote, restart, and be asked again in the same term.
//!
//! Every step is recorded like any other verb. The leader is asked again where the sequence needs
//! it; if it is unknown the sequence stops early (the schedule's undo still heals everything).

use std::time::Duration;

use super::partition::Partition;
use super::verbs::Nemesis;
use super::NemesisError;
use crate::net::NodeId;

/// How long the deposed leader stays isolated (it keeps appending until it steps down).
const DEPOSE: Duration = Duration::from_millis(1200);
/// Time for the deposed leader to catch up after the heal.
const CATCH_UP: Duration = Duration::from_millis(300);
/// How long the lagging nodes stay cut off while the others commit.
const LAG: Duration = Duration::from_millis(400);
/// How long `election-flap` keeps flapping.
const FLAP_FOR: Duration = Duration::from_millis(2000);
/// Pause between two flaps.
const FLAP_EVERY: Duration = Duration::from_millis(150);

impl Nemesis {
    /// `reelect-deposed` with `deposed` as the leader to depose. Ends with the new leader
    /// isolated (undo: heal).
    pub(super) async fn reelect_deposed(
        &self,
        deposed: &NodeId,
        note: &str,
        ids: &[NodeId],
    ) -> Result<(), NemesisError> {
        let mut p = Partition::isolate(deposed, ids);
        p.description = format!("{} {note} (reelect-deposed: depose)", p.description);
        self.partition(&p)?;
        tokio::time::sleep(DEPOSE).await;
        self.heal()?;
        tokio::time::sleep(CATCH_UP).await;
        let Some(new) = self
            .probe
            .leader()
            .await
            .filter(|l| ids.contains(l) && l != deposed)
        else {
            return Ok(());
        };
        // Lag: at most a minority, never the deposed or the new leader.
        let minority = (ids.len() - 1) / 2;
        let lag: Vec<NodeId> = ids
            .iter()
            .filter(|n| *n != deposed && **n != new)
            .take(minority)
            .cloned()
            .collect();
        if !lag.is_empty() {
            let rest: Vec<NodeId> = ids.iter().filter(|n| !lag.contains(n)).cloned().collect();
            let mut p = Partition::groups(&[lag.clone(), rest]);
            p.description = format!("{} (reelect-deposed: lag)", p.description);
            self.partition(&p)?;
            tokio::time::sleep(LAG).await;
        }
        // Cut the new leader off, and with it every other node that did not lag (on five nodes
        // or more, the lag step's majority holds a third up-to-date node, which would win the
        // election as often as the deposed leader): the deposed leader and the lagging nodes
        // are a majority, and the deposed leader is the only one of them with the new entries.
        let mut winners: Vec<NodeId> = ids
            .iter()
            .filter(|n| *n == deposed || lag.contains(n))
            .cloned()
            .collect();
        winners.sort();
        let cut: Vec<NodeId> = ids
            .iter()
            .filter(|n| !winners.contains(n))
            .cloned()
            .collect();
        let mut p = Partition::groups(&[cut, winners]);
        p.description = format!(
            "{} (reelect-deposed: isolate new leader {new}, {deposed} should win)",
            p.description
        );
        self.partition(&p)?;
        Ok(())
    }

    /// `election-flap` with `leader` as the leader to kill. Leaves the leader dead (undo: restart
    /// every node that is down).
    pub(super) async fn election_flap(&self, leader: &NodeId, note: &str, ids: &[NodeId]) {
        self.kill_noted(
            std::slice::from_ref(leader),
            &format!("{note} (election-flap)"),
        );
        let others: Vec<NodeId> = ids.iter().filter(|n| *n != leader).cloned().collect();
        if others.is_empty() {
            return;
        }
        let start = tokio::time::Instant::now();
        let mut i = 0;
        while start.elapsed() < FLAP_FOR {
            tokio::time::sleep(FLAP_EVERY).await;
            let node = std::slice::from_ref(&others[i % others.len()]);
            self.kill_noted(node, "(election-flap)");
            self.restart(node).await;
            i += 1;
        }
    }
}
