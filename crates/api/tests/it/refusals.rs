//! Each refusal, with its status and code.

use std::{collections::HashMap, sync::Arc};

use axum::http::{StatusCode, header};
use honnin_core::{Address, Purpose, time::now};
use honnin_jpki::{
    RevocationReason, RevocationStatus,
    test_utils::{CardSpec, FakeAnswer, SimRoot},
};

use crate::support::{
    Harness, Options, OwnedWallets, address, attestation_request, b64, card, personal_sign,
    request_for, root, wallet_key,
};

#[tokio::test]
async fn tampered_card_signature_is_bad_signature() {
    let h = Harness::new().await;
    let key = wallet_key(10);
    let challenge = h.challenge(address(&key)).await;
    let card = card(&[0x10]);
    let mut signature = card.sign(challenge.message.as_bytes());
    signature[100] ^= 0x01;
    let mut request = attestation_request(&challenge, &card, &key);
    request.card_signature = b64(&signature);
    h.post("/v1/attestations", &request)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "bad_signature");
}

#[tokio::test]
async fn sha1_card_signature_is_weak_hash() {
    let h = Harness::new().await;
    let key = wallet_key(11);
    let challenge = h.challenge(address(&key)).await;
    let card = card(&[0x11]);
    let mut request = attestation_request(&challenge, &card, &key);
    request.card_signature = b64(&card.sign_sha1(challenge.message.as_bytes()));
    h.post("/v1/attestations", &request)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "weak_hash");
}

#[tokio::test]
async fn card_signature_over_another_message_is_refused() {
    let h = Harness::new().await;
    let key = wallet_key(12);
    let challenge = h.challenge(address(&key)).await;
    let other = h.challenge(address(&key)).await;
    let card = card(&[0x12]);
    let mut request = attestation_request(&challenge, &card, &key);
    request.card_signature = b64(&card.sign(other.message.as_bytes()));
    h.post("/v1/attestations", &request)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "bad_signature");
}

#[tokio::test]
async fn certificate_from_an_unknown_root_is_untrusted_issuer() {
    let h = Harness::new().await;
    let key = wallet_key(13);
    let challenge = h.challenge(address(&key)).await;
    let stranger = SimRoot::new(2).issue(&CardSpec::default());
    h.post("/v1/attestations", &attestation_request(&challenge, &stranger, &key))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "untrusted_issuer");
}

#[tokio::test]
async fn expired_certificate_is_expired() {
    let h = Harness::new().await;
    let key = wallet_key(14);
    let challenge = h.challenge(address(&key)).await;
    let card = root().issue(&CardSpec {
        not_before: now() - time::Duration::days(400),
        not_after: now() - time::Duration::days(1),
        ..CardSpec::default()
    });
    h.post("/v1/attestations", &attestation_request(&challenge, &card, &key))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "expired");
}

#[tokio::test]
async fn signature_by_another_wallet_is_wallet_mismatch() {
    let h = Harness::new().await;
    let (owner, other) = (wallet_key(15), wallet_key(16));
    let challenge = h.challenge(address(&owner)).await;
    let card = card(&[0x15]);
    let mut request = attestation_request(&challenge, &card, &owner);
    request.wallet_signature = personal_sign(&other, &challenge.message);
    h.post("/v1/attestations", &request)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "wallet_mismatch");
    // Not an ECDSA signature at all, and no contract-wallet checker configured.
    let challenge = h.challenge(address(&owner)).await;
    let mut request = attestation_request(&challenge, &card, &owner);
    request.wallet_signature = "0xdeadbeef".into();
    h.post("/v1/attestations", &request)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "wallet_mismatch");
}

#[tokio::test]
async fn expired_challenge_is_challenge_expired() {
    let h = Harness::new().await;
    let key = wallet_key(17);
    let challenge =
        h.stored_challenge(Purpose::Attest, address(&key), now() - time::Duration::hours(1)).await;
    h.post("/v1/attestations", &request_for(&challenge, &card(&[0x17]), &key))
        .await
        .assert_problem(StatusCode::GONE, "challenge_expired");
}

#[tokio::test]
async fn unknown_challenge_and_other_purpose_are_refused() {
    let h = Harness::new().await;
    let key = wallet_key(18);
    let never_issued = h.settings.issue(Purpose::Attest, address(&key), None, now());
    h.post("/v1/attestations", &request_for(&never_issued, &card(&[0x18]), &key))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "challenge_not_found");
    let revoke = h.stored_challenge(Purpose::Revoke, address(&key), now()).await;
    h.post("/v1/attestations", &request_for(&revoke, &card(&[0x18]), &key))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "challenge_purpose_mismatch");
}

#[tokio::test]
async fn used_challenge_is_challenge_used_and_replay_gets_the_same_answer() {
    let h = Harness::new().await;
    let key = wallet_key(19);
    let challenge = h.challenge(address(&key)).await;
    let first = attestation_request(&challenge, &card(&[0x19, 0x01]), &key);
    let accepted = h.post("/v1/attestations", &first).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);

    // Other evidence for the same challenge (another card): refused.
    let second = attestation_request(&challenge, &card(&[0x19, 0x02]), &key);
    h.post("/v1/attestations", &second)
        .await
        .assert_problem(StatusCode::CONFLICT, "challenge_used");

    // The identical request again: the same 202.
    let replay = h.post("/v1/attestations", &first).await;
    assert_eq!(replay.status, StatusCode::ACCEPTED);
    assert_eq!(replay.body, accepted.body);
    let metrics = h.metrics.encode().unwrap();
    assert!(metrics.contains("honnin_verifications_total{outcome=\"replayed\"} 1"), "{metrics}");
    assert!(metrics.contains("honnin_verifications_total{outcome=\"verified\"} 1"), "{metrics}");
    assert!(metrics.contains("honnin_verifications_total{outcome=\"challenge_used\"} 1"));
}

#[tokio::test]
async fn revoked_certificate_is_revoked_and_unreachable_source_is_503() {
    let h = Harness::new().await;
    let key = wallet_key(20);
    let revoked = card(&[0x20, 0x01]);
    h.revocation.set(
        revoked.serial(),
        FakeAnswer::Status(RevocationStatus::Revoked {
            reason: RevocationReason::KeyCompromise,
            time: now() - time::Duration::days(1),
        }),
    );
    let challenge = h.challenge(address(&key)).await;
    h.post("/v1/attestations", &attestation_request(&challenge, &revoked, &key))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "revoked");

    let unknown = card(&[0x20, 0x02]);
    h.revocation.set(unknown.serial(), FakeAnswer::Unreachable);
    let challenge = h.challenge(address(&key)).await;
    let reply = h.post("/v1/attestations", &attestation_request(&challenge, &unknown, &key)).await;
    let body = reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "revocation_unknown");
    assert!(body["detail"].as_str().unwrap().contains("retry later"));

    let stale = card(&[0x20, 0x03]);
    h.revocation.set(stale.serial(), FakeAnswer::Stale);
    let challenge = h.challenge(address(&key)).await;
    h.post("/v1/attestations", &attestation_request(&challenge, &stale, &key))
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "stale_revocation_data");
}

#[tokio::test]
async fn individual_number_anywhere_in_a_body_is_refused_before_anything_else() {
    let h = Harness::new().await;
    let key = wallet_key(21);
    let challenge = h.challenge(address(&key)).await;
    let request = attestation_request(&challenge, &card(&[0x21]), &key);
    let mut body = serde_json::to_value(&request).unwrap();
    body["note"] = "my number is 1234 5678 9018".into();
    h.post("/v1/attestations", &body)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "individual_number_forbidden");
    // JSON escapes do not hide it, nor does a number value or a key.
    for raw in [
        r#"{"wallet":"0x0000000000000000000000000000000000000001","audience":"\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038\u0039\u0030\u0031\u0038"}"#,
        r#"{"wallet":"0x0000000000000000000000000000000000000001","n":123456789018}"#,
        r#"{"123456789018":1}"#,
    ] {
        h.post_raw("/v1/challenges", raw)
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "individual_number_forbidden");
    }
    let metrics = h.metrics.encode().unwrap();
    assert!(
        metrics.contains(r#"honnin_problems_total{code="individual_number_forbidden"} 4"#),
        "{metrics}"
    );
    // The challenge was not consumed by the refused request: the clean request still works.
    let reply = h.post("/v1/attestations", &request).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
}

#[tokio::test]
async fn malformed_bodies_get_the_same_problem_shape() {
    let h = Harness::new().await;
    h.post_raw("/v1/challenges", "{not json")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    h.post_raw("/v1/attestations", r#"{"challenge_id":"ch_00"}"#)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    h.post_raw("/v1/challenges", r#"{"wallet":"0x1234"}"#)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    h.post_raw(
        "/v1/challenges",
        r#"{"wallet":"0x0000000000000000000000000000000000000001","audience":"a b"}"#,
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    h.post_raw(
        "/v1/challenges",
        r#"{"wallet":"0x0000000000000000000000000000000000000001","extra":1}"#,
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    let key = wallet_key(22);
    let challenge = h.challenge(address(&key)).await;
    let mut request = attestation_request(&challenge, &card(&[0x22]), &key);
    request.certificate = "***".into();
    let reply = h.post("/v1/attestations", &request).await;
    let body = reply.assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    assert!(body["detail"].as_str().unwrap().contains("`certificate`"));
    request.certificate = b64(b"not a certificate");
    h.post("/v1/attestations", &request)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "malformed_certificate");

    // Wrong content type, oversized body, unknown route, wrong method.
    let reply = h
        .send(
            axum::http::Request::post("/v1/challenges")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(axum::body::Body::from("{}"))
                .unwrap(),
        )
        .await;
    reply.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let big = format!(r#"{{"wallet":"{}"}}"#, "a".repeat(70 * 1024));
    h.post_raw("/v1/challenges", big)
        .await
        .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    h.get("/nope").await.assert_problem(StatusCode::NOT_FOUND, "not_found");
    h.get("/v1/challenges")
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn contract_wallet_is_accepted_through_erc1271() {
    let owner = wallet_key(23);
    let contract = Address::repeat_byte(0xc0);
    let checker =
        OwnedWallets { owners: HashMap::from([(contract, address(&owner))]), unreachable: false };
    let h =
        Harness::with(Options { contract_wallets: Some(Arc::new(checker)), ..Options::default() })
            .await;
    let challenge = h.challenge(contract).await;
    let card = card(&[0x23]);
    let request = attestation_request(&challenge, &card, &owner);
    let reply = h.post("/v1/attestations", &request).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body["wallet"], contract.to_checksum(None));

    // A stranger's signature is refused by the contract.
    let challenge = h.challenge(Address::repeat_byte(0xc0)).await;
    let mut request = attestation_request(&challenge, &card, &wallet_key(24));
    request.certificate = b64(crate::support::card(&[0x23, 0x01]).der());
    request.card_signature =
        b64(&crate::support::card(&[0x23, 0x01]).sign(challenge.message.as_bytes()));
    h.post("/v1/attestations", &request)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "wallet_mismatch");
}

#[tokio::test]
async fn unreachable_contract_wallet_check_is_503() {
    let checker = OwnedWallets { owners: HashMap::new(), unreachable: true };
    let h =
        Harness::with(Options { contract_wallets: Some(Arc::new(checker)), ..Options::default() })
            .await;
    let owner = wallet_key(25);
    let challenge = h.challenge(Address::repeat_byte(0xc1)).await;
    h.post("/v1/attestations", &attestation_request(&challenge, &card(&[0x25]), &owner))
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "contract_wallet_unavailable");
}
