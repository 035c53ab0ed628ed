//! Self-revocation (EOA and ERC-1271) and erasure through the API, and the audit rows they
//! leave.

use std::{collections::HashMap, sync::Arc, sync::atomic::Ordering};

use axum::http::StatusCode;
use honnin_api::{ErasureRequest, RevocationRequest};
use honnin_core::{Address, AuditEventKind, AuditRecord, Purpose, time::now};
use honnin_jpki::{
    RevocationStatus,
    test_utils::{FakeAnswer, SimCard},
};

use crate::support::{
    Db, Harness, Options, OwnedWallets, address, b64, fresh_card, personal_sign, wallet_key,
};

fn revocation(challenge: &honnin_api::ChallengeResponse, signature: String) -> RevocationRequest {
    RevocationRequest { challenge_id: challenge.id.clone(), wallet_signature: signature }
}

fn erasure(challenge: &honnin_api::ChallengeResponse, card: &SimCard) -> ErasureRequest {
    ErasureRequest {
        challenge_id: challenge.id.clone(),
        certificate: b64(card.der()),
        card_signature: b64(&card.sign(challenge.message.as_bytes())),
    }
}

/// The kinds and codes of audit rows, in order.
fn kinds(rows: &[AuditRecord]) -> Vec<(AuditEventKind, Option<String>)> {
    rows.iter().map(|r| (r.event.kind, r.event.code.clone())).collect()
}

/// Asserts that no audit row carries anything of the card or the wallet signature: the rows
/// are serialised whole and searched.
#[track_caller]
fn assert_nothing_personal(rows: &[AuditRecord], card: &SimCard, secrets: &[&str]) {
    let text = serde_json::to_string(rows).unwrap();
    let der_b64 = b64(card.der());
    let der_hex = hex::encode(card.der());
    let mut needles: Vec<String> =
        vec![hex::encode(card.serial()), hex::encode_upper(card.serial())];
    needles.extend(secrets.iter().map(|s| s.to_string()));
    for start in (0..der_b64.len().saturating_sub(24)).step_by(48) {
        needles.push(der_b64[start..start + 24].to_owned());
    }
    for start in (0..der_hex.len().saturating_sub(32)).step_by(64) {
        needles.push(der_hex[start..start + 32].to_owned());
    }
    for needle in &needles {
        assert!(!text.contains(needle.as_str()), "an audit row carries personal data: {needle}");
    }
}

async fn holder_revokes_with_the_wallet(db: Db) {
    let h = Harness::with(Options { db, ..Options::default() }).await;
    let key = wallet_key(90);
    let wallet = address(&key);
    let card = fresh_card();
    let attestation_id = h.attest(&card, &key).await;

    let challenge = h.challenge_for(wallet, "revoke").await;
    assert!(challenge.message.contains("Purpose: revoke"));
    let signature = personal_sign(&key, &challenge.message);
    let request = revocation(&challenge, signature.clone());
    let reply = h.post("/v1/revocations", &request).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body["attestation_id"], attestation_id);
    assert_eq!(reply.body["wallet"], wallet.to_checksum(None));
    assert_eq!(reply.body["status"], "revoked");
    assert_eq!(reply.body["reason"], "holder");
    assert_eq!(h.wakes.load(Ordering::SeqCst), 2, "the attestation, then the revocation");

    let status = h.get(&format!("/v1/attestations/{wallet}")).await;
    assert_eq!(status.body["status"], "revoked");
    assert_eq!(status.body["revocation_reason"], "holder");

    // The same request again: the challenge is used. A fresh one: nothing left to revoke.
    h.post("/v1/revocations", &request)
        .await
        .assert_problem(StatusCode::CONFLICT, "challenge_used");
    let challenge = h.challenge_for(wallet, "revoke").await;
    h.post("/v1/revocations", &revocation(&challenge, personal_sign(&key, &challenge.message)))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "no_live_attestation");

    let rows = h.audit_rows().await;
    let kinds = kinds(&rows);
    for expected in [
        (AuditEventKind::ChallengeIssued, Some("attest".to_owned())),
        (AuditEventKind::VerificationAccepted, Some("attest".to_owned())),
        (AuditEventKind::AttestationQueued, None),
        (AuditEventKind::ChallengeIssued, Some("revoke".to_owned())),
        (AuditEventKind::VerificationAccepted, Some("revoke".to_owned())),
        (AuditEventKind::AttestationRevoked, Some("holder".to_owned())),
        (AuditEventKind::VerificationRefused, Some("challenge_used".to_owned())),
        (AuditEventKind::VerificationRefused, Some("no_live_attestation".to_owned())),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} missing from {kinds:?}");
    }
    let revoked = rows.iter().find(|r| r.event.kind == AuditEventKind::AttestationRevoked).unwrap();
    assert_eq!(revoked.event.attestation_id.unwrap().to_string(), attestation_id);
    assert!(rows.iter().all(|r| r.event.context.request_id.is_some()), "every row has its request");
    let lowercase = wallet.to_string().to_lowercase();
    assert_nothing_personal(
        &rows,
        &card,
        &[&signature[2..], &wallet.to_string()[2..], &lowercase[2..]],
    );
    honnin_core::audit::verify_chain(&rows, h.store.audit_head().await.unwrap()).unwrap();
}

#[tokio::test]
async fn holder_revokes_with_the_wallet_on_sqlite() {
    holder_revokes_with_the_wallet(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holder_revokes_with_the_wallet_on_postgres() {
    holder_revokes_with_the_wallet(Db::Postgres).await;
}

#[tokio::test]
async fn revocation_refusals() {
    let h = Harness::new().await;
    let (key, stranger) = (wallet_key(91), wallet_key(92));
    let wallet = address(&key);
    h.attest(&fresh_card(), &key).await;

    // Signed by another wallet.
    let challenge = h.challenge_for(wallet, "revoke").await;
    h.post(
        "/v1/revocations",
        &revocation(&challenge, personal_sign(&stranger, &challenge.message)),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "wallet_mismatch");
    // An attestation challenge cannot revoke, nor a revocation challenge attest.
    let attest = h.challenge(wallet).await;
    h.post("/v1/revocations", &revocation(&attest, personal_sign(&key, &attest.message)))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "challenge_purpose_mismatch");
    let stored = h.stored_challenge(Purpose::Revoke, wallet, now()).await;
    let request = crate::support::request_for(&stored, &fresh_card(), &key);
    h.post("/v1/attestations", &request)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "challenge_purpose_mismatch");
    // Malformed fields and an unknown purpose.
    let reply = h
        .post(
            "/v1/revocations",
            &serde_json::json!({ "challenge_id": "nope", "wallet_signature": "0x00" }),
        )
        .await;
    reply.assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    h.post("/v1/challenges", &serde_json::json!({ "wallet": wallet.to_string(), "purpose": "x" }))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    // Still live after all that.
    assert_eq!(h.get(&format!("/v1/attestations/{wallet}")).await.body["status"], "pending");
}

/// A contract wallet revokes through ERC-1271 (the contract modelled in Rust as in the
/// attestation tests; the lead's end-to-end tests do it against a deployed wallet on anvil).
#[tokio::test]
async fn contract_wallet_revokes_through_erc1271() {
    let owner = wallet_key(93);
    let contract = Address::repeat_byte(0xc3);
    let checker =
        OwnedWallets { owners: HashMap::from([(contract, address(&owner))]), unreachable: false };
    let h =
        Harness::with(Options { contract_wallets: Some(Arc::new(checker)), ..Options::default() })
            .await;
    let challenge = h.challenge(contract).await;
    let request = crate::support::attestation_request(&challenge, &fresh_card(), &owner);
    assert_eq!(h.post("/v1/attestations", &request).await.status, StatusCode::ACCEPTED);

    let challenge = h.challenge_for(contract, "revoke").await;
    h.post(
        "/v1/revocations",
        &revocation(&challenge, personal_sign(&wallet_key(94), &challenge.message)),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "wallet_mismatch");
    let challenge = h.challenge_for(contract, "revoke").await;
    let reply = h
        .post("/v1/revocations", &revocation(&challenge, personal_sign(&owner, &challenge.message)))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body["wallet"], contract.to_checksum(None));
    assert_eq!(h.get(&format!("/v1/attestations/{contract}")).await.body["status"], "revoked");
}

async fn erasure_revokes_and_forgets(db: Db) {
    let h = Harness::with(Options { db, ..Options::default() }).await;
    let key = wallet_key(95);
    let wallet = address(&key);
    let card = fresh_card();
    let attestation_id = h.attest(&card, &key).await;
    // One wallet per person: a second wallet is refused while the person is known.
    let other = wallet_key(96);
    let challenge = h.challenge(address(&other)).await;
    h.post("/v1/attestations", &crate::support::attestation_request(&challenge, &card, &other))
        .await
        .assert_problem(StatusCode::CONFLICT, "wallet_limit_reached");

    let challenge = h.challenge_for(wallet, "erase").await;
    assert!(challenge.message.contains("Purpose: erase"));
    let request = erasure(&challenge, &card);
    let reply = h.post("/v1/erasures", &request).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body, serde_json::json!({ "erased": true, "revoked": 1 }));
    assert_eq!(h.wakes.load(Ordering::SeqCst), 2);
    let status = h.get(&format!("/v1/attestations/{wallet}")).await;
    assert_eq!(status.body["status"], "revoked");
    assert_eq!(status.body["revocation_reason"], "erasure");

    // Nothing is left to erase; the card is a stranger now and may attest afresh.
    let challenge = h.challenge_for(wallet, "erase").await;
    h.post("/v1/erasures", &erasure(&challenge, &card))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "person_not_found");
    h.attest(&card, &other).await;

    let rows = h.audit_rows().await;
    let kinds = kinds(&rows);
    for expected in [
        (AuditEventKind::ChallengeIssued, Some("erase".to_owned())),
        (AuditEventKind::VerificationAccepted, Some("erase".to_owned())),
        (AuditEventKind::AttestationRevoked, Some("erasure".to_owned())),
        (AuditEventKind::Erasure, None),
        (AuditEventKind::VerificationRefused, Some("wallet_limit_reached".to_owned())),
        (AuditEventKind::VerificationRefused, Some("person_not_found".to_owned())),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} missing from {kinds:?}");
    }
    let revoked = rows
        .iter()
        .find(|r| r.event.code.as_deref() == Some("erasure"))
        .and_then(|r| r.event.attestation_id)
        .unwrap();
    assert_eq!(revoked.to_string(), attestation_id);
    assert_nothing_personal(&rows, &card, &[&request.card_signature[..32]]);
}

#[tokio::test]
async fn erasure_revokes_and_forgets_on_sqlite() {
    erasure_revokes_and_forgets(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_revokes_and_forgets_on_postgres() {
    erasure_revokes_and_forgets(Db::Postgres).await;
}

#[tokio::test]
async fn erasure_takes_the_attestation_card_path() {
    let h = Harness::new().await;
    let key = wallet_key(97);
    let wallet = address(&key);
    let card = fresh_card();
    h.attest(&card, &key).await;

    // A tampered signature, a SHA-1 signature, a revoked certificate: refused as for attestations.
    let challenge = h.challenge_for(wallet, "erase").await;
    let mut request = erasure(&challenge, &card);
    let mut signature = card.sign(challenge.message.as_bytes());
    signature[10] ^= 1;
    request.card_signature = b64(&signature);
    h.post("/v1/erasures", &request)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "bad_signature");
    let challenge = h.challenge_for(wallet, "erase").await;
    let mut request = erasure(&challenge, &card);
    request.card_signature = b64(&card.sign_sha1(challenge.message.as_bytes()));
    h.post("/v1/erasures", &request)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "weak_hash");
    h.revocation.set(
        card.serial(),
        FakeAnswer::Status(RevocationStatus::Revoked {
            reason: honnin_jpki::RevocationReason::KeyCompromise,
            time: now() - time::Duration::days(1),
        }),
    );
    let challenge = h.challenge_for(wallet, "erase").await;
    h.post("/v1/erasures", &erasure(&challenge, &card))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "revoked");
    // An attestation challenge cannot erase.
    let challenge = h.challenge(wallet).await;
    h.post("/v1/erasures", &erasure(&challenge, &card))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "challenge_purpose_mismatch");
    assert_eq!(h.get(&format!("/v1/attestations/{wallet}")).await.body["status"], "pending");
}
