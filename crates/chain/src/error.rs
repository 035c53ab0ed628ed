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
    /// A private key that is not 32 bytes of hex (the key itself is never shown).
    #[error("invalid private key")]
    InvalidKey,
    /// An RPC URL that does not parse.
    #[error("invalid rpc url")]
    InvalidUrl,
    /// The HTTP client for the RPC endpoint could not be built.
    #[error("could not build the http client")]
    Http(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// Signing a transaction failed.
    #[error("could not sign the transaction")]
    Sign(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The chain writer's task panicked.
    #[error("the chain writer task panicked")]
    WriterPanicked,
    /// The store failed.
    #[error("store failed")]
    Store(#[from] honnin_core::StoreError),
    /// A deployment did not produce what it should have.
    #[error("deployment failed: {what}")]
    Deploy {
        /// What went wrong.
        what: &'static str,
    },
    /// A test anvil did not start.
    #[cfg(feature = "test-utils")]
    #[error("anvil did not start")]
    Anvil(#[source] alloy::node_bindings::NodeError),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
