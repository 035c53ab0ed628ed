//! The whole flow to `active` on chain; the ERC-1271 wallet; expiry; rotation and the limit.

use std::num::NonZeroU32;

use alloy::primitives::eip191_hash_message;
use anyhow::{Context as _, Result};
use honnin_chain::bindings::OwnedWallet;
use honnin_core::{AtLimit, Policy};
use honnin_e2e::{Deployment, Options, Person, anvil_signer, b64, personal_sign};

use crate::support::CONFIRM;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_flow_to_active_on_chain() -> Result<()> {
    let d = Deployment::start(Options::default()).await?;
    let client = d.client();
    let person = Person::new("full-flow", 1);
    let wallet = person.address();
    assert!(!d.chain.is_verified(wallet).await?, "not verified before");

    let challenge = client.challenge(wallet).await?;
    assert!(challenge.message.contains(&wallet.to_checksum(None)));
    assert!(challenge.message.contains(&d.chain.registry.to_checksum(None)));
    let request = person.request(&challenge);
    let accepted = client.attest(&request).await?;
    assert_eq!(accepted.wallet, wallet.to_checksum(None));
    assert_eq!(accepted.status.as_str(), "pending");

    let view = client.wait_for(wallet, "active", CONFIRM).await?;
    assert_eq!(view.attestation_id, accepted.attestation_id);
    let tx_hash = view.tx_hash.clone().context("an active attestation has a tx hash")?;
    let block = view.block_number.context("an active attestation has a block")?;

    // The chain agrees: the transaction is in that block, sent to the registry, and the
    // registry says the wallet is verified, with the API's expiry.
    let receipt =
        alloy::providers::Provider::get_transaction_receipt(&d.chain.provider, tx_hash.parse()?)
            .await?
            .context("the receipt exists")?;
    assert!(receipt.status());
    assert_eq!(receipt.block_number, Some(block));
    assert_eq!(receipt.to, Some(d.chain.registry));
    assert!(d.chain.is_verified(wallet).await?, "isVerified after the writer confirmed");
    let record = d.chain.attestation_of(wallet).await?;
    let expires = time::OffsetDateTime::parse(
        &accepted.expires_at,
        &time::format_description::well_known::Rfc3339,
    )?;
    assert_eq!(record.expiresAt.to::<u64>(), u64::try_from(expires.unix_timestamp())?);

    // Re-sending the same request: the same answer, no second attestation.
    let again = client.submit(&request).await?;
    assert_eq!(again.status, 202, "{}", again.body);
    assert_eq!(again.body["attestation_id"], accepted.attestation_id);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_wallet_erc1271() -> Result<()> {
    let d = Deployment::start(Options::default()).await?;
    let client = d.client();
    let owner = anvil_signer(&d.chain.anvil, 3);
    let deploy = OwnedWallet::deploy_builder(&d.chain.provider, owner.address())
        .from(owner.address())
        .into_transaction_request();
    let receipt = honnin_chain::test_utils::send_sync(&d.chain.provider, deploy).await?;
    let contract_wallet = receipt.contract_address.context("deployed")?;

    let person = Person::new("erc1271", 1);
    let challenge = client.challenge(contract_wallet).await?;
    let card_signature = b64(&person.card.sign(challenge.message.as_bytes()));
    // A stranger's signature: the contract wallet does not vouch for it.
    let stranger = Person::new("erc1271-stranger", 2);
    let refused = client
        .submit(&honnin_api::AttestationRequest {
            challenge_id: challenge.id.clone(),
            certificate: b64(person.card.der()),
            card_signature: card_signature.clone(),
            wallet_signature: personal_sign(&stranger.wallet, &challenge.message),
            signing_certificate: None,
            signing_signature: None,
        })
        .await?;
    refused.assert_problem(422, "wallet_mismatch");

    // The owner's signature over the message, checked by the contract's isValidSignature.
    let challenge = client.challenge(contract_wallet).await?;
    let hash = eip191_hash_message(challenge.message.as_bytes());
    assert_eq!(hash, honnin_core::wallet::eip191_hash(&challenge.message));
    let accepted = client
        .attest(&honnin_api::AttestationRequest {
            challenge_id: challenge.id.clone(),
            certificate: b64(person.card.der()),
            card_signature: b64(&person.card.sign(challenge.message.as_bytes())),
            wallet_signature: personal_sign(&owner, &challenge.message),
            signing_certificate: None,
            signing_signature: None,
        })
        .await?;
    assert_eq!(accepted.wallet, contract_wallet.to_checksum(None));
    client.wait_for(contract_wallet, "active", CONFIRM).await?;
    assert!(d.chain.is_verified(contract_wallet).await?);
    assert!(!d.chain.is_verified(owner.address()).await?, "the owner EOA is not attested");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_never_after_the_certificate_and_enforced_on_chain() -> Result<()> {
    let d = Deployment::start(Options::default()).await?;
    let client = d.client();
    let not_after =
        time::OffsetDateTime::now_utc().replace_nanosecond(0)? + time::Duration::hours(2);
    let person = Person::with_spec("expiry", 1, |spec| spec.not_after = not_after);
    let accepted = client.flow(&person).await?;
    let expires = time::OffsetDateTime::parse(
        &accepted.expires_at,
        &time::format_description::well_known::Rfc3339,
    )?;
    assert_eq!(expires, not_after, "capped at the certificate's notAfter");
    client.wait_for(person.address(), "active", CONFIRM).await?;
    assert!(d.chain.is_verified(person.address()).await?);

    // Three hours later on chain, the registry no longer vouches for the wallet.
    d.chain.advance_time(3 * 3600).await?;
    assert!(!d.chain.is_verified(person.address()).await?, "expired on chain");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_revokes_the_old_wallet_on_chain() -> Result<()> {
    let policy = Policy::new(NonZeroU32::MIN, AtLimit::Rotate, time::Duration::days(365))?;
    let d = Deployment::start(Options { policy, ..Options::default() }).await?;
    let client = d.client();
    let first = Person::new("rotation", 1);
    // The same card (same certificate: same person) with a second wallet.
    let mut second = Person::new("rotation", 2);
    second.card = first.card.clone();
    second.subject_id = first.subject_id.clone();

    client.flow(&first).await?;
    client.wait_for(first.address(), "active", CONFIRM).await?;
    assert!(d.chain.is_verified(first.address()).await?);

    client.flow(&second).await?;
    client.wait_for(second.address(), "active", CONFIRM).await?;
    let old = client.wait_for(first.address(), "revoked", CONFIRM).await?;
    assert_eq!(old.status.as_str(), "revoked");
    assert!(d.chain.is_verified(second.address()).await?, "the new wallet is verified");
    assert!(!d.chain.is_verified(first.address()).await?, "the old wallet was revoked on chain");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusal_at_the_wallet_limit() -> Result<()> {
    let d = Deployment::start(Options::default()).await?;
    let client = d.client();
    let first = Person::new("limit", 1);
    let mut second = Person::new("limit", 2);
    second.card = first.card.clone();
    client.flow(&first).await?;
    client.wait_for(first.address(), "active", CONFIRM).await?;

    let challenge = client.challenge(second.address()).await?;
    let reply = client.submit(&second.request(&challenge)).await?;
    reply.assert_problem(409, "wallet_limit_reached");
    assert_eq!(client.status(second.address()).await?.status, 404);
    assert!(d.chain.is_verified(first.address()).await?, "the first wallet stays verified");
    assert!(!d.chain.is_verified(second.address()).await?);
    Ok(())
}
