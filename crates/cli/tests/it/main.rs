//! End-to-end tests of the `honnin` binary (the built executable, real files).

#![allow(clippy::unwrap_used)]

mod bridge;
mod browser;
mod card;
mod dev;
mod jpki;
mod kill;
mod lifecycle;
mod openapi;
mod serve;
