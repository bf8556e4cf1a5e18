//! Adapters that wrap adapters.
