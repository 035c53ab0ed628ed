//! Integration tests of honnin-chain against a real anvil (the pinned one from `.tools/`), one
//! node per test on a free port.

mod registry;
mod tools;
mod util;
