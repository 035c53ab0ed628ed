//! Test helpers for any crate (feature `test-utils`): a throwaway anvil from the pinned binary
//! and a registry deployed on it.
//!
//! Every test gets its own node on an OS-assigned free port, killed when the returned
//! [`AnvilInstance`] drops. Its accounts are funded and unlocked; [`AnvilInstance::keys`] gives
//! their private keys and [`AnvilInstance::wallet`] a wallet that signs for all of them.
//!
//! ```no_run
//! # async fn f() -> honnin_chain::Result<()> {
//! use alloy::providers::ProviderBuilder;
//! use honnin_chain::test_utils::{deploy_registry, spawn_anvil};
//!
//! let anvil = spawn_anvil()?;
//! let wallet = anvil.wallet().expect("anvil has keys");
//! let provider = ProviderBuilder::new().wallet(wallet).connect_http(anvil.endpoint_url());
//! let registry = deploy_registry(&provider, &anvil).await?;
//! # let _ = registry; Ok(()) }
//! ```

pub use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::Address;
use alloy::providers::Provider;
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};

use crate::bindings::KycRegistry;
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

/// A registry deployed by [`deploy_registry`] and who holds which role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestRegistry {
    /// The registry's address.
    pub address: Address,
    /// Anvil's account 0: DEFAULT_ADMIN_ROLE (can pause and grant roles).
    pub admin: Address,
    /// Anvil's account 1: ATTESTER_ROLE.
    pub attester: Address,
    /// Anvil's account 2: REVOKER_ROLE.
    pub revoker: Address,
}

/// Deploys `KycRegistry` from the committed artifact with anvil's account 0 as admin, and grants
/// the attester role to account 1 and the revoker role to account 2. `provider` must sign for
/// those accounts (a provider built with [`AnvilInstance::wallet`] does).
pub async fn deploy_registry<P: Provider>(
    provider: &P,
    anvil: &AnvilInstance,
) -> Result<TestRegistry> {
    let [admin, attester, revoker] = [0, 1, 2].map(|i| anvil.addresses()[i]);
    let deploy = KycRegistry::deploy_builder(provider, admin).into_transaction_request();
    let receipt = send_sync(provider, deploy.from(admin)).await?;
    let address = receipt.contract_address.ok_or(alloy::contract::Error::ContractNotDeployed)?;

    let registry = KycRegistry::new(address, provider);
    for (role, account) in [
        (registry.ATTESTER_ROLE().call().await?, attester),
        (registry.REVOKER_ROLE().call().await?, revoker),
    ] {
        let grant = registry.grantRole(role, account).from(admin).into_transaction_request();
        send_sync(provider, grant).await?;
    }
    Ok(TestRegistry { address, admin, attester, revoker })
}

/// Sends `tx` with `eth_sendRawTransactionSync` (the receipt comes back in the same call, no
/// polling) and fails with [`Error::Reverted`] unless it succeeded.
pub async fn send_sync<P: Provider>(
    provider: &P,
    tx: TransactionRequest,
) -> Result<TransactionReceipt> {
    let receipt = provider.send_transaction_sync(tx).await?;
    if !receipt.status() {
        return Err(Error::Reverted { tx_hash: receipt.transaction_hash });
    }
    Ok(receipt)
}
