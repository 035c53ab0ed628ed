//! Scoped attestations end to end, through the API, the chain writer and anvil: one person,
//! two dApps (scopes), a wallet in each; each verified in its own scope only, on chain and in
//! the API; the stored scope pseudonyms differ and nothing stored or emitted joins them; a
//! second wallet in one scope hits the policy; revoking the card kills both.

use std::time::{Duration, Instant};

use alloy::{
    primitives::{Address, keccak256},
    providers::Provider as _,
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
};
use anyhow::{Result, bail, ensure};
use honnin_api::ChallengeResponse;
use honnin_core::{Scope, ScopeName};
use honnin_e2e::{Client, Deployment, Options, Person, request, root};
use honnin_jpki::RevocationReason as CardReason;

use crate::support::CONFIRM;

/// A challenge to attest `wallet` in `scope`.
async fn scoped_challenge(
    client: &Client,
    wallet: Address,
    scope: &str,
) -> Result<ChallengeResponse> {
    let body = serde_json::json!({ "wallet": wallet.to_string(), "scope": scope });
    let reply = client.post("/v1/challenges", &body).await?;
    ensure!(reply.status == 201, "challenge: {} {}", reply.status, reply.body);
    Ok(serde_json::from_value(reply.body)?)
}

/// Waits until `isVerified(wallet, scope)` answers `expected`.
async fn until_scope_says(
    d: &Deployment,
    wallet: Address,
    scope: &Scope,
    expected: bool,
) -> Result<()> {
    let deadline = Instant::now() + CONFIRM;
    while d.chain.is_verified_in(wallet, scope).await? != expected {
        if Instant::now() > deadline {
            bail!("isVerified({wallet}, {scope}) still {} after {CONFIRM:?}", !expected);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// The wallet's status in `scope` as the API answers it.
async fn status_in(client: &Client, wallet: Address, scope: &str) -> Result<(u16, String)> {
    let reply = client.get(&format!("/v1/attestations/{wallet}?scope={scope}")).await?;
    Ok((reply.status, reply.body["status"].as_str().unwrap_or_default().to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_person_two_scopes_two_wallets_unlinkable_and_dying_with_the_card() -> Result<()> {
    let (a, b) = (ScopeName::new("drop-a")?, ScopeName::new("drop-b")?);
    let d = Deployment::start(Options { scopes: vec![a.clone(), b.clone()], ..Options::default() })
        .await?;
    let client = d.client();
    let person = Person::new("scopes", 0);
    let second = PrivateKeySigner::from_bytes(&keccak256("honnin-e2e/scopes/second-wallet"))?;
    let (wallet_a, wallet_b) = (person.address(), second.address());

    // Both wallets attested with the one card, each in its scope.
    for (scope, wallet) in [(&a, &person.wallet), (&b, &second)] {
        let challenge = scoped_challenge(&client, wallet.address(), scope.as_str()).await?;
        ensure!(challenge.message.contains(&format!("\nScope: {scope} ({})\n", scope.id())));
        let accepted = client.attest(&request(&challenge, &person.card, wallet)).await?;
        assert_eq!(accepted.scope, Some(scope.id().to_string()));
    }
    until_scope_says(&d, wallet_a, &a.id(), true).await?;
    until_scope_says(&d, wallet_b, &b.id(), true).await?;
    // Each in its own scope only: not in the other, not globally.
    assert!(!d.chain.is_verified_in(wallet_a, &b.id()).await?);
    assert!(!d.chain.is_verified_in(wallet_b, &a.id()).await?);
    assert!(!d.chain.is_verified(wallet_a).await? && !d.chain.is_verified(wallet_b).await?);
    assert_eq!(status_in(&client, wallet_a, "drop-a").await?, (200, "active".into()));
    assert_eq!(status_in(&client, wallet_a, "drop-b").await?.0, 404);
    assert_eq!(client.status(wallet_a).await?.status, 404, "no global record");
    let record = d.chain.attestation_in(wallet_b, &b.id()).await?;
    assert_eq!((record.level, record.claims, record.revoked), (1, 1, false));

    // A second wallet in one scope: the policy (one wallet per person) holds there.
    let third = PrivateKeySigner::from_bytes(&keccak256("honnin-e2e/scopes/third-wallet"))?;
    let challenge = scoped_challenge(&client, third.address(), "drop-a").await?;
    client
        .submit(&request(&challenge, &person.card, &third))
        .await?
        .assert_problem(409, "wallet_limit_reached");

    // What the chain shows: each event names its scope and one wallet; no event names both
    // wallets or both scopes.
    let logs =
        d.chain.provider.get_logs(&Filter::new().address(d.chain.registry).from_block(0)).await?;
    let scoped: Vec<_> = logs.iter().filter(|log| log.topics().len() == 3).collect();
    ensure!(scoped.len() == 2, "two ScopedAttested events, got {}", scoped.len());
    for log in &scoped {
        let (scope, wallet) = (log.topics()[1], Address::from_word(log.topics()[2]));
        ensure!(
            (scope == *a.id().as_b256() && wallet == wallet_a)
                || (scope == *b.id().as_b256() && wallet == wallet_b),
            "an event joins a scope and another scope's wallet"
        );
        ensure!(!log.data().data.windows(20).any(|w| w == wallet_a || w == wallet_b));
    }

    // What the database holds: the person under two scoped pseudonyms and certificate hashes,
    // all different, each present (the scan finds what it looks for), no global one.
    let dump = d.pg_dump().await?;
    let (key_id, serial) = (root().key_id(), person.card.serial());
    let mut hashes = Vec::new();
    for scope in [a.id(), b.id()] {
        hashes.push(hex::encode(d.pepper.pseudonym_in(Some(&scope), key_id, serial).as_bytes()));
        hashes.push(hex::encode(d.pepper.cert_hash_in(Some(&scope), key_id, serial).as_bytes()));
    }
    for hash in &hashes {
        ensure!(dump.contains(hash.as_str()), "a stored scoped hash is missing");
    }
    ensure!(hashes.iter().collect::<std::collections::BTreeSet<_>>().len() == 4);
    ensure!(!dump.contains(&hex::encode(d.pepper.pseudonym(key_id, serial).as_bytes())));
    let pool = d.pool().await?;
    let persons: Vec<(i64,)> = sqlx::query_as(
        "SELECT DISTINCT person_id FROM attestations WHERE person_id IS NOT NULL ORDER BY 1",
    )
    .fetch_all(&pool)
    .await?;
    assert_eq!(persons.len(), 2, "each scope's record points at its own person row");

    // The card is revoked: one sync cycle reaches the record in every scope.
    d.publish_crl(&[(person.card.serial().to_vec(), CardReason::KeyCompromise)])?;
    let report = d.revocation_sync()?.cycle(false, &mut |_| {}).await?;
    assert_eq!(report.attestations_revoked(), 2, "{report:?}");
    until_scope_says(&d, wallet_a, &a.id(), false).await?;
    until_scope_says(&d, wallet_b, &b.id(), false).await?;
    assert_eq!(d.chain.attestation_in(wallet_a, &a.id()).await?.revocationReason, 3);
    assert_eq!(status_in(&client, wallet_b, "drop-b").await?, (200, "revoked".into()));
    Ok(())
}
