//! Adapters that wrap adapters, implementing the same trait.

mod composite;

pub use composite::CompositeSource;
