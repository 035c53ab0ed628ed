//! honnin-service: the whole service launched on SQLite, and its HTTP server's connection
//! hygiene on real sockets.

#![allow(clippy::unwrap_used)]

mod http;
mod support;
