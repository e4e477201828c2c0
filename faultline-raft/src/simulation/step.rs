//! One step of one node and the handling of its `Ready`, as the tokio driver does it: persist,
//! send, apply, serve reads, maybe compact. A crash can strike while persisting: then a prefix of
//! the writes reaches the disk and nothing is sent. The checker sees every step.

use rand::Rng;

use super::check::Violation;
use super::node::ConfirmedRead;
use super::world::{Action, World};
use crate::core::{Core, Ready, Role};
use crate::kv::Kv;
use crate::log::after_snapshot;
use crate::storage::{Storage, StorageError};
use crate::types::{Body, Snapshot};

type Stepped = Result<(), Violation>;

impl World {
    /// Feed one input to node `i`, check what changed, and usually handle its `Ready` at once
    /// (sometimes inputs batch up first, as they do in the driver).
    pub(super) fn act(&mut self, i: usize, action: Action) -> Stepped {
        if let (true, Action::Deliver(m)) = (self.tracing(), &action) {
            let what = format!(
                "{} -> n{} term {}: {}",
                m.from,
                i + 1,
                m.term,
                describe(&m.body)
            );
            self.note(|| what);
        }
        let Some(core) = self.nodes[i].core.as_mut() else {
            return Ok(());
        };
        self.stats.steps += 1;
        match action {
            Action::Tick => core.tick(),
            Action::Deliver(m) => core.step(m),
            Action::Propose(cmd) => {
                if let Ok((index, term)) = core.propose(cmd.clone()) {
                    self.clients.writes.insert((i, index), term);
                    self.note(|| format!("n{} proposes {cmd:?} at {index} term {term}", i + 1));
                }
            }
            Action::Read(ctx) => {
                if core.read_index(ctx).is_ok() {
                    let floor = self.clients.acked.max(self.clients.served);
                    self.clients.reads.insert(ctx, floor);
                }
            }
        }
        self.observe(i)?;
        if self.rng.random_bool(0.7) {
            self.flush(i)?;
        }
        Ok(())
    }

    /// Check what the last step changed on node `i`: a new leader, a higher commit index.
    fn observe(&mut self, i: usize) -> Stepped {
        let node = &mut self.nodes[i];
        let Some(core) = node.core.as_ref() else {
            return Ok(());
        };
        let (role, term, commit) = (core.role(), core.term(), core.commit());
        let new_leader =
            role == Role::Leader && (node.seen_role != Role::Leader || node.seen_term != term);
        node.seen_role = role;
        node.seen_term = term;
        if role == Role::Leader {
            self.check.leader(i, term)?;
        }
        if new_leader {
            self.check.leader_holds_committed(i, core)?;
        }
        let from = node.seen_commit;
        let fresh = if commit > from {
            node.seen_commit = commit;
            self.check.commit(i, core, from, commit)?
        } else {
            Vec::new()
        };
        // Leader Completeness also binds leaders elected before an entry was seen committed.
        if let Some(&(_, lowest)) = fresh.iter().min_by_key(|(_, t)| *t) {
            for (j, other) in self.nodes.iter().enumerate() {
                let Some(c) = other.core.as_ref() else {
                    continue;
                };
                if c.role() == Role::Leader && c.term() > lowest {
                    self.check.leader_holds_committed(j, c)?;
                }
            }
        }
        if let (Some(first), Some(last)) = (fresh.first(), fresh.last()) {
            let (lo, hi) = (first.0, last.0);
            self.note(|| format!("n{} commits {lo}..={hi}", i + 1));
        }
        if new_leader {
            self.stats.elections += 1;
            self.note(|| format!("n{} leads term {term}", i + 1));
        }
        Ok(())
    }

    /// Handle every `Ready` node `i` has.
    pub(super) fn flush(&mut self, i: usize) -> Stepped {
        while let Some(rd) = self.nodes[i]
            .core
            .as_mut()
            .filter(|c| c.has_ready())
            .map(Core::ready)
        {
            self.handle_ready(i, rd)?;
        }
        Ok(())
    }

    fn handle_ready(&mut self, i: usize, rd: Ready) -> Stepped {
        if let Some(first) = rd.entries.first() {
            let prev = self.nodes[i]
                .core
                .as_ref()
                .and_then(|c| c.term_at(first.index - 1));
            let Some(prev) = prev else {
                return Err(self.violation(format!(
                    "n{} asked to persist entry {} without knowing the term before it",
                    i + 1,
                    first.index
                )));
            };
            self.check.appended(i, &rd.entries, prev)?;
        }
        if !self.persist(i, &rd)? {
            return Ok(());
        }
        let Ready {
            messages,
            snapshot,
            committed,
            reads,
            ..
        } = rd;
        self.net.send(&mut self.rng, &self.k, self.now, messages);
        let node = &mut self.nodes[i];
        if let Some(snap) = snapshot {
            node.kv = Kv::restore(&snap.data).map_err(|e| {
                self.check
                    .fail_now(format!("snapshot does not decode: {e}"))
            })?;
            node.applied = snap.index;
            let kv = node.kv.clone();
            self.check.state(i, snap.index, &kv)?;
        }
        let node = &mut self.nodes[i];
        for e in committed {
            self.check.apply(i, &e)?;
            node.kv.apply(&e.cmd);
            node.applied = e.index;
            if self.clients.writes.remove(&(i, e.index)) == Some(e.term) {
                self.clients.acked = self.clients.acked.max(e.index);
                self.stats.acked += 1;
            }
        }
        for rs in reads {
            if let Some(floor) = self.clients.reads.remove(&rs.ctx) {
                node.reads.push(ConfirmedRead {
                    index: rs.index,
                    floor,
                });
            }
        }
        for floor in node.ready_reads() {
            self.check.read(i, node.applied, floor)?;
            self.clients.served = self.clients.served.max(node.applied);
            self.stats.reads += 1;
        }
        self.compact(i)
    }

    /// Persist the `Ready`'s hard state, snapshot and entries in that order, unless a crash
    /// strikes first; false if the node crashed (after some prefix, maybe all, of the writes).
    fn persist(&mut self, i: usize, rd: &Ready) -> Result<bool, Violation> {
        let ops = usize::from(rd.hard_state.is_some())
            + usize::from(rd.snapshot.is_some())
            + rd.entries.len();
        let crash_at = self
            .rng
            .random_bool(self.k.crash_in_ready)
            .then(|| self.rng.random_range(0..=ops));
        let mut done = 0;
        let round = self.now;
        let disk_err = |e: StorageError| storage_violation(round, e);
        let node = &mut self.nodes[i];
        if let Some(hs) = &rd.hard_state {
            if crash_at == Some(done) {
                return self.torn(i);
            }
            node.disk.set_hard_state(hs).map_err(disk_err)?;
            done += 1;
        }
        if let Some(snap) = &rd.snapshot {
            if crash_at == Some(done) {
                return self.torn(i);
            }
            let stored = node.disk_from(0);
            let kept = after_snapshot(stored.clone(), snap);
            let gone: Vec<_> = stored
                .into_iter()
                .filter(|e| e.index > snap.index)
                .collect();
            self.check.drops(i, &gone, &kept)?;
            self.stats.installs += 1;
            self.stats.kept_suffix += u64::from(!kept.is_empty());
            node.disk.set_snapshot(snap).map_err(disk_err)?;
            done += 1;
        }
        if let Some(first) = rd.entries.first() {
            let dropped = node.disk_from(first.index);
            self.stats.truncations += u64::from(!dropped.is_empty());
            self.check.drops(i, &dropped, &rd.entries)?;
            for e in &rd.entries {
                if crash_at == Some(done) {
                    return self.torn(i);
                }
                node.disk
                    .append(std::slice::from_ref(e))
                    .map_err(disk_err)?;
                done += 1;
            }
        }
        if crash_at == Some(done) {
            // Everything is durable, but the crash comes before anything is sent.
            return self.torn(i);
        }
        Ok(true)
    }

    fn torn(&mut self, i: usize) -> Result<bool, Violation> {
        self.stats.torn_readies += 1;
        self.crash(i, "while persisting a Ready");
        Ok(false)
    }

    /// Snapshot the state machine and compact, as the driver does past its threshold.
    fn compact(&mut self, i: usize) -> Stepped {
        let every = self.k.snapshot_every;
        let node = &mut self.nodes[i];
        let Some(core) = node.core.as_mut() else {
            return Ok(());
        };
        if every == 0 || node.applied < core.snapshot_index() + every {
            return Ok(());
        }
        let Some(term) = core.term_at(node.applied) else {
            return Ok(());
        };
        let data = node.kv.snapshot().map_err(|e| {
            self.check
                .fail_now(format!("state machine does not encode: {e}"))
        })?;
        let snap = Snapshot {
            index: node.applied,
            term,
            data,
        };
        let stored = node.disk.state().entries.clone();
        let kept = after_snapshot(stored.clone(), &snap);
        let gone: Vec<_> = stored
            .into_iter()
            .filter(|e| e.index > snap.index)
            .collect();
        self.check.drops(i, &gone, &kept)?;
        let round = self.now;
        node.disk
            .set_snapshot(&snap)
            .map_err(|e| storage_violation(round, e))?;
        core.compact(snap);
        self.stats.snapshots += 1;
        let (index, kv) = (node.applied, node.kv.clone());
        self.check.state(i, index, &kv)
    }
}

/// `MemStorage` never fails; if it did, the run could not go on.
fn storage_violation(round: u64, e: StorageError) -> Violation {
    Violation {
        round,
        what: format!("storage: {e}"),
    }
}

/// A short description of a message, for the trace.
fn describe(body: &Body) -> String {
    match body {
        Body::RequestVote {
            pre,
            last_index,
            last_term,
        } => {
            format!("RequestVote pre={pre} last={last_index}/{last_term}")
        }
        Body::VoteResponse { pre, granted } => format!("VoteResponse pre={pre} granted={granted}"),
        Body::Append {
            prev_index,
            prev_term,
            entries,
            commit,
            ..
        } => format!(
            "Append prev={prev_index}/{prev_term} entries={} commit={commit}",
            entries.len()
        ),
        Body::AppendResponse {
            success,
            match_index,
            reject_index,
            ..
        } => format!("AppendResponse ok={success} match={match_index} reject={reject_index}"),
        Body::InstallSnapshot { snapshot, .. } => {
            format!("InstallSnapshot {}/{}", snapshot.index, snapshot.term)
        }
    }
}
