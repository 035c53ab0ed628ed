//! Attestations follow the card (issue 5), end to end: a certificate revoked in the CRL or by
//! OCSP is revoked on chain within one sync cycle; renewal with and without the old → new link;
//! expiry as the API and the chain both see it; self-revocation by an EOA and by an ERC-1271
//! wallet; erasure, then a scan of the database.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use anyhow::{Context as _, Result, bail, ensure};
use axum::{body::Bytes, extract::State, routing::post};
use der::Decode as _;
use honnin_api::{ChallengeResponse, ErasureRequest, RevocationRequest};
use honnin_chain::bindings::OwnedWallet;
use honnin_core::{AuditEventKind, AuditQuery};
use honnin_e2e::{
    Client, Deployment, JobIntervals, Options, Person, anvil_signer, b64, personal_sign, request,
    root,
};
use honnin_jpki::{
    OcspSource, RevocationReason as CardReason, RevocationStatus,
    test_utils::{OcspSigner, OcspSpec},
};

use crate::support::CONFIRM;

/// Waits until the registry answers `expected` for `isVerified(wallet)`.
async fn until_chain_says(d: &Deployment, wallet: Address, expected: bool) -> Result<()> {
    let deadline = Instant::now() + CONFIRM;
    loop {
        if d.chain.is_verified(wallet).await? == expected {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("isVerified({wallet}) still {} after {CONFIRM:?}", !expected);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A challenge with `purpose` for `wallet`.
async fn challenge_for(
    client: &Client,
    wallet: Address,
    purpose: &str,
) -> Result<ChallengeResponse> {
    let reply = client
        .post(
            "/v1/challenges",
            &serde_json::json!({ "wallet": wallet.to_string(), "purpose": purpose }),
        )
        .await?;
    ensure!(reply.status == 201, "challenge: {} {}", reply.status, reply.body);
    Ok(serde_json::from_value(reply.body)?)
}

/// The audit rows of `kind` for attestation `id` (as the API printed it).
async fn audit_codes(d: &Deployment, kind: AuditEventKind, id: &str) -> Result<Vec<String>> {
    let rows = d
        .instance()
        .store
        .audit_page(&AuditQuery { kinds: vec![kind], limit: 1_000, ..AuditQuery::default() })
        .await?;
    Ok(rows
        .into_iter()
        .filter(|r| r.event.attestation_id.is_some_and(|a| a.to_string() == id))
        .map(|r| r.event.code.unwrap_or_default())
        .collect())
}

/// Waits until the audit log holds a `kind` event for attestation `id`; returns its codes.
async fn until_audited(d: &Deployment, kind: AuditEventKind, id: &str) -> Result<Vec<String>> {
    let deadline = Instant::now() + CONFIRM;
    loop {
        let codes = audit_codes(d, kind, id).await?;
        if !codes.is_empty() {
            return Ok(codes);
        }
        if Instant::now() > deadline {
            bail!("no {kind:?} event for {id} after {CONFIRM:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_revoked_in_the_crl_is_revoked_on_chain_within_one_cycle() -> Result<()> {
    let d = Deployment::start(Options::default()).await?;
    let client = d.client();
    let (revoked, kept) = (Person::new("crl-revoked", 1), Person::new("crl-kept", 2));
    let accepted = client.flow(&revoked).await?;
    client.flow(&kept).await?;
    client.wait_for(revoked.address(), "active", CONFIRM).await?;
    client.wait_for(kept.address(), "active", CONFIRM).await?;
    ensure!(d.chain.is_verified(revoked.address()).await?);

    d.publish_crl(&[(revoked.card.serial().to_vec(), CardReason::KeyCompromise)])?;
    let report = d.revocation_sync()?.cycle(false, &mut |_| {}).await?;
    ensure!(report.is_success(), "{report:?}");
    assert_eq!(report.attestations_revoked(), 1);

    // One cycle queued the revoke; the writer lands it with no further cycle.
    until_chain_says(&d, revoked.address(), false).await?;
    let view = client.wait_for(revoked.address(), "revoked", CONFIRM).await?;
    assert_eq!(view.attestation_id, accepted.attestation_id);
    ensure!(d.chain.is_verified(kept.address()).await?, "the other person is untouched");
    let on_chain = d.chain.attestation_of(revoked.address()).await?;
    assert_eq!(on_chain.revocationReason, honnin_core::RevocationReason::CertificateRevoked.code());
    assert_eq!(
        audit_codes(&d, AuditEventKind::AttestationRevoked, &accepted.attestation_id).await?,
        vec!["certificate_revoked".to_owned()]
    );
    // The writer audits both transactions it landed for this attestation.
    let id = &accepted.attestation_id;
    assert_eq!(until_audited(&d, AuditEventKind::AttestationConfirmed, id).await?.len(), 1);
    assert_eq!(
        until_audited(&d, AuditEventKind::RevocationConfirmed, id).await?,
        vec!["certificate_revoked".to_owned()]
    );

    // The API's own CRL source was handed the new CRL: the card is refused at once.
    let wallet = PrivateKeySigner::random();
    let challenge = client.challenge(wallet.address()).await?;
    client
        .submit(&request(&challenge, &revoked.card, &wallet))
        .await?
        .assert_problem(422, "revoked");
    Ok(())
}

/// A tiny OCSP responder over HTTP: answers for the simulated root, revoked for the serials in
/// its set, good otherwise.
async fn ocsp_responder(revoked: Arc<Mutex<BTreeSet<Vec<u8>>>>) -> Result<String> {
    async fn answer(State(revoked): State<Arc<Mutex<BTreeSet<Vec<u8>>>>>, body: Bytes) -> Vec<u8> {
        let request = x509_ocsp::OcspRequest::from_der(&body).expect("an OCSP request");
        let serial = request.tbs_request.request_list[0].req_cert.serial_number.as_bytes().to_vec();
        let status = if revoked.lock().expect("responder state").contains(&serial) {
            RevocationStatus::Revoked {
                reason: CardReason::KeyCompromise,
                time: time::OffsetDateTime::now_utc() - time::Duration::minutes(5),
            }
        } else {
            RevocationStatus::Good
        };
        root().ocsp_response(
            &body,
            &OcspSpec { status, signer: OcspSigner::Root, ..OcspSpec::default() },
        )
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let app = axum::Router::new().route("/", post(answer)).with_state(revoked);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ocsp_recheck_that_answers_revoked_revokes_on_chain() -> Result<()> {
    let d = Deployment::start(Options::default()).await?;
    let client = d.client();
    let person = Person::new("ocsp-recheck", 1);
    client.flow(&person).await?;
    client.wait_for(person.address(), "active", CONFIRM).await?;

    let revoked = Arc::new(Mutex::new(BTreeSet::new()));
    let url = ocsp_responder(revoked.clone()).await?;
    let sync = d
        .revocation_sync()?
        .with_recheck(Arc::new(OcspSource::new(Arc::new(root().anchors()), url)));
    let report = sync.cycle(true, &mut |_| {}).await?;
    ensure!(report.is_success(), "{report:?}");
    assert_eq!(report.attestations_revoked(), 0, "good: nothing to do");
    ensure!(d.chain.is_verified(person.address()).await?);

    revoked.lock().expect("responder state").insert(person.card.serial().to_vec());
    let report = sync.cycle(true, &mut |_| {}).await?;
    ensure!(report.is_success(), "{report:?}");
    assert_eq!(report.attestations_revoked(), 1);
    until_chain_says(&d, person.address(), false).await?;
    client.wait_for(person.address(), "revoked", CONFIRM).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewal_with_a_link_keeps_the_person_without_one_the_attestation_dies() -> Result<()> {
    // One wallet per person, refuse at the limit (the default policy).
    let d = Deployment::start(Options::default()).await?;
    let client = d.client();
    let linked_old = Person::new("renew-linked-old", 1);
    let linked_new = Person::new("renew-linked-new", 2);
    let lone_old = Person::new("renew-lone-old", 3);
    let lone_new = Person::new("renew-lone-new", 4);
    let linked = client.flow(&linked_old).await?;
    client.flow(&lone_old).await?;
    client.wait_for(linked_old.address(), "active", CONFIRM).await?;
    client.wait_for(lone_old.address(), "active", CONFIRM).await?;

    // Both old certificates are superseded (renewed); only one renewal's link is known.
    d.publish_links(&[(linked_old.card.serial(), linked_new.card.serial())])?;
    d.publish_crl(&[
        (linked_old.card.serial().to_vec(), CardReason::Superseded),
        (lone_old.card.serial().to_vec(), CardReason::Superseded),
    ])?;
    let sync = d.revocation_sync()?;
    let report = sync.cycle(false, &mut |_| {}).await?;
    ensure!(report.is_success(), "{report:?}");
    assert_eq!((report.attestations_revoked(), report.attestations_moved()), (1, 1));

    // Without a link the attestation dies with the old certificate, on chain too.
    until_chain_says(&d, lone_old.address(), false).await?;
    let view = client.wait_for(lone_old.address(), "revoked", CONFIRM).await?;
    assert_eq!(view.revocation_reason, Some(honnin_core::RevocationReason::Superseded));
    // With the link it survives, now backed by the new certificate.
    ensure!(d.chain.is_verified(linked_old.address()).await?);
    assert_eq!(client.view(linked_old.address()).await?.status.as_str(), "active");

    // The renewed card is the same person: a second wallet is over the limit …
    let challenge = client.challenge(linked_new.address()).await?;
    client
        .submit(&linked_new.request(&challenge))
        .await?
        .assert_problem(409, "wallet_limit_reached");
    // … while the unlinked renewed card is simply a new person.
    client.flow(&lone_new).await?;
    client.wait_for(lone_new.address(), "active", CONFIRM).await?;

    // Revoking the renewed certificate later takes the carried attestation with it.
    d.publish_crl(&[
        (linked_old.card.serial().to_vec(), CardReason::Superseded),
        (lone_old.card.serial().to_vec(), CardReason::Superseded),
        (linked_new.card.serial().to_vec(), CardReason::KeyCompromise),
    ])?;
    let report = sync.cycle(false, &mut |_| {}).await?;
    assert_eq!(report.attestations_revoked(), 1, "{report:?}");
    until_chain_says(&d, linked_old.address(), false).await?;
    let view = client.wait_for(linked_old.address(), "revoked", CONFIRM).await?;
    assert_eq!(view.attestation_id, linked.attestation_id);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_is_the_same_for_the_api_and_the_chain() -> Result<()> {
    // This test runs the sweep by hand: the background one waits an hour.
    let jobs = JobIntervals { sweep: Some(Duration::from_secs(3600)), ..JobIntervals::default() };
    let d = Deployment::start(Options { jobs, ..Options::default() }).await?;
    let client = d.client();
    // The certificate ends in 20 s: the attestation may not outlive it.
    let not_after =
        time::OffsetDateTime::now_utc().replace_nanosecond(0)? + time::Duration::seconds(20);
    let person = Person::with_spec("expiry-agree", 1, |spec| spec.not_after = not_after);
    let accepted = client.flow(&person).await?;
    client.wait_for(person.address(), "active", CONFIRM).await?;
    ensure!(d.chain.is_verified(person.address()).await?);
    let on_chain = d.chain.attestation_of(person.address()).await?;
    assert_eq!(on_chain.expiresAt, u64::try_from(not_after.unix_timestamp())?);

    // Past notAfter: a new block carries the new time; both say no.
    let wait = not_after - time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    tokio::time::sleep(Duration::try_from(wait).unwrap_or_default()).await;
    d.chain.advance_time(0).await?;
    ensure!(!d.chain.is_verified(person.address()).await?, "the chain says expired");
    assert_eq!(client.view(person.address()).await?.status.as_str(), "expired");

    // The sweep writes the state back and audits it.
    let sweep =
        honnin_lifecycle::ExpirySweep::new(d.instance().store.clone(), d.instance().audit.clone());
    assert_eq!(sweep.sweep(time::OffsetDateTime::now_utc()).await?, 1);
    assert_eq!(
        audit_codes(&d, AuditEventKind::AttestationExpired, &accepted.attestation_id).await?.len(),
        1
    );
    assert_eq!(client.view(person.address()).await?.status.as_str(), "expired");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_holder_revokes_with_the_wallet_eoa_and_erc1271() -> Result<()> {
    let d = Deployment::start(Options::default()).await?;
    let client = d.client();

    // An EOA.
    let person = Person::new("self-revoke-eoa", 1);
    let accepted = client.flow(&person).await?;
    client.wait_for(person.address(), "active", CONFIRM).await?;
    let challenge = challenge_for(&client, person.address(), "revoke").await?;
    // Another key's signature does not revoke it.
    let stranger = PrivateKeySigner::random();
    let refused = client
        .post(
            "/v1/revocations",
            &RevocationRequest {
                challenge_id: challenge.id.clone(),
                wallet_signature: personal_sign(&stranger, &challenge.message),
            },
        )
        .await?;
    refused.assert_problem(422, "wallet_mismatch");
    let challenge = challenge_for(&client, person.address(), "revoke").await?;
    let reply = client
        .post(
            "/v1/revocations",
            &RevocationRequest {
                challenge_id: challenge.id.clone(),
                wallet_signature: personal_sign(&person.wallet, &challenge.message),
            },
        )
        .await?;
    ensure!(reply.status == 202, "{} {}", reply.status, reply.body);
    assert_eq!(reply.body["attestation_id"], accepted.attestation_id.as_str());
    assert_eq!(reply.body["reason"], "holder");
    until_chain_says(&d, person.address(), false).await?;
    assert_eq!(
        d.chain.attestation_of(person.address()).await?.revocationReason,
        honnin_core::RevocationReason::Holder.code()
    );

    // A contract wallet: its owner's signature, accepted by isValidSignature.
    let owner = anvil_signer(&d.chain.anvil, 4);
    let deploy = OwnedWallet::deploy_builder(&d.chain.provider, owner.address())
        .from(owner.address())
        .into_transaction_request();
    let receipt = honnin_chain::test_utils::send_sync(&d.chain.provider, deploy).await?;
    let contract_wallet = receipt.contract_address.context("deployed")?;
    let holder = Person::new("self-revoke-1271", 2);
    let challenge = client.challenge(contract_wallet).await?;
    client
        .attest(&honnin_api::AttestationRequest {
            challenge_id: challenge.id.clone(),
            certificate: b64(holder.card.der()),
            card_signature: b64(&holder.card.sign(challenge.message.as_bytes())),
            wallet_signature: personal_sign(&owner, &challenge.message),
            signing_certificate: None,
            signing_signature: None,
        })
        .await?;
    client.wait_for(contract_wallet, "active", CONFIRM).await?;
    let challenge = challenge_for(&client, contract_wallet, "revoke").await?;
    let reply = client
        .post(
            "/v1/revocations",
            &RevocationRequest {
                challenge_id: challenge.id.clone(),
                wallet_signature: personal_sign(&owner, &challenge.message),
            },
        )
        .await?;
    ensure!(reply.status == 202, "{} {}", reply.status, reply.body);
    until_chain_says(&d, contract_wallet, false).await?;
    client.wait_for(contract_wallet, "revoked", CONFIRM).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_leaves_nothing_that_links_the_chain_record_to_a_certificate() -> Result<()> {
    let d = Deployment::start(Options::default()).await?;
    let client = d.client();
    let person = Person::new("erasure", 1);
    let other = Person::new("erasure-other", 2);
    let accepted = client.flow(&person).await?;
    client.flow(&other).await?;
    client.wait_for(person.address(), "active", CONFIRM).await?;
    client.wait_for(other.address(), "active", CONFIRM).await?;

    let challenge = challenge_for(&client, person.address(), "erase").await?;
    let reply = client
        .post(
            "/v1/erasures",
            &ErasureRequest {
                challenge_id: challenge.id.clone(),
                certificate: b64(person.card.der()),
                card_signature: b64(&person.card.sign(challenge.message.as_bytes())),
            },
        )
        .await?;
    ensure!(reply.status == 202, "{} {}", reply.status, reply.body);
    assert_eq!(reply.body["revoked"], 1);
    until_chain_says(&d, person.address(), false).await?;
    let view = client.wait_for(person.address(), "revoked", CONFIRM).await?;
    assert_eq!(view.attestation_id, accepted.attestation_id);

    // The dump holds neither the person's pseudonym nor their certificate hash, and the
    // attestation row keeps only wallet and chain facts.
    let key_id = root().key_id();
    let pseudonym = hex::encode(d.pepper.pseudonym(key_id, person.card.serial()).as_bytes());
    let cert_hash = hex::encode(d.pepper.cert_hash(key_id, person.card.serial()).as_bytes());
    let other_hash = hex::encode(d.pepper.cert_hash(key_id, other.card.serial()).as_bytes());
    let dump = d.pg_dump().await?;
    ensure!(dump.contains(&other_hash), "the scan finds a certificate hash that is there");
    ensure!(!dump.contains(&pseudonym), "the pseudonym is gone");
    ensure!(!dump.contains(&cert_hash), "the certificate hash is gone");
    let pool = d.pool().await?;
    let row: (Option<i64>, Option<i64>, Option<Vec<u8>>, String) = sqlx::query_as(
        "SELECT person_id, certificate_id, request_digest, status FROM attestations WHERE wallet = $1",
    )
    .bind(person.address().as_slice())
    .fetch_one(&pool)
    .await?;
    assert_eq!((row.0, row.1, row.2, row.3.as_str()), (None, None, None, "revoked"));
    let (persons, certificates): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM persons), (SELECT count(*) FROM certificates)",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!((persons, certificates), (1, 1), "only the other person remains");

    // Nobody is left to erase for that card.
    let again = challenge_for(&client, person.address(), "erase").await?;
    let reply = client
        .post(
            "/v1/erasures",
            &ErasureRequest {
                challenge_id: again.id.clone(),
                certificate: b64(person.card.der()),
                card_signature: b64(&person.card.sign(again.message.as_bytes())),
            },
        )
        .await?;
    reply.assert_problem(404, "person_not_found");
    Ok(())
}
