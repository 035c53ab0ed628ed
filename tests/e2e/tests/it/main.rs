//! honnin end to end: real anvil, real Postgres, the real API on real sockets, the real chain
//! writer. See the crate docs for the rig.

mod claims;
mod concurrency;
mod flow;
mod jobs;
mod lifecycle;
mod privacy;
mod refusals;
mod scopes;
mod support;
mod webhooks;
