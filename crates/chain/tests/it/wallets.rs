//! ERC-1271 checks through `RpcContractWallets` against a real anvil.

use alloy::primitives::eip191_hash_message;
use alloy::providers::Provider;
use alloy::signers::{Signer, local::PrivateKeySigner};
use anyhow::{Context, Result};
use honnin_chain::bindings::OwnedWallet;
use honnin_chain::wallets::RpcContractWallets;
use honnin_core::ContractWallets;

use crate::rig::signer;
use crate::util::{Chain, send};

#[tokio::test]
async fn contract_wallet_accepts_its_owner_only() -> Result<()> {
    let chain = Chain::start().await?;
    let owner_key = signer(&chain.anvil, 3)?;
    let owner = owner_key.address();
    let tx = OwnedWallet::deploy_builder(&chain.provider, owner).into_transaction_request();
    let contract_wallet =
        send(&chain.provider, tx.from(owner)).await?.contract_address.context("no address")?;
    let wallets = RpcContractWallets::new(chain.provider.clone().erased());

    let message = b"honnin.test asks you to prove control of this wallet";
    let hash = eip191_hash_message(message);
    let by_owner = owner_key.sign_message(message).await?.as_bytes();
    let by_stranger = PrivateKeySigner::random().sign_message(message).await?.as_bytes();

    assert!(wallets.is_valid_signature(contract_wallet, hash, &by_owner).await?);
    // OwnedWallet answers 0xffffffff for a stranger: any value but the magic one is a refusal.
    assert!(!wallets.is_valid_signature(contract_wallet, hash, &by_stranger).await?);
    // Signed for another message.
    let other = eip191_hash_message(b"something else");
    assert!(!wallets.is_valid_signature(contract_wallet, other, &by_owner).await?);
    // An EOA has no code: the call returns nothing.
    assert!(!wallets.is_valid_signature(owner, hash, &by_owner).await?);
    // A contract without isValidSignature reverts.
    assert!(!wallets.is_valid_signature(*chain.registry.address(), hash, &by_owner).await?);
    Ok(())
}

#[tokio::test]
async fn unreachable_node_is_an_error_not_a_refusal() -> Result<()> {
    // A port nobody listens on (bound then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let wallets = RpcContractWallets::connect_http(format!("http://127.0.0.1:{port}").parse()?);
    let result = wallets
        .is_valid_signature(
            alloy::primitives::Address::repeat_byte(1),
            Default::default(),
            &[0; 65],
        )
        .await;
    assert!(result.is_err(), "{result:?}");
    Ok(())
}
