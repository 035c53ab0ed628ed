//! Integration tests of honnin-chain against a real anvil (the pinned one from `.tools/`), one
//! node per test on a free port.

mod bench;
mod deploy;
mod registry;
mod rig;
mod tools;
mod util;
mod wallets;
mod writer;
