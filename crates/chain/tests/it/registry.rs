//! The registry on a real anvil: deploy from the artifact, roles, attest, read back through
//! alloy and `cast`, revoke, scoped records, typed reverts, gas from receipts, the example
//! contracts.

use std::process::Command;

use alloy::primitives::{Address, B256, FixedBytes, U256, aliases::U40, b256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::signers::{Signer, local::PrivateKeySigner};
use alloy::sol_types::SolCall;
use anyhow::{Context, Result, ensure};
use honnin_chain::bindings::{IKycRegistry, KycDrop, KycRegistry, OwnedWallet};
use honnin_chain::tools::{Tool, locate};
use honnin_core::ScopeName;
use honnin_core::attestation::RevocationReason;

use crate::util::{Chain, calldata_gas, record, send, wallet};

/// `cast call <registry> "isVerified(address)(bool)" <wallet>` against the test's anvil.
fn cast_is_verified(chain: &Chain, who: Address) -> Result<String> {
    cast_call(chain, "isVerified(address)(bool)", &[who.to_string()])
}

/// `cast call <registry> "isVerified(address,bytes32)(bool)" <wallet> <scope>`.
fn cast_is_verified_in(chain: &Chain, who: Address, scope: B256) -> Result<String> {
    cast_call(chain, "isVerified(address,bytes32)(bool)", &[who.to_string(), scope.to_string()])
}

/// `cast call <registry> <signature> <args…>` against the test's anvil: the trimmed output.
fn cast_call(chain: &Chain, signature: &str, args: &[String]) -> Result<String> {
    let out = Command::new(locate(Tool::Cast)?)
        .args(["call", "--rpc-url", &chain.anvil.endpoint()])
        .arg(chain.registry.address().to_string())
        .arg(signature)
        .args(args)
        .output()?;
    ensure!(out.status.success(), "cast failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// The id of the scope `name` as honnin-core derives it, as the contract's `bytes32`.
fn scope_id(name: &str) -> Result<B256> {
    Ok(*ScopeName::new(name)?.id().as_b256())
}

#[tokio::test]
async fn deploys_from_artifact_attests_and_reads_back_with_alloy_and_cast() -> Result<()> {
    let chain = Chain::start().await?;
    let registry = &chain.registry;
    let alice = wallet(1);
    let bob = wallet(2);

    let attester_role = registry.ATTESTER_ROLE().call().await?;
    assert!(registry.hasRole(attester_role, chain.attester).call().await?);
    assert!(!registry.hasRole(attester_role, chain.admin).call().await?);
    assert!(!registry.isVerified_1(alice).call().await?);
    assert_eq!(cast_is_verified(&chain, alice)?, "false");

    let rec = record(alice, 2);
    let receipt = chain.attest(vec![rec.clone()]).await?;
    let attested = receipt
        .decoded_log::<KycRegistry::Attested>()
        .context("no Attested event in the receipt")?;
    assert_eq!(attested.wallet, alice);
    assert_eq!(attested.level, 2);
    assert_eq!(attested.expiresAt, rec.expiresAt);

    assert!(registry.isVerified_1(alice).call().await?);
    assert!(registry.isVerified_0(alice, 2).call().await?);
    assert!(!registry.isVerified_0(alice, 3).call().await?);
    assert_eq!(cast_is_verified(&chain, alice)?, "true");
    assert_eq!(cast_is_verified(&chain, bob)?, "false");

    let stored = registry.attestationOf_1(alice).call().await?;
    assert_eq!(
        stored,
        IKycRegistry::Attestation {
            level: 2,
            claims: 1,
            issuedAt: rec.issuedAt,
            expiresAt: rec.expiresAt,
            revocationReason: 0,
            revoked: false,
        }
    );

    let receipt = chain.revoke(vec![alice, bob], RevocationReason::Holder.code()).await?;
    let revoked = receipt.decoded_log::<KycRegistry::Revoked>().context("no Revoked event")?;
    assert_eq!((revoked.wallet, revoked.reason), (alice, 1));
    assert_eq!(receipt.inner.logs().len(), 1, "bob has no record and is skipped");
    assert_eq!(cast_is_verified(&chain, alice)?, "false");
    assert!(registry.attestationOf_1(alice).call().await?.revoked);
    Ok(())
}

/// Records in a scope: written by `attestScoped`, read back per scope through alloy and `cast`,
/// in no other scope and not global, revoked by `revokeScoped` there only.
#[tokio::test]
async fn scoped_records_live_apart_and_read_back_with_alloy_and_cast() -> Result<()> {
    let chain = Chain::start().await?;
    let registry = &chain.registry;
    let (a, b) = (scope_id("kyc-drop")?, scope_id("app.example.com")?);
    // honnin-core's derivation is the one IKycRegistry documents (the Foundry test's vectors).
    assert_eq!(a, b256!("0xa2860775b69a13371898a26db1b8c47b44c4cdadaed3401a3648e3d2d6e433d1"));
    assert_eq!(b, b256!("0xd67c7a342fde3c271bd600c2a6807dd487839f22a397a3cec65bafb322e628bc"));
    let (alice, bob, carol) = (wallet(1), wallet(2), wallet(3));

    let mut rec = record(alice, 2);
    rec.claims = 3;
    let receipt = chain.attest_in(Some(a), vec![rec.clone(), record(bob, 1)]).await?;
    let logs: Vec<_> = receipt
        .inner
        .logs()
        .iter()
        .map(|l| l.log_decode::<KycRegistry::ScopedAttested>().map(|l| l.inner.data))
        .collect::<Result<_, _>>()?;
    assert_eq!(logs.len(), 2);
    assert_eq!((logs[0].scope, logs[0].wallet, logs[0].level), (a, alice, 2));
    assert_eq!(logs[0].expiresAt, rec.expiresAt);
    assert_eq!((logs[1].scope, logs[1].wallet), (a, bob));
    assert!(receipt.decoded_log::<KycRegistry::Attested>().is_none(), "no global event");

    assert!(registry.isVerified_2(alice, a).call().await?);
    assert!(!registry.isVerified_2(alice, b).call().await?);
    assert!(!registry.isVerified_1(alice).call().await?, "not global");
    assert!(registry.hasClaims_1(alice, a, 3).call().await?);
    assert!(!registry.hasClaims_1(alice, a, 4).call().await?);
    assert!(!registry.hasClaims_0(alice, 0).call().await?);
    assert_eq!(
        registry.attestationOf_0(alice, a).call().await?,
        IKycRegistry::Attestation {
            level: 2,
            claims: 3,
            issuedAt: rec.issuedAt,
            expiresAt: rec.expiresAt,
            revocationReason: 0,
            revoked: false,
        }
    );
    assert_eq!(registry.attestationOf_1(alice).call().await?.expiresAt, U40::ZERO);
    assert_eq!(cast_is_verified_in(&chain, alice, a)?, "true");
    assert_eq!(cast_is_verified_in(&chain, alice, b)?, "false");
    assert_eq!(cast_is_verified(&chain, alice)?, "false");

    let receipt =
        chain.revoke_in(Some(a), vec![alice, carol], RevocationReason::Holder.code()).await?;
    assert_eq!(receipt.inner.logs().len(), 1, "carol has no record in the scope");
    let revoked =
        receipt.decoded_log::<KycRegistry::ScopedRevoked>().context("no ScopedRevoked event")?;
    assert_eq!((revoked.scope, revoked.wallet, revoked.reason), (a, alice, 1));
    assert!(!registry.isVerified_2(alice, a).call().await?);
    assert!(registry.isVerified_2(bob, a).call().await?);
    assert_eq!(cast_is_verified_in(&chain, alice, a)?, "false");

    // Scope 0 is never a scope: reads and writes say so with a typed error.
    let invalid = Some(KycRegistry::KycRegistryErrors::KycRegistryInvalidScope(
        KycRegistry::KycRegistryInvalidScope {},
    ));
    let err = registry.isVerified_2(alice, B256::ZERO).call().await.unwrap_err();
    assert_eq!(err.as_decoded_interface_error::<KycRegistry::KycRegistryErrors>(), invalid);
    let err = registry
        .attestScoped(B256::ZERO, vec![record(alice, 1)])
        .from(chain.attester)
        .call()
        .await
        .unwrap_err();
    assert_eq!(err.as_decoded_interface_error::<KycRegistry::KycRegistryErrors>(), invalid);
    Ok(())
}

#[tokio::test]
async fn resending_a_batch_keeps_the_state() -> Result<()> {
    let chain = Chain::start().await?;
    let batch = vec![record(wallet(1), 1), record(wallet(2), 1)];
    chain.attest(batch.clone()).await?;
    chain.revoke(vec![wallet(1)], RevocationReason::Operator.code()).await?;
    let receipt = chain.attest(batch).await?;
    assert!(receipt.inner.logs().is_empty(), "a resend writes nothing");
    assert!(chain.registry.attestationOf_1(wallet(1)).call().await?.revoked);
    assert!(chain.registry.isVerified_1(wallet(2)).call().await?);
    Ok(())
}

#[tokio::test]
async fn reverts_decode_into_typed_errors() -> Result<()> {
    let chain = Chain::start().await?;
    let registry = &chain.registry;

    let mut expired = record(wallet(1), 1);
    expired.issuedAt = U40::from(1_000);
    expired.expiresAt = U40::from(2_000);
    let err = registry.attest(vec![expired]).from(chain.attester).call().await.unwrap_err();
    let decoded = err.as_decoded_interface_error::<KycRegistry::KycRegistryErrors>();
    assert_eq!(
        decoded,
        Some(KycRegistry::KycRegistryErrors::KycRegistryInvalidExpiry(
            KycRegistry::KycRegistryInvalidExpiry {
                wallet: wallet(1),
                issuedAt: U40::from(1_000),
                expiresAt: U40::from(2_000),
            }
        ))
    );

    let err =
        registry.attest(vec![record(wallet(1), 1)]).from(chain.revoker).call().await.unwrap_err();
    let decoded = err.as_decoded_interface_error::<KycRegistry::KycRegistryErrors>();
    assert_eq!(
        decoded,
        Some(KycRegistry::KycRegistryErrors::AccessControlUnauthorizedAccount(
            KycRegistry::AccessControlUnauthorizedAccount {
                account: chain.revoker,
                neededRole: registry.ATTESTER_ROLE().call().await?,
            }
        ))
    );

    send(&chain.provider, registry.pause().from(chain.admin).into_transaction_request()).await?;
    let err =
        registry.attest(vec![record(wallet(1), 1)]).from(chain.attester).call().await.unwrap_err();
    let decoded = err.as_decoded_interface_error::<KycRegistry::KycRegistryErrors>();
    assert_eq!(
        decoded,
        Some(KycRegistry::KycRegistryErrors::EnforcedPause(KycRegistry::EnforcedPause {}))
    );
    Ok(())
}

/// The contract accepts exactly the reason codes honnin-core defines.
#[tokio::test]
async fn revocation_codes_match_honnin_core() -> Result<()> {
    let chain = Chain::start().await?;
    chain.attest(vec![record(wallet(1), 1)]).await?;
    for code in 0..=u8::MAX {
        let accepted =
            chain.registry.revoke(vec![wallet(1)], code).from(chain.revoker).call().await.is_ok();
        assert_eq!(accepted, RevocationReason::try_from(code).is_ok(), "reason code {code}");
    }
    Ok(())
}

/// The gas goals, from real receipts (whole transaction, 21,000 base included).
#[tokio::test]
#[allow(clippy::print_stderr)] // the figures are the point: run with --nocapture to see them
async fn gas_goals_hold_on_anvil() -> Result<()> {
    let chain = Chain::start().await?;

    let one = chain.attest(vec![record(wallet(0), 1)]).await?.gas_used;
    let batch: Vec<_> = (1..=100).map(|i| record(wallet(i), 1)).collect();
    let hundred = chain.attest(batch.clone()).await?.gas_used;
    let mut renewed = batch.clone();
    for r in &mut renewed {
        r.issuedAt += U40::from(1);
    }
    let renew = chain.attest(renewed).await?.gas_used;
    let wallets: Vec<_> = batch.iter().map(|r| r.wallet).collect();
    let revoke = chain.revoke(wallets, RevocationReason::Operator.code()).await?.gas_used;

    // A cold isVerified (see `read_gas`).
    let (estimate, is_verified) =
        read_gas(&chain, KycRegistry::isVerified_1Call { wallet: wallet(0) }.abi_encode()).await?;

    // The same in a scope: new records there although the wallets have global ones.
    let scope = Some(scope_id("kyc-drop")?);
    let scoped_one = chain.attest_in(scope, vec![record(wallet(0), 1)]).await?.gas_used;
    let scoped_hundred = chain.attest_in(scope, batch.clone()).await?.gas_used;
    let mut renewed = batch.clone();
    for r in &mut renewed {
        r.issuedAt += U40::from(1);
    }
    let scoped_renew = chain.attest_in(scope, renewed).await?.gas_used;
    let wallets: Vec<_> = batch.iter().map(|r| r.wallet).collect();
    let scoped_revoke =
        chain.revoke_in(scope, wallets, RevocationReason::Operator.code()).await?.gas_used;
    let call = KycRegistry::isVerified_2Call { wallet: wallet(0), scope: scope_id("kyc-drop")? };
    let (scoped_estimate, scoped_is_verified) = read_gas(&chain, call.abi_encode()).await?;

    eprintln!("| operation | gas (whole tx) | per record | goal |");
    eprintln!("| attest 1 record | {one} | {one} | 50,000 |");
    eprintln!("| attest 100 new records | {hundred} | {} | 26,000 |", hundred / 100);
    eprintln!("| renew 100 records | {renew} | {} | - |", renew / 100);
    eprintln!("| revoke 100 wallets | {revoke} | {} | 10,000 |", revoke / 100);
    eprintln!(
        "| isVerified, cold slot (execution) | {estimate} (estimate) | {is_verified} | 5,000 |"
    );
    eprintln!("| attestScoped 1 record | {scoped_one} | {scoped_one} | - |");
    eprintln!(
        "| attestScoped 100 new records | {scoped_hundred} | {} | 26,000 |",
        scoped_hundred / 100
    );
    eprintln!("| renew 100 scoped records | {scoped_renew} | {} | - |", scoped_renew / 100);
    eprintln!("| revokeScoped 100 wallets | {scoped_revoke} | {} | 10,000 |", scoped_revoke / 100);
    eprintln!(
        "| isVerified(wallet, scope), cold slot (execution) | {scoped_estimate} (estimate) | {scoped_is_verified} | 5,000 |"
    );

    assert!(one <= 50_000, "one attestation: {one}");
    assert!(hundred / 100 <= 26_000, "batch of 100: {hundred}");
    assert!(revoke / 100 <= 10_000, "revoke of 100: {revoke}");
    assert!(is_verified <= 5_000, "isVerified: {is_verified}");
    assert!(scoped_hundred / 100 <= 26_000, "scoped batch of 100: {scoped_hundred}");
    assert!(scoped_revoke / 100 <= 10_000, "scoped revoke of 100: {scoped_revoke}");
    assert!(scoped_is_verified <= 5_000, "scoped isVerified: {scoped_is_verified}");
    Ok(())
}

/// A read's gas: `eth_estimateGas` of a call transaction with `data` (the record's slot cold,
/// the `to` account warm as in every transaction), and that minus the intrinsic 21,000 and the
/// calldata: the registry's execution.
async fn read_gas(chain: &Chain, data: Vec<u8>) -> Result<(u64, u64)> {
    let tx = TransactionRequest::default().to(*chain.registry.address()).input(data.clone().into());
    let estimate = chain.provider.estimate_gas(tx).await?;
    Ok((estimate, estimate - 21_000 - calldata_gas(&data)))
}

/// The example contracts the end-to-end demo uses: an ERC-1271 wallet whose owner signs with
/// EIP-191, and a one-claim-per-verified-wallet drop that the wallet claims from.
#[tokio::test]
async fn contract_wallet_signs_and_claims_the_drop() -> Result<()> {
    let chain = Chain::start().await?;
    let owner_key =
        PrivateKeySigner::from_bytes(&FixedBytes::from_slice(&chain.anvil.keys()[3].to_bytes()))?;
    let owner = owner_key.address();

    let tx = OwnedWallet::deploy_builder(&chain.provider, owner).into_transaction_request();
    let contract_wallet =
        send(&chain.provider, tx.from(owner)).await?.contract_address.context("no address")?;
    let contract_wallet = OwnedWallet::new(contract_wallet, chain.provider.clone());

    let message = b"honnin.example wants you to prove control of this wallet";
    let signature = owner_key.sign_message(message).await?;
    let hash = alloy::primitives::eip191_hash_message(message);
    let magic = contract_wallet.isValidSignature(hash, signature.as_bytes().into()).call().await?;
    assert_eq!(magic, FixedBytes::from([0x16, 0x26, 0xba, 0x7e]));
    let stranger = PrivateKeySigner::random().sign_message(message).await?;
    let refused = contract_wallet.isValidSignature(hash, stranger.as_bytes().into()).call().await?;
    assert_eq!(refused, FixedBytes::from([0xff; 4]));

    let tx = KycDrop::deploy_builder(&chain.provider, *chain.registry.address(), U256::from(100))
        .into_transaction_request();
    let drop = send(&chain.provider, tx.from(chain.admin))
        .await?
        .contract_address
        .context("no address")?;
    let drop = KycDrop::new(drop, chain.provider.clone());

    let claim = KycDrop::claimCall {}.abi_encode();
    let execute = contract_wallet.execute(*drop.address(), U256::ZERO, claim.clone().into());
    assert!(execute.clone().from(owner).call().await.is_err(), "unverified wallet claimed");

    chain.attest(vec![record(*contract_wallet.address(), 1)]).await?;
    send(&chain.provider, execute.from(owner).into_transaction_request()).await?;
    assert_eq!(drop.balanceOf(*contract_wallet.address()).call().await?, U256::from(100));
    assert!(drop.claimed(*contract_wallet.address()).call().await?);
    Ok(())
}
