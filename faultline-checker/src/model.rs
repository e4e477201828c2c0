//! The `Model` seam: a sequential specification the search steps through, plus the value
//! interner models use to compile JSON values into small integers before the search starts.
//!
//! Models compile each call's JSON (`f`, invoke value, completion value) into a compact `Op` once,
//! so the hot loop only compares integers.

use std::fmt::Debug;
use std::hash::Hash;

use rustc_hash::FxHashMap;
use serde_json::Value;

/// A sequential specification: states, compiled ops and the transition function.
///
/// Semantics shared by every model (DESIGN.md): an `ok` read of `null` means "absent"; crashed
/// reads are dropped before the search (see [`Model::is_read_only`]).
pub trait Model: Send + Sync {
    /// A model state. Cheap to clone; hashed for memoization.
    type State: Clone + Eq + Hash + Send + Sync + Debug;
    /// A compiled op (interned values). Equal ops are interchangeable.
    type Op: Clone + Eq + Hash + Send + Sync + Debug;

    /// Compile one call. `invoke` is the invoke's value, `completion` the `ok` completion's value
    /// (`None` for crashed calls, whose outcome is unknown). An error means the value does not fit
    /// the model (bad input).
    fn compile(
        &mut self,
        f: &str,
        invoke: &Value,
        completion: Option<&Value>,
    ) -> Result<Self::Op, String>;

    /// The initial state. Called after every op has been compiled.
    fn init(&self) -> Self::State;

    /// Apply `op` to `state`: the new state, or why the op is impossible in that state.
    fn step(&self, state: &Self::State, op: &Self::Op) -> Result<Self::State, String>;

    /// Like [`Model::step`] without building the error message (the search's hot path).
    fn try_step(&self, state: &Self::State, op: &Self::Op) -> Option<Self::State> {
        self.step(state, op).ok()
    }

    /// True if `op` never changes the state: such an op constrains nothing when it crashed, so the
    /// checker drops it.
    fn is_read_only(&self, op: &Self::Op) -> bool;

    /// A state for humans, e.g. `2` or `{"x":0,"y":1}`.
    fn render_state(&self, state: &Self::State) -> String;

    /// An op for humans, e.g. `write 2` or `cas [1 1]`.
    fn render_op(&self, op: &Self::Op) -> String;

    /// Approximate heap bytes owned by a state, beyond its inline size. The searches count them
    /// in the memory budget (`--memory-limit`), so every model whose state lives on the heap (a
    /// set, a queue, a string) must say how much; the default 0 fits plain values.
    fn state_heap_bytes(&self, _state: &Self::State) -> usize {
        0
    }
}

/// Heap bytes of a boxed slice or vector's elements, plus the allocator's bookkeeping.
pub fn slice_heap_bytes<T>(s: &[T]) -> usize {
    if s.is_empty() {
        0
    } else {
        std::mem::size_of_val(s) + ALLOC_OVERHEAD
    }
}

/// What one heap allocation costs beyond its payload (glibc malloc: a 16-byte header and
/// rounding).
pub const ALLOC_OVERHEAD: usize = 16;

/// Interns JSON values as `u32` ids; id 0 is always `null`.
#[derive(Debug, Clone)]
pub struct Interner {
    ids: FxHashMap<String, u32>,
    values: Vec<Value>,
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            ids: FxHashMap::default(),
            values: vec![Value::Null],
        }
    }
}

impl Interner {
    /// The id of the null value.
    pub const NULL: u32 = 0;

    /// The id of `v`, assigning a new one on first sight.
    pub fn intern(&mut self, v: &Value) -> u32 {
        if v.is_null() {
            return Self::NULL;
        }
        let key = v.to_string();
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(v.clone());
        self.ids.insert(key, id);
        id
    }

    /// Number of interned values, `null` included (ids are `0..len`).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Always false: `null` is always interned.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The value behind `id`.
    pub fn value(&self, id: u32) -> &Value {
        self.values.get(id as usize).unwrap_or(&Value::Null)
    }

    /// Render `id` Knossos-style: `nil` for null, vectors with spaces, strings bare.
    pub fn render(&self, id: u32) -> String {
        render_value(self.value(id))
    }
}

/// Render a JSON value compactly, Knossos-style (`nil`, `[1 2]`, bare strings).
pub fn render_value(v: &Value) -> String {
    match v {
        Value::Null => "nil".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(render_value).collect();
            format!("[{}]", parts.join(" "))
        }
        other => other.to_string(),
    }
}

/// The value that describes what happened: the `ok` completion's value when it has one, else
/// the invoke's (writes often complete with the same or no value).
pub fn effective_value<'a>(invoke: &'a Value, completion: Option<&'a Value>) -> &'a Value {
    match completion {
        Some(v) if !v.is_null() => v,
        _ => invoke,
    }
}

/// The value a read returned: the completion's value, `null` included (strict nil rule).
pub fn read_value<'a>(invoke: &'a Value, completion: Option<&'a Value>) -> &'a Value {
    completion.unwrap_or(invoke)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn interner_gives_null_id_zero_and_stable_ids() {
        let mut i = Interner::default();
        assert_eq!(i.intern(&Value::Null), 0);
        let a = i.intern(&json!(3));
        assert_eq!(i.intern(&json!(3)), a);
        assert_ne!(i.intern(&json!("3")), a);
        assert_eq!(i.render(a), "3");
        assert_eq!(render_value(&json!([1, [2, null]])), "[1 [2 nil]]");
    }
}
