//! The configuration-set walk (Knossos `linear`): walk the history once, keeping every reachable
//! configuration (model state + which open calls are already linearized + crashed usage).
//!
//! At each `ok` return of call k, the configurations are expanded by linearizing open calls and
//! available crashed calls until k is linearized; configurations that cannot linearize k die. If
//! none survives, k is the first `ok` op that cannot be linearized. The set is bounded by the
//! concurrency, not the history length, and at quiescent points (no `ok` call open) it is just the
//! set of possible states (with crashed usage). A crashed call that never happens is simply never
//! linearized ("linearized at the end").

use std::sync::atomic::AtomicBool;

use rustc_hash::FxHashMap;

use super::budget::{Budget, MemTicket, Stop, ACCOUNT_STEP};
use super::configs::{Cfg, CfgSet, CrashTable, NO_PATH};
use super::equal;
use super::model::Model;
use super::prep::{Event, Problem};

/// Where the walk stopped when it found a violation: everything needed for a counterexample.
#[derive(Debug)]
pub struct Failure<S> {
    /// The call whose `ok` return could not be linearized.
    pub call: u32,
    /// Position in `Problem::events` of that return.
    pub event: usize,
    /// Slot of the failing call.
    pub slot: u32,
    /// Configurations alive just before the return.
    pub configs: Vec<Cfg<S>>,
    /// Slot -> open `ok` call at that point (`u32::MAX` = free).
    pub slot_call: Vec<u32>,
    /// Open-slot mask at that point.
    pub occupied: u128,
}

/// The result of one walk.
#[derive(Debug)]
pub enum WalkResult<S> {
    /// Some configuration survived the whole history.
    Valid,
    /// No configuration could linearize a returning call.
    Invalid(Box<Failure<S>>),
    /// A budget ran out.
    Stopped(Stop),
}

/// Crashed-call classes: equal compiled ops are interchangeable.
#[derive(Debug)]
pub struct Classes<O> {
    /// Representative op of each class.
    pub ops: Vec<O>,
    /// Member calls of each class, in invoke order (the first `used` are the ones "used").
    pub members: Vec<Vec<u32>>,
    index: FxHashMap<O, u32>,
}

/// How a configuration was reached when its last step was a crashed call: (class, parent state,
/// parent linearized set).
type Via<S> = Option<(u32, S, u128)>;

/// The closure's work list.
type Stack<S> = Vec<(Cfg<S>, Via<S>)>;

/// The walk's state; public so the counterexample builder can read it after a failure.
pub struct Walk<'a, M: Model> {
    /// The model.
    pub model: &'a M,
    /// The compiled sub-history.
    pub problem: &'a Problem<M::Op>,
    /// Crashed usage vectors.
    pub table: CrashTable,
    /// Crashed-call classes.
    pub classes: Classes<M::Op>,
    /// Path arena: (call, parent) when tracking.
    pub arena: Vec<(u32, u32)>,
    track: bool,
    /// Over-approximation: crashed calls may be used any number of times (usage not tracked).
    /// Sound only for proving *invalid*: if even this walk finds no configuration, none exists.
    /// Between two returns it applies at most `crashed` crashed ops in a row (a real order uses
    /// each crashed call once, so never more), its `crash` field counting them (as class 0); the
    /// count keeps models with unbounded states (counters, queues) from running forever.
    relaxed: bool,
    /// Crashed calls invoked so far.
    crashed: usize,
    pub(crate) slot_call: Vec<u32>,
    occupied: u128,
    /// Slots whose open call is read-only.
    read_only: u128,
    /// Per call: an id shared by calls with equal ops (see [`equal`]).
    pub(crate) op_class: Vec<u32>,
    /// Peak configurations held at once (for reports).
    pub peak_configs: usize,
}

impl<'a, M: Model> Walk<'a, M> {
    /// A walk over `problem`; `track` records linearization paths (for counterexamples).
    pub fn new(model: &'a M, problem: &'a Problem<M::Op>, track: bool) -> Self {
        let op_class = equal::classes(problem);
        Walk {
            model,
            problem,
            table: CrashTable::default(),
            classes: Classes {
                ops: Vec::new(),
                members: Vec::new(),
                index: FxHashMap::default(),
            },
            arena: Vec::new(),
            track,
            relaxed: false,
            crashed: 0,
            slot_call: vec![u32::MAX; 128],
            occupied: 0,
            read_only: 0,
            op_class,
            peak_configs: 0,
        }
    }

    /// A walk that lets every crashed call be used any number of times: its `Invalid` is a
    /// proof of invalidity (the real semantics allow fewer behaviours), its `Valid` proves nothing.
    pub fn relaxed(model: &'a M, problem: &'a Problem<M::Op>) -> Self {
        Walk {
            relaxed: true,
            ..Self::new(model, problem, false)
        }
    }

    fn entry_bytes(&self) -> usize {
        std::mem::size_of::<(M::State, u128, u32, u32)>() + 48
    }

    /// Run the walk within `budget`, stopping early when `cancel` is set.
    pub fn run(&mut self, budget: &Budget, cancel: &AtomicBool) -> WalkResult<M::State> {
        let mut ticket = MemTicket::new(budget);
        let mut configs: CfgSet<M::State> = CfgSet::default();
        let init = self.model.init();
        let heap = self.model.state_heap_bytes(&init);
        configs.insert(&self.table, (init, heap), 0, 0, || NO_PATH);
        for (ei, ev) in self.problem.events.iter().enumerate() {
            if ei.is_multiple_of(256) {
                if let Err(stop) = budget.check(cancel) {
                    return WalkResult::Stopped(stop);
                }
            }
            match *ev {
                Event::Invoke(c) if self.problem.calls[c as usize].done.is_some() => {
                    let slot = (!self.occupied).trailing_zeros();
                    if slot >= 128 {
                        return WalkResult::Stopped(Stop::Unsupported(
                            "more than 128 concurrent ok calls on one key".into(),
                        ));
                    }
                    self.occupied |= 1 << slot;
                    self.slot_call[slot as usize] = c;
                    if self.model.is_read_only(&self.problem.calls[c as usize].op) {
                        self.read_only |= 1 << slot;
                    }
                }
                Event::Invoke(c) => self.add_crashed(c),
                Event::Return(c) => {
                    let slot = self.slot_call.iter().position(|&x| x == c).unwrap_or(0) as u32;
                    let next = match self.expand(&configs, slot, budget, cancel, &mut ticket) {
                        Ok(n) => n,
                        Err(stop) => return WalkResult::Stopped(stop),
                    };
                    if next.is_empty() {
                        return WalkResult::Invalid(Box::new(Failure {
                            call: c,
                            event: ei,
                            slot,
                            configs: configs.iter().collect(),
                            slot_call: self.slot_call.clone(),
                            occupied: self.occupied,
                        }));
                    }
                    configs = next;
                    self.occupied &= !(1 << slot);
                    self.read_only &= !(1 << slot);
                    self.slot_call[slot as usize] = u32::MAX;
                    self.peak_configs = self.peak_configs.max(configs.len());
                }
            }
        }
        WalkResult::Valid
    }

    fn add_crashed(&mut self, c: u32) {
        let op = &self.problem.calls[c as usize].op;
        let class = match self.classes.index.get(op) {
            Some(&k) => k,
            None => {
                let k = self.classes.ops.len() as u32;
                self.classes.ops.push(op.clone());
                self.classes.members.push(Vec::new());
                self.classes.index.insert(op.clone(), k);
                k
            }
        };
        self.classes.members[class as usize].push(c);
        self.crashed += 1;
    }

    /// Every configuration reachable from `configs` in which the call in `slot` is linearized,
    /// with that bit cleared.
    fn expand(
        &mut self,
        configs: &CfgSet<M::State>,
        slot: u32,
        budget: &Budget,
        cancel: &AtomicBool,
        ticket: &mut MemTicket<'_>,
    ) -> Result<CfgSet<M::State>, Stop> {
        let bit = 1u128 << slot;
        let mut next: CfgSet<M::State> = CfgSet::default();
        let mut seen: CfgSet<M::State> = CfgSet::default();
        let mut stack: Stack<M::State> = Vec::new();
        // Heap bytes of the states on `stack` (each holds a state, and maybe its parent's).
        let mut stack_heap = 0usize;
        for (i, c) in configs.iter().enumerate() {
            // A losing contender must notice cancellation quickly, even mid-expansion.
            if i.is_multiple_of(1024) && cancel.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(Stop::Cancelled);
            }
            self.visit(c, None, &mut seen, &mut stack, &mut stack_heap);
        }
        let entry = self.entry_bytes();
        let mut pops = 0usize;
        let mut accounted = 0usize;
        while let Some((c, via)) = stack.pop() {
            stack_heap = stack_heap.saturating_sub(self.item_heap(&c, &via));
            pops += 1;
            if pops.is_multiple_of(64) && cancel.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(Stop::Cancelled);
            }
            // Re-account periodically, and at once when heavy states (sets, queues) pile up.
            let growing = (seen.len() + next.len() + stack.len()) * entry
                + seen.heap()
                + next.heap()
                + stack_heap;
            if pops.is_multiple_of(1024) || growing > accounted + ACCOUNT_STEP {
                accounted = growing;
                let bytes = growing
                    + configs.len() * entry
                    + configs.heap()
                    + self.table.bytes()
                    + self.arena.len() * 8;
                ticket.set(bytes);
                budget.check(cancel)?;
            }
            if c.lin & bit != 0 {
                let heap = self.model.state_heap_bytes(&c.state);
                // The relaxed walk's count restarts at each return.
                let crash = if self.relaxed { 0 } else { c.crash };
                next.insert(&self.table, (c.state, heap), c.lin & !bit, crash, || c.path);
                continue;
            }
            // `via` applies only if saturation added nothing after the crashed op.
            let via = via.filter(|v| v.2 == c.lin);
            let open = self.occupied & !c.lin;
            let dominated = self.dominated(open);
            let mut free = open & !dominated;
            while free != 0 {
                let s = free.trailing_zeros();
                free &= free - 1;
                let call = self.slot_call[s as usize];
                let op = &self.problem.calls[call as usize].op;
                if let Some(state) = self.model.try_step(&c.state, op) {
                    if self.reducible(via.as_ref(), op, None, &state) {
                        continue;
                    }
                    let path = push_path(&mut self.arena, self.track, call, c.path);
                    let n = Cfg {
                        state,
                        lin: c.lin | (1 << s),
                        crash: c.crash,
                        path,
                    };
                    self.visit(n, None, &mut seen, &mut stack, &mut stack_heap);
                }
            }
            let relaxed_full = self.relaxed && self.table.used(c.crash, 0) as usize >= self.crashed;
            for k in 0..self.classes.ops.len() as u32 {
                if relaxed_full {
                    break;
                }
                let members = &self.classes.members[k as usize];
                let used = if self.relaxed {
                    0
                } else {
                    self.table.used(c.crash, k)
                };
                if used as usize >= members.len() {
                    continue;
                }
                // An open ok call with the same op returns earlier: it goes first.
                let k_class = self.op_class[members[0] as usize];
                if self.open_has_class(open, k_class) {
                    continue;
                }
                let op = &self.classes.ops[k as usize];
                if let Some(state) = self.model.try_step(&c.state, op) {
                    if self.reducible(via.as_ref(), op, Some(k), &state) {
                        continue;
                    }
                    let call = members[used as usize];
                    let crash = if self.relaxed {
                        self.table.bump(c.crash, 0)
                    } else {
                        self.table.bump(c.crash, k)
                    };
                    let path = push_path(&mut self.arena, self.track, call, c.path);
                    let n = Cfg {
                        state,
                        lin: c.lin,
                        crash,
                        path,
                    };
                    let v = Some((k, c.state.clone(), c.lin));
                    self.visit(n, v, &mut seen, &mut stack, &mut stack_heap);
                }
            }
        }
        ticket.set(next.len() * entry + next.heap() + self.table.bytes() + self.arena.len() * 8);
        Ok(next)
    }

    /// Saturate `n` and queue it unless an equal or dominating configuration was seen.
    fn visit(
        &mut self,
        mut n: Cfg<M::State>,
        via: Via<M::State>,
        seen: &mut CfgSet<M::State>,
        stack: &mut Stack<M::State>,
        stack_heap: &mut usize,
    ) {
        self.saturate(&mut n);
        let heap = self.model.state_heap_bytes(&n.state);
        if seen.insert(&self.table, (n.state.clone(), heap), n.lin, n.crash, || {
            n.path
        }) {
            *stack_heap += self.item_heap(&n, &via);
            stack.push((n, via));
        }
    }

    /// Heap bytes owned by one work-list item: its state and the parent state it carries.
    fn item_heap(&self, c: &Cfg<M::State>, via: &Via<M::State>) -> usize {
        self.model.state_heap_bytes(&c.state)
            + via
                .as_ref()
                .map_or(0, |(_, parent, _)| self.model.state_heap_bytes(parent))
    }

    /// Linearize every open read-only call that is legal in `c`'s state. Sound and complete: a
    /// read-only call leaves the state unchanged, so the configuration with it linearized can do
    /// everything the one without can (it dominates), and keeping only it avoids the 2^n subsets
    /// of concurrent reads that make plain config-set search explode.
    fn saturate(&mut self, c: &mut Cfg<M::State>) {
        let mut cand = self.read_only & self.occupied & !c.lin;
        while cand != 0 {
            let s = cand.trailing_zeros();
            cand &= cand - 1;
            let call = self.slot_call[s as usize];
            if self
                .model
                .try_step(&c.state, &self.problem.calls[call as usize].op)
                .is_some()
            {
                c.lin |= 1 << s;
                c.path = push_path(&mut self.arena, self.track, call, c.path);
            }
        }
    }

    /// The calls on a recorded path, oldest first.
    pub fn path_calls(&self, mut path: u32) -> Vec<u32> {
        let mut out = Vec::new();
        while path != NO_PATH {
            let (call, parent) = self.arena[path as usize];
            out.push(call);
            path = parent;
        }
        out.reverse();
        out
    }
}

fn push_path(arena: &mut Vec<(u32, u32)>, track: bool, call: u32, parent: u32) -> u32 {
    if !track {
        return NO_PATH;
    }
    arena.push((call, parent));
    (arena.len() - 1) as u32
}
