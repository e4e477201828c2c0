//! The tokio driver of one node: feeds ticks, peer messages and client requests into the pure
//! [`Core`], then handles each [`Ready`] in the order Raft needs: persist (one fsync for the whole
//! batch, i.e. group commit), send, apply, answer. All requests that arrive while an fsync runs are
//! batched into the next round.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, oneshot, watch};

use super::bugs::Bug;
use super::config::NodeConfig;
use super::core::{Config, Core, Ready, Role};
use super::kv::{Applied, Kv};
use super::lease::Lease;
use super::request::{Op, Reply, Request};
use super::storage::{FileStorage, MemStorage, Storage, StorageError};
use super::transport::{self, Transport};
use super::types::{Command, Message, Snapshot};
use crate::protocol::StatusBody;

/// Ticks are this long; election and heartbeat timeouts are whole numbers of ticks.
const TICK_MS: u64 = 10;
/// Most messages or requests taken per round before the Ready is processed.
const BATCH: usize = 4096;

/// Why a node stopped.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Storage failed; continuing could break durability promises.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// A listen address could not be bound.
    #[error("cannot listen on {addr} ({flag}): {source}; pick a free port")]
    Bind {
        /// The address.
        addr: String,
        /// The flag that gave it.
        flag: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// A snapshot could not be decoded or the state machine could not be encoded into one.
    #[error("snapshot at index {index}: {reason}")]
    Snapshot {
        /// Its index.
        index: u64,
        /// Decode error.
        reason: String,
    },
}

/// A pending client read.
struct WaitingRead {
    key: String,
    reply: oneshot::Sender<Reply>,
}

/// The driver's state.
struct Driver {
    core: Core,
    storage: Box<dyn Storage>,
    kv: Kv,
    transport: Transport,
    cfg: NodeConfig,
    /// Proposals waiting for their entry to apply: index → (term, reply).
    writes: HashMap<u64, (u64, oneshot::Sender<Reply>)>,
    /// Reads waiting for ReadIndex confirmation, by ctx.
    reads: HashMap<u64, WaitingRead>,
    /// Confirmed reads waiting for the state machine to reach their index.
    confirmed: Vec<(u64, WaitingRead)>,
    next_ctx: u64,
    applied: u64,
    role: Role,
    status: watch::Sender<StatusBody>,
    /// Bug `lease-read` only: when each heartbeat round started, by this node's clock.
    lease: Lease,
}

/// Open storage, bind both listeners, start the HTTP API and run the node until a fatal error.
pub async fn run(cfg: NodeConfig) -> Result<(), NodeError> {
    let mut storage: Box<dyn Storage> = if cfg.bugs.has(Bug::MemoryLog) {
        // Bug `memory-log`: the data dir is ignored.
        Box::new(MemStorage::default())
    } else if cfg.bugs.has(Bug::NoFsync) {
        // Bug `no-fsync`: acknowledged writes are only in the page cache.
        Box::new(FileStorage::open_without_fsync(&cfg.data_dir)?)
    } else {
        Box::new(FileStorage::open(&cfg.data_dir)?)
    };
    let rec = storage.recover()?;
    let kv = Kv::restore(&rec.snapshot.data).map_err(|e| NodeError::Snapshot {
        index: rec.snapshot.index,
        reason: format!("not valid JSON: {e}"),
    })?;
    tracing::info!(
        term = rec.hard_state.term,
        snapshot = rec.snapshot.index,
        entries = rec.entries.len(),
        "recovered"
    );
    let applied = rec.snapshot.index;
    let core_cfg = Config {
        id: cfg.id.clone(),
        peers: cfg.peers.keys().cloned().collect(),
        client_addr: cfg.client_addr.clone(),
        election_ticks: (cfg.election_ms / TICK_MS).max(2) as u32,
        heartbeat_ticks: (cfg.heartbeat_ms / TICK_MS).max(1) as u32,
        pre_vote: cfg.pre_vote,
        check_quorum: true,
        max_batch: 512,
        seed: rand::random(),
        bugs: cfg.bugs.clone(),
    };
    let core = Core::new(core_cfg, rec.hard_state, rec.snapshot, rec.entries);

    let (in_tx, mut in_rx) = mpsc::channel::<Message>(16384);
    transport::listen(&cfg.peer_addr, in_tx)
        .await
        .map_err(|source| NodeError::Bind {
            addr: cfg.peer_addr.clone(),
            flag: "--peer-addr",
            source,
        })?;
    let (req_tx, mut req_rx) = mpsc::channel::<Request>(16384);
    let (status_tx, status_rx) = watch::channel(status_of(&cfg.id, &core));
    let listener = tokio::net::TcpListener::bind(&cfg.client_addr)
        .await
        .map_err(|source| NodeError::Bind {
            addr: cfg.client_addr.clone(),
            flag: "--client-addr",
            source,
        })?;
    let timeout = Duration::from_millis((cfg.election_ms * 10).max(2000));
    tokio::spawn(super::http::serve(listener, req_tx, status_rx, timeout));

    let cfg_election_ms = cfg.election_ms;
    let mut d = Driver {
        core,
        storage,
        kv,
        transport: Transport::start(&cfg.peers),
        cfg,
        writes: HashMap::new(),
        reads: HashMap::new(),
        confirmed: Vec::new(),
        next_ctx: 0,
        applied,
        role: Role::Follower,
        status: status_tx,
        lease: Lease::new(Duration::from_millis(cfg_election_ms / 2)),
    };
    let mut ticker = tokio::time::interval(Duration::from_millis(TICK_MS));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let woke = SystemTime::now();
        tokio::select! {
            _ = ticker.tick() => {
                if d.cfg.bugs.has(Bug::LeaseRead) {
                    let held = d.lease.holds(d.core.lease_round(), woke);
                    d.core.set_lease_held(held);
                }
                d.core.tick()
            }
            Some(m) = in_rx.recv() => d.core.step(m),
            Some(r) = req_rx.recv() => d.request(r),
        }
        for _ in 0..BATCH {
            match in_rx.try_recv() {
                Ok(m) => d.core.step(m),
                Err(_) => break,
            }
        }
        for _ in 0..BATCH {
            match req_rx.try_recv() {
                Ok(r) => d.request(r),
                Err(_) => break,
            }
        }
        while d.core.has_ready() {
            let rd = d.core.ready();
            d.handle_ready(rd)?;
        }
        if d.cfg.bugs.has(Bug::LeaseRead) {
            // Rounds started in this pass left no earlier than this pass began (a round is
            // started by tick or ready(), never before the wake-up).
            d.lease.note_round(d.core.read_round(), woke);
        }
        // Check-quorum can depose the leader without anything to persist or send.
        d.on_role_change();
        d.status.send_if_modified(|s| {
            let now = status_of(&d.cfg.id, &d.core);
            let changed = *s != now;
            *s = now;
            changed
        });
    }
}

fn status_of(id: &str, core: &Core) -> StatusBody {
    let s = core.soft_state();
    StatusBody {
        id: id.to_string(),
        role: s.role,
        term: s.term,
        leader: s.leader,
        leader_addr: s.leader_addr,
        commit_index: s.commit,
        applied_index: s.applied,
    }
}

impl Driver {
    fn not_leader(&self) -> Reply {
        Reply::NotLeader(self.core.soft_state().leader_addr)
    }

    /// Take one client request into the core (or answer it right away).
    fn request(&mut self, r: Request) {
        let role = self.core.soft_state().role;
        let cmd = match r.op {
            Op::Read { key } => {
                // Bug `stale-read`: any node answers from local state.
                // Bug `stale-leader`: the leader answers from local state without a quorum.
                // Bug `lease-read`: the leader answers from local state while its lease holds.
                let local = self.cfg.bugs.has(Bug::StaleRead)
                    || (role == Role::Leader && self.cfg.bugs.has(Bug::StaleLeader))
                    || (role == Role::Leader
                        && self.cfg.bugs.has(Bug::LeaseRead)
                        && self.lease.holds(self.core.lease_round(), SystemTime::now()));
                if local {
                    let _ = r.reply.send(Reply::Ok(self.kv.get(&key)));
                    return;
                }
                let ctx = self.next_ctx;
                self.next_ctx += 1;
                match self.core.read_index(ctx) {
                    Ok(()) => {
                        self.reads.insert(
                            ctx,
                            WaitingRead {
                                key,
                                reply: r.reply,
                            },
                        );
                    }
                    Err(_) => {
                        let _ = r.reply.send(self.not_leader());
                    }
                }
                return;
            }
            Op::Put { key, value } => Command::Put { key, value },
            Op::Cas { key, from, to } => {
                if self.cfg.bugs.has(Bug::SplitCas) && role == Role::Leader {
                    // Bug `split-cas`: decided now, against possibly stale applied state.
                    let current = self.kv.get(&key);
                    if current != from {
                        let _ = r.reply.send(Reply::CasMismatch(current));
                        return;
                    }
                    Command::Put { key, value: to }
                } else {
                    Command::Cas { key, from, to }
                }
            }
        };
        match self.core.propose(cmd) {
            Ok((index, term)) => {
                self.writes.insert(index, (term, r.reply));
            }
            Err(_) => {
                let _ = r.reply.send(self.not_leader());
            }
        }
    }

    /// Persist, send, apply, answer — in that order.
    fn handle_ready(&mut self, rd: Ready) -> Result<(), NodeError> {
        let Ready {
            hard_state,
            snapshot,
            entries,
            messages,
            committed,
            reads,
        } = rd;
        let storage = &mut self.storage;
        tokio::task::block_in_place(|| -> Result<(), StorageError> {
            if let Some(hs) = &hard_state {
                storage.set_hard_state(hs)?;
            }
            if let Some(snap) = &snapshot {
                storage.set_snapshot(snap)?;
            }
            storage.append(&entries)?;
            storage.sync()
        })?;
        for m in messages {
            self.transport.send(m);
        }
        if let Some(snap) = snapshot {
            self.kv = Kv::restore(&snap.data).map_err(|e| NodeError::Snapshot {
                index: snap.index,
                reason: format!("not valid JSON: {e}"),
            })?;
            self.applied = snap.index;
        }
        for e in committed {
            let result = self.kv.apply(&e.cmd);
            self.applied = e.index;
            if let Some((term, reply)) = self.writes.remove(&e.index) {
                let answer = match (term == e.term, result, &e.cmd) {
                    (false, ..) => Reply::Unknown("entry was replaced by another leader".into()),
                    (true, Applied::CasMismatch(v), _) => Reply::CasMismatch(v),
                    (true, Applied::Done, Command::Put { value, .. }) => Reply::Ok(value.clone()),
                    (true, Applied::Done, Command::Cas { to, .. }) => Reply::Ok(to.clone()),
                    (true, Applied::Done, Command::Noop) => Reply::Ok(serde_json::Value::Null),
                };
                let _ = reply.send(answer);
            }
        }
        for rs in reads {
            if let Some(w) = self.reads.remove(&rs.ctx) {
                self.confirmed.push((rs.index, w));
            }
        }
        let applied = self.applied;
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.confirmed)
            .into_iter()
            .partition(|(index, _)| *index <= applied);
        self.confirmed = waiting;
        for (_, w) in ready {
            let _ = w.reply.send(Reply::Ok(self.kv.get(&w.key)));
        }
        self.on_role_change();
        self.maybe_snapshot()
    }

    /// A deposed leader cannot know whether its uncommitted entries will commit: answer 504.
    fn on_role_change(&mut self) {
        let role = self.core.soft_state().role;
        if self.role == Role::Leader && role != Role::Leader {
            for (_, (_, reply)) in self.writes.drain() {
                let _ = reply.send(Reply::Unknown("lost leadership before commit".into()));
            }
            let hint = self.not_leader();
            for (_, w) in self.reads.drain() {
                let _ = w.reply.send(hint.clone());
            }
        }
        self.role = role;
    }

    /// Snapshot the applied state and compact the log once it grew past the threshold (§7).
    fn maybe_snapshot(&mut self) -> Result<(), NodeError> {
        let since = self.applied.saturating_sub(self.core.snapshot_index());
        if self.cfg.snapshot_threshold == 0 || since < self.cfg.snapshot_threshold {
            return Ok(());
        }
        let Some(term) = self.core.term_at(self.applied) else {
            return Ok(());
        };
        let data = self.kv.snapshot().map_err(|e| NodeError::Snapshot {
            index: self.applied,
            reason: format!("cannot encode the state machine: {e}"),
        })?;
        let snap = Snapshot {
            index: self.applied,
            term,
            data,
        };
        tracing::info!(index = snap.index, "taking snapshot");
        let storage = &mut self.storage;
        tokio::task::block_in_place(|| storage.set_snapshot(&snap))?;
        self.core.compact(snap);
        Ok(())
    }
}
