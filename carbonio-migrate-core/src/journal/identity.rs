//! The identity of a migration: what must not change between runs sharing a journal.

use std::collections::BTreeMap;

/// Named facts that fix what the journal's records mean: the procedure, where
/// the source and destination are, and the rules that map folders. When any of
/// them changes, recorded UIDs and finished items may point to the wrong place,
/// so the journal refuses to continue and says which fact changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunIdentity(BTreeMap<String, String>);

impl RunIdentity {
    /// An empty identity.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a fact; returns `self` for chaining.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.insert(key.into(), value.into());
        self
    }

    /// The facts, sorted by key.
    pub fn facts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}
