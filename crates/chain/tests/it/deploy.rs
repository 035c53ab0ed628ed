//! `honnin_chain::deploy` against a real anvil.

use alloy::providers::{Provider, ProviderBuilder};
use anyhow::{Context, Result};
use honnin_chain::bindings::KycRegistry;
use honnin_chain::test_utils::spawn_anvil;
use honnin_chain::writer::AttesterKey;
use honnin_chain::{DeployOptions, deploy, deploy_http};

use crate::rig::signer;

#[tokio::test]
async fn deploys_and_hands_roles_over() -> Result<()> {
    let anvil = spawn_anvil()?;
    let provider = ProviderBuilder::new()
        .wallet(anvil.wallet().context("no keys")?)
        .connect_http(anvil.endpoint_url());
    let [deployer, admin, attester, revoker] = [0, 1, 2, 3].map(|i| anvil.addresses()[i]);
    let options = DeployOptions {
        admin: Some(admin),
        attester: Some(attester),
        revoker: Some(revoker),
        poll: false,
    };
    let deployed = deploy(&provider, deployer, &options).await?;
    assert_eq!(deployed.chain_id, anvil.chain_id());
    let registry = KycRegistry::new(deployed.registry, &provider);
    let (admin_role, attester_role, revoker_role) = (
        registry.DEFAULT_ADMIN_ROLE().call().await?,
        registry.ATTESTER_ROLE().call().await?,
        registry.REVOKER_ROLE().call().await?,
    );
    assert!(registry.hasRole(admin_role, admin).call().await?);
    assert!(!registry.hasRole(admin_role, deployer).call().await?, "deployer renounced admin");
    assert!(registry.hasRole(attester_role, attester).call().await?);
    assert!(!registry.hasRole(attester_role, revoker).call().await?);
    assert!(registry.hasRole(revoker_role, revoker).call().await?);
    let receipt = provider.get_transaction_receipt(deployed.tx_hash).await?.context("receipt")?;
    assert_eq!(receipt.contract_address, Some(deployed.registry));
    Ok(())
}

#[tokio::test]
async fn deploy_http_defaults_every_role_to_the_key_and_polls_if_asked() -> Result<()> {
    let anvil = spawn_anvil()?;
    let key = AttesterKey::from(signer(&anvil, 4)?);
    let options = DeployOptions { poll: true, ..Default::default() };
    let deployed = deploy_http(&anvil.endpoint(), &key, &options).await?;
    assert_eq!(
        (deployed.admin, deployed.attester, deployed.revoker),
        (key.address(), key.address(), key.address())
    );
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let registry = KycRegistry::new(deployed.registry, &provider);
    let revoker_role = registry.REVOKER_ROLE().call().await?;
    assert!(registry.hasRole(revoker_role, key.address()).call().await?);
    assert!(deploy_http("not a url", &key, &options).await.is_err());
    Ok(())
}
