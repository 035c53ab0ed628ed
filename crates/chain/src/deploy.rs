//! Deploying `KycRegistry` and granting its roles (what `honnin deploy` does).
//!
//! [`deploy`] sends, from the provider's signing account (the *deployer*):
//!
//! 1. the registry's creation with the deployer as `DEFAULT_ADMIN_ROLE`;
//! 2. `grantRole(ATTESTER_ROLE, attester)` and `grantRole(REVOKER_ROLE, revoker)`;
//! 3. when another admin is named: `grantRole(DEFAULT_ADMIN_ROLE, admin)` and then
//!    `renounceRole(DEFAULT_ADMIN_ROLE, deployer)`, so the deployer keeps no power.
//!
//! Defaults: admin = deployer, attester = deployer, revoker = attester (the chain writer signs
//! `attest` and `revoke` with one key). Each transaction must succeed before the next is sent.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256};
use alloy::providers::Provider;
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};

use crate::bindings::KycRegistry;
use crate::{Error, Result};

const TARGET: &str = "honnin::chain::deploy";

/// Who gets which role, and how to wait for receipts.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// `DEFAULT_ADMIN_ROLE` (pauses, grants roles). Default: the deployer.
    pub admin: Option<Address>,
    /// `ATTESTER_ROLE`. Default: the deployer.
    pub attester: Option<Address>,
    /// `REVOKER_ROLE`. Default: the attester.
    pub revoker: Option<Address>,
    /// Poll for receipts instead of `eth_sendRawTransactionSync` (for nodes without it).
    pub poll: bool,
}

/// What [`deploy`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Deployed {
    /// The registry's address.
    pub registry: Address,
    /// The chain id.
    pub chain_id: u64,
    /// The block the registry was created in.
    pub block_number: u64,
    /// The creation transaction.
    pub tx_hash: B256,
    /// The deploying account.
    pub deployer: Address,
    /// `DEFAULT_ADMIN_ROLE` holder.
    pub admin: Address,
    /// `ATTESTER_ROLE` holder.
    pub attester: Address,
    /// `REVOKER_ROLE` holder.
    pub revoker: Address,
}

/// Deploys the registry from `deployer` (an account `provider` signs for) and grants the roles
/// in `options`; see the [module docs](self).
pub async fn deploy<P: Provider>(
    provider: &P,
    deployer: Address,
    options: &DeployOptions,
) -> Result<Deployed> {
    let admin = options.admin.unwrap_or(deployer);
    let attester = options.attester.unwrap_or(deployer);
    let revoker = options.revoker.unwrap_or(attester);
    if [admin, attester, revoker].contains(&Address::ZERO) {
        return Err(Error::Deploy { what: "a role holder is the zero address" });
    }
    let chain_id = provider.get_chain_id().await?;

    let create = KycRegistry::deploy_builder(provider, deployer).into_transaction_request();
    let receipt = send(provider, create.from(deployer), options.poll).await?;
    let registry = receipt
        .contract_address
        .ok_or(Error::Deploy { what: "the creation receipt names no contract" })?;
    let block_number =
        receipt.block_number.ok_or(Error::Deploy { what: "the creation receipt has no block" })?;
    tracing::info!(target: TARGET, %registry, block_number, "registry deployed");

    let contract = KycRegistry::new(registry, provider);
    let attester_role = contract.ATTESTER_ROLE().call().await?;
    let revoker_role = contract.REVOKER_ROLE().call().await?;
    let admin_role = contract.DEFAULT_ADMIN_ROLE().call().await?;
    let mut calls = vec![
        contract.grantRole(attester_role, attester).into_transaction_request(),
        contract.grantRole(revoker_role, revoker).into_transaction_request(),
    ];
    if admin != deployer {
        calls.push(contract.grantRole(admin_role, admin).into_transaction_request());
        calls.push(contract.renounceRole(admin_role, deployer).into_transaction_request());
    }
    for call in calls {
        send(provider, call.from(deployer), options.poll).await?;
    }
    for (role, holder) in [(admin_role, admin), (attester_role, attester), (revoker_role, revoker)]
    {
        if !contract.hasRole(role, holder).call().await? {
            return Err(Error::Deploy { what: "a role is missing after granting it" });
        }
    }
    tracing::info!(target: TARGET, %registry, %admin, %attester, %revoker, "roles granted");
    Ok(Deployed {
        registry,
        chain_id,
        block_number,
        tx_hash: receipt.transaction_hash,
        deployer,
        admin,
        attester,
        revoker,
    })
}

/// [`deploy`] over a plain HTTP provider for `rpc_url` that signs with `key` (the deployer).
pub async fn deploy_http(
    rpc_url: &str,
    key: &crate::writer::AttesterKey,
    options: &DeployOptions,
) -> Result<Deployed> {
    let url = rpc_url.parse().map_err(|_| Error::InvalidUrl)?;
    let wallet = alloy::network::EthereumWallet::from(key.signer().clone());
    let provider = alloy::providers::ProviderBuilder::new().wallet(wallet).connect_http(url);
    deploy(&provider, key.address(), options).await
}

/// Sends `tx` and waits for a successful receipt.
async fn send<P: Provider>(
    provider: &P,
    tx: TransactionRequest,
    poll: bool,
) -> Result<TransactionReceipt> {
    let receipt = if poll {
        let hash = *provider.send_transaction(tx).await?.tx_hash();
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            if let Some(receipt) = provider.get_transaction_receipt(hash).await? {
                break receipt;
            }
            if Instant::now() >= deadline {
                return Err(Error::Deploy { what: "no receipt within 10 minutes" });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    } else {
        provider.send_transaction_sync(tx).await?
    };
    if !receipt.status() {
        return Err(Error::Reverted { tx_hash: receipt.transaction_hash });
    }
    Ok(receipt)
}
