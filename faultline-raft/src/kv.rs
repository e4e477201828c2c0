//! The replicated state machine: a map from keys to JSON values, the result of applying each
//! command, and snapshots of the map.

use std::collections::BTreeMap;

use serde_json::Value;

use super::types::Command;

/// What applying a command produced, handed back to the client that proposed it.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The command took effect (or was a no-op).
    Done,
    /// A CAS whose expected value did not match; carries the current value.
    CasMismatch(Value),
}

/// The key-value map. `null` values are never stored: absent and `null` are the same.
#[derive(Debug, Clone, Default)]
pub struct Kv {
    map: BTreeMap<String, Value>,
}

impl Kv {
    /// Current value of `key` (`Value::Null` when absent).
    pub fn get(&self, key: &str) -> Value {
        self.map.get(key).cloned().unwrap_or(Value::Null)
    }

    fn set(&mut self, key: &str, value: Value) {
        if value.is_null() {
            self.map.remove(key);
        } else {
            self.map.insert(key.to_string(), value);
        }
    }

    /// Apply one committed command.
    pub fn apply(&mut self, cmd: &Command) -> Applied {
        match cmd {
            Command::Noop => Applied::Done,
            Command::Put { key, value } => {
                self.set(key, value.clone());
                Applied::Done
            }
            Command::Cas { key, from, to } => {
                let current = self.get(key);
                if &current == from {
                    self.set(key, to.clone());
                    Applied::Done
                } else {
                    Applied::CasMismatch(current)
                }
            }
        }
    }

    /// Serialize the whole map (snapshot payload).
    pub fn snapshot(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&self.map)
    }

    /// Replace the map by a snapshot payload; an empty payload is the empty map.
    pub fn restore(data: &str) -> Result<Kv, serde_json::Error> {
        if data.is_empty() {
            return Ok(Kv::default());
        }
        Ok(Kv {
            map: serde_json::from_str(data)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cas_applies_only_on_match_and_snapshots_round_trip() {
        let mut kv = Kv::default();
        let cas = |from, to| Command::Cas {
            key: "k".into(),
            from,
            to,
        };
        assert_eq!(kv.apply(&cas(Value::Null, json!(1))), Applied::Done);
        assert_eq!(
            kv.apply(&cas(json!(2), json!(3))),
            Applied::CasMismatch(json!(1))
        );
        let copy = Kv::restore(&kv.snapshot().expect("encodes")).expect("valid snapshot");
        assert_eq!(copy.get("k"), json!(1));
        assert_eq!(copy.get("other"), Value::Null);
    }
}
