//! Integration tests of honnin-jpki (one binary, modules by concern).

// Helpers outside #[test] functions unwrap too, and skipped tests say so on stdout.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod anchors;
mod crl;
mod interop;
mod negative;
mod ocsp;
mod positive;
mod real_roots;
mod revocation;
mod signing;
mod support;
