//! The crate's error type.

use std::path::PathBuf;

/// What can go wrong on honnin's chain side.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A Foundry binary is neither named by its environment variable nor installed in `.tools/`.
    #[error(
        "{tool} not found (set {env_var}, or run scripts/install-tools); looked in {searched:?}"
    )]
    ToolNotFound {
        /// The binary: `anvil`, `forge` or `cast`.
        tool: &'static str,
        /// The environment variable that names it explicitly.
        env_var: &'static str,
        /// The paths tried, in order.
        searched: Vec<PathBuf>,
    },
    /// A test anvil did not start.
    #[cfg(feature = "test-utils")]
    #[error("anvil did not start")]
    Anvil(#[source] alloy::node_bindings::NodeError),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
