//! Integration tests of honnin-lifecycle against real stores (Postgres and SQLite), with the
//! simulated card's root, CRLs and a fake OCSP source.

#![allow(clippy::unwrap_used)]

mod expiry;
mod harness;
mod links;
mod sync;
