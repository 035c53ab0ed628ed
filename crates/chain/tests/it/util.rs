//! Helpers shared by the tests.

use std::time::{SystemTime, UNIX_EPOCH};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256, aliases::U40};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use anyhow::{Context, Result};
use honnin_chain::bindings::{IKycRegistry, KycRegistry};
use honnin_chain::test_utils::{
    AnvilInstance, TestRegistry, deploy_registry, send_sync, spawn_anvil,
};

/// A running anvil, a provider that signs for all its accounts, and a deployed registry whose
/// admin (account 0) granted the attester role to account 1 and the revoker role to account 2.
pub(crate) struct Chain {
    pub(crate) anvil: AnvilInstance,
    pub(crate) provider: DynProvider,
    pub(crate) registry: KycRegistry::KycRegistryInstance<DynProvider>,
    pub(crate) admin: Address,
    pub(crate) attester: Address,
    pub(crate) revoker: Address,
}

impl Chain {
    pub(crate) async fn start() -> Result<Self> {
        let anvil = spawn_anvil()?;
        let wallet: EthereumWallet = anvil.wallet().context("anvil has no keys")?;
        let provider =
            ProviderBuilder::new().wallet(wallet).connect_http(anvil.endpoint_url()).erased();
        let TestRegistry { address, admin, attester, revoker } =
            deploy_registry(&provider, &anvil).await?;
        let registry = KycRegistry::new(address, provider.clone());
        Ok(Self { anvil, provider, registry, admin, attester, revoker })
    }

    /// Sends `records` as the attester and returns the receipt.
    pub(crate) async fn attest(
        &self,
        records: Vec<IKycRegistry::Record>,
    ) -> Result<TransactionReceipt> {
        self.attest_in(None, records).await
    }

    /// Sends `records` in `scope` (`attestScoped`; `None`: `attest`) as the attester.
    pub(crate) async fn attest_in(
        &self,
        scope: Option<B256>,
        records: Vec<IKycRegistry::Record>,
    ) -> Result<TransactionReceipt> {
        let from = self.attester;
        let tx = match scope {
            None => self.registry.attest(records).from(from).into_transaction_request(),
            Some(scope) => {
                self.registry.attestScoped(scope, records).from(from).into_transaction_request()
            }
        };
        send(&self.provider, tx).await
    }

    /// Revokes `wallets` with `reason` as the revoker and returns the receipt.
    pub(crate) async fn revoke(
        &self,
        wallets: Vec<Address>,
        reason: u8,
    ) -> Result<TransactionReceipt> {
        self.revoke_in(None, wallets, reason).await
    }

    /// Revokes `wallets` in `scope` (`revokeScoped`; `None`: `revoke`) as the revoker.
    pub(crate) async fn revoke_in(
        &self,
        scope: Option<B256>,
        wallets: Vec<Address>,
        reason: u8,
    ) -> Result<TransactionReceipt> {
        let from = self.revoker;
        let tx = match scope {
            None => self.registry.revoke(wallets, reason).from(from).into_transaction_request(),
            Some(scope) => self
                .registry
                .revokeScoped(scope, wallets, reason)
                .from(from)
                .into_transaction_request(),
        };
        send(&self.provider, tx).await
    }
}

/// Sends `tx` and checks it succeeded (see [`send_sync`]).
pub(crate) async fn send(
    provider: &DynProvider,
    tx: TransactionRequest,
) -> Result<TransactionReceipt> {
    Ok(send_sync(provider, tx).await?)
}

/// Unix seconds now.
pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// A record for `wallet` at `level`, issued now, expiring in a year.
pub(crate) fn record(wallet: Address, level: u8) -> IKycRegistry::Record {
    let now = now();
    IKycRegistry::Record {
        wallet,
        level,
        claims: 1,
        issuedAt: U40::from(now),
        expiresAt: U40::from(now + 365 * 24 * 3600),
    }
}

/// A wallet address with realistic, mostly non-zero bytes.
pub(crate) fn wallet(i: u64) -> Address {
    let digest = alloy::primitives::keccak256(U256::from(i).to_be_bytes::<32>());
    Address::from_slice(&digest[12..])
}

/// What calldata costs in intrinsic gas: 4 per zero byte, 16 per other byte.
pub(crate) fn calldata_gas(data: &[u8]) -> u64 {
    data.iter().map(|b| if *b == 0 { 4 } else { 16 }).sum()
}
