//! Integration tests for honnin-store: every test body runs against Postgres (a throwaway
//! cluster, or the server `HONNIN_TEST_DATABASE_URL` names) and against SQLite (a temp file).

// Test helpers outside #[test] functions unwrap too (clippy.toml allows it inside them).
#![allow(clippy::unwrap_used)]

mod harness;

mod attestations;
mod audit;
mod challenges;
mod connect;
mod lease;
mod lifecycle;
mod outbox;
mod privacy;
mod scopes;
mod webhooks;
