//! ERC-1271 contract-wallet checks: the [`ContractWallets`] port of `honnin-core` over an RPC
//! node.
//!
//! [`RpcContractWallets::is_valid_signature`] sends one `eth_call` of
//! `isValidSignature(bytes32 hash, bytes signature)` to the wallet at the latest block and
//! accepts only the exact ERC-1271 answer: a return of at least 32 bytes whose first word is the
//! magic value `0x1626ba7e` left-aligned and zero-padded (the check OpenZeppelin's
//! `SignatureChecker` makes). Everything the node *answers* that is not that is a refusal
//! (`Ok(false)`): an address without code (empty return), a revert, a short or different return
//! value. Only a failure to get an answer (connection refused, timeout, an RPC error that is not
//! an execution revert) is an error, so the API can answer 503 instead of a false refusal.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use honnin_chain::wallets::RpcContractWallets;
//! use honnin_core::ContractWallets;
//!
//! let wallets: Arc<dyn ContractWallets> =
//!     Arc::new(RpcContractWallets::connect_http("http://127.0.0.1:8545".parse()?));
//! # Ok(()) }
//! ```

use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use alloy::transports::{RpcError, TransportError};
use async_trait::async_trait;
use honnin_core::{ContractWalletError, ContractWallets, ERC1271_MAGIC_VALUE};

// The standard interface from EIP-1271 (not one of honnin's contracts, so there is no artifact).
alloy::sol! {
    /// EIP-1271: the standard signature validation method for contracts.
    interface IERC1271 {
        /// Returns `0x1626ba7e` when `signature` is valid for `hash`.
        function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4);
    }
}

/// The [`ContractWallets`] port over an RPC node: one `eth_call` per check.
#[derive(Debug, Clone)]
pub struct RpcContractWallets {
    provider: DynProvider,
}

impl RpcContractWallets {
    /// A checker over `provider` (any provider; it only reads).
    pub fn new(provider: DynProvider) -> Self {
        Self { provider }
    }

    /// A checker over a plain HTTP provider for `rpc_url`.
    pub fn connect_http(rpc_url: alloy::transports::http::reqwest::Url) -> Self {
        Self::new(ProviderBuilder::new().connect_http(rpc_url).erased())
    }

    /// Whether `wallet` accepts `signature` over `hash`; see the [module docs](self).
    pub async fn check(
        &self,
        wallet: Address,
        hash: B256,
        signature: &[u8],
    ) -> crate::Result<bool> {
        let call =
            IERC1271::isValidSignatureCall { hash, signature: Bytes::copy_from_slice(signature) };
        let tx = TransactionRequest::default().to(wallet).input(call.abi_encode().into());
        match self.provider.call(tx).await {
            Ok(output) => Ok(is_magic(&output)),
            Err(e) if is_execution_error(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// The first 32 bytes are the magic value, left-aligned, zero-padded.
fn is_magic(output: &[u8]) -> bool {
    output.len() >= 32
        && output[..4] == ERC1271_MAGIC_VALUE
        && output[4..32].iter().all(|b| *b == 0)
}

/// Whether the node answered that executing the call failed (a revert, an invalid opcode, out of
/// gas): the wallet said no. JSON-RPC has no portable code for this: geth and anvil answer code
/// 3 with revert data, or -32000/-32015 with a message naming the revert, so the message is
/// checked too.
fn is_execution_error(e: &TransportError) -> bool {
    let RpcError::ErrorResp(payload) = e else { return false };
    if payload.code == 3 || payload.as_revert_data().is_some() {
        return true;
    }
    let message = payload.message.to_ascii_lowercase();
    ["revert", "invalid opcode", "out of gas", "stack underflow", "invalid jump"]
        .iter()
        .any(|needle| message.contains(needle))
}

#[async_trait]
impl ContractWallets for RpcContractWallets {
    async fn is_valid_signature(
        &self,
        wallet: Address,
        hash: B256,
        signature: &[u8],
    ) -> Result<bool, ContractWalletError> {
        self.check(wallet, hash, signature).await.map_err(|e| ContractWalletError(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::is_magic;

    #[test]
    fn magic_must_be_a_clean_word() {
        let mut word = [0u8; 32];
        word[..4].copy_from_slice(&[0x16, 0x26, 0xba, 0x7e]);
        assert!(is_magic(&word));
        assert!(!is_magic(&word[..4]), "a bare bytes4 is not ABI");
        word[31] = 1;
        assert!(!is_magic(&word), "dirty padding");
        assert!(!is_magic(&[]));
    }
}
