//! honnin-api integration tests: the real app, in process (`oneshot`) and on a real socket,
//! over real SQLite and Postgres stores, simulated JPKI cards and real EOA keys.

// Helpers and async test bodies (outside what clippy sees as #[test]) unwrap too.
#![allow(clippy::unwrap_used)]

mod admin;
mod claims;
mod claims_privacy;
mod concurrency;
mod document;
mod flow;
mod fuzzing;
mod hardening;
mod lifecycle;
mod limits;
mod numbers;
mod operations;
mod privacy;
mod refusals;
mod scopes;
mod support;
mod webhooks;
