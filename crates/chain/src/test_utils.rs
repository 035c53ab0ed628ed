//! Test helpers for any crate (feature `test-utils`): a throwaway anvil from the pinned binary.
//!
//! Every test gets its own node on an OS-assigned free port, killed when the returned
//! [`AnvilInstance`] drops. Its first account is funded and unlocked; [`AnvilInstance::keys`]
//! gives the private keys.

pub use alloy::node_bindings::{Anvil, AnvilInstance};

use crate::tools::{Tool, locate};
use crate::{Error, Result};

/// An anvil builder pointing at the pinned binary (see [`crate::tools`]), for tests that need
/// options (`.block_time(1)`, `.arg("--hardfork")`, ...).
pub fn anvil() -> Result<Anvil> {
    Ok(Anvil::at(locate(Tool::Anvil)?))
}

/// Starts the pinned anvil on a free port and waits until it answers.
pub fn spawn_anvil() -> Result<AnvilInstance> {
    anvil()?.try_spawn().map_err(Error::Anvil)
}
