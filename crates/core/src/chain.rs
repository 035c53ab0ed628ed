//! The chain port the API needs: asking a contract wallet whether it accepts a signature.
//!
//! Step 2 of the [wallet proof](crate::wallet): when a signature does not recover to the
//! challenge's wallet under EIP-191, the wallet may be a contract (a multisig, a smart account).
//! ERC-1271 lets it say: `isValidSignature(bytes32 hash, bytes signature)` returns the magic
//! value `0x1626ba7e` when it accepts. `honnin-chain` implements [`ContractWallets`] with an RPC
//! `eth_call`; the API holds an optional `Arc<dyn ContractWallets>` and refuses non-EOA
//! signatures (`wallet_mismatch`) when none is configured.

use std::fmt;

use alloy_primitives::{Address, B256};
use async_trait::async_trait;

/// The ERC-1271 magic value `isValidSignature` returns when it accepts a signature.
pub const ERC1271_MAGIC_VALUE: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];

/// Why a contract wallet could not be asked (the node was unreachable, timed out, answered
/// garbage). Not a refusal: the API answers 503 and the client may retry with a new challenge.
///
/// The message must not carry the signature or anything personal; the wallet address is not
/// personal by itself but should not be logged together with request details either.
#[derive(Debug, thiserror::Error)]
#[error("contract wallet check failed")]
pub struct ContractWalletError(#[source] pub Box<dyn std::error::Error + Send + Sync + 'static>);

/// Asks contract wallets whether they accept a signature (ERC-1271).
#[async_trait]
pub trait ContractWallets: Send + Sync + fmt::Debug + 'static {
    /// Whether `wallet` accepts `signature` over `hash` (the EIP-191 hash of the challenge
    /// message, [`crate::wallet::eip191_hash`]): `Ok(true)` only when `isValidSignature`
    /// returned [`ERC1271_MAGIC_VALUE`]. An address without code, a revert, or any other return
    /// value is `Ok(false)`; only a failure to get an answer is an error.
    async fn is_valid_signature(
        &self,
        wallet: Address,
        hash: B256,
        signature: &[u8],
    ) -> Result<bool, ContractWalletError>;
}
