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
    /// A JSON-RPC request failed (transport, or an error answer from the node).
    #[error("rpc request failed")]
    Rpc(#[from] alloy::transports::TransportError),
    /// A contract call failed: encoding, decoding, a revert in `eth_call`, or the RPC under it.
    /// Decode a revert with `as_decoded_interface_error::<KycRegistry::KycRegistryErrors>()`.
    #[error("contract call failed")]
    Contract(#[from] alloy::contract::Error),
    /// A mined transaction reverted.
    #[error("transaction {tx_hash} reverted")]
    Reverted {
        /// The transaction.
        tx_hash: alloy::primitives::TxHash,
    },
    /// A test anvil did not start.
    #[cfg(feature = "test-utils")]
    #[error("anvil did not start")]
    Anvil(#[source] alloy::node_bindings::NodeError),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
