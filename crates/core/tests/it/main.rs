//! Integration tests for honnin-core.

// Test helpers outside #[test] functions unwrap too (clippy.toml allows it inside them).
#![allow(clippy::unwrap_used)]

mod challenge;
mod individual_number;
mod keyed;
mod policy;
mod wallet;
