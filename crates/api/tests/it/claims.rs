//! Age claims from the signing certificate: the bits at the moment of verification, and a
//! signing certificate that does not verify refusing the claims, not the attestation.

use axum::http::StatusCode;
use honnin_api::AttestationAccepted;
use honnin_jpki::{
    RevocationReason, RevocationStatus,
    test_utils::{CardSpec, FakeAnswer, SimCard, years_before},
};
use serde_json::Value;
use time::Duration;

use crate::support::{
    Harness, address, attestation_request, fresh_card, root, sign_root, signing_card,
    today_in_japan, wallet_key_n, with_signing,
};

/// Attests a fresh card and wallet `n` with `signing`; returns the 202 answer and the wallet's
/// status view.
async fn attest_with(h: &Harness, n: u32, signing: &SimCard) -> (AttestationAccepted, Value) {
    let key = wallet_key_n(n);
    let challenge = h.challenge(address(&key)).await;
    let request = with_signing(
        attestation_request(&challenge, &fresh_card(), &key),
        signing,
        &challenge.message,
    );
    let reply = h.post("/v1/attestations", &request).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let accepted: AttestationAccepted = serde_json::from_value(reply.body).unwrap();
    let view = h.get(&format!("/v1/attestations/{}", address(&key))).await;
    assert_eq!(view.status, StatusCode::OK);
    (accepted, view.body)
}

fn refused(accepted: &AttestationAccepted) -> Vec<(String, String)> {
    accepted.claims_refused.iter().map(|r| (r.claim.clone(), r.code.clone())).collect()
}

fn both_refused(code: &str) -> Vec<(String, String)> {
    ["age_over_18", "age_over_20"].iter().map(|c| ((*c).to_owned(), code.to_owned())).collect()
}

#[tokio::test]
async fn ages_17_18_19_20_at_verification_give_the_right_bits() {
    let h = Harness::new().await;
    let today = today_in_japan();
    let cases = [
        (years_before(today, 17), 1),
        // 18 tomorrow: not yet.
        (years_before(today, 18) + Duration::days(1), 1),
        // The 18th birthday is today (Japan time): adult from its first second.
        (years_before(today, 18), 0b011),
        (years_before(today, 19), 0b011),
        (years_before(today, 20) + Duration::days(1), 0b011),
        (years_before(today, 20), 0b111),
        (years_before(today, 45), 0b111),
    ];
    for (n, (birth, claims)) in cases.into_iter().enumerate() {
        let (accepted, view) = attest_with(&h, 100 + n as u32, &signing_card(birth)).await;
        assert_eq!(accepted.claims, claims, "case {n}");
        assert!(accepted.claims_refused.is_empty(), "case {n}: {:?}", accepted.claims_refused);
        assert_eq!(view["claims"], claims, "case {n}");
    }
}

#[tokio::test]
async fn without_a_signing_certificate_only_the_unique_person_claim() {
    let h = Harness::new().await;
    let key = wallet_key_n(200);
    let challenge = h.challenge(address(&key)).await;
    let reply =
        h.post("/v1/attestations", &attestation_request(&challenge, &fresh_card(), &key)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body["claims"], 1);
    assert_eq!(reply.body["claims_refused"], serde_json::json!([]));
}

#[tokio::test]
async fn a_signing_certificate_that_does_not_verify_refuses_the_claims_not_the_attestation() {
    let h = Harness::new().await;
    let adult = years_before(today_in_japan(), 30);

    // From the user-authentication root, not a signature root.
    let wrong_root = root().issue(&CardSpec::signing(adult));
    let (accepted, view) = attest_with(&h, 300, &wrong_root).await;
    assert_eq!((accepted.claims, refused(&accepted)), (1, both_refused("untrusted_issuer")));
    assert_eq!(view["claims"], 1);

    // Expired.
    let expired = sign_root().issue(&CardSpec {
        not_before: time::OffsetDateTime::now_utc() - Duration::days(400),
        not_after: time::OffsetDateTime::now_utc() - Duration::days(1),
        serial: vec![0x33, 0x01],
        ..CardSpec::signing(adult)
    });
    let (accepted, _) = attest_with(&h, 301, &expired).await;
    assert_eq!((accepted.claims, refused(&accepted)), (1, both_refused("expired")));

    // Revoked (its own revocation source: the signature roots' CRL or OCSP).
    let revoked = signing_card(adult);
    h.signing_revocation.set(
        revoked.serial(),
        FakeAnswer::Status(RevocationStatus::Revoked {
            reason: RevocationReason::AffiliationChanged,
            time: time::OffsetDateTime::now_utc() - Duration::hours(1),
        }),
    );
    let (accepted, _) = attest_with(&h, 302, &revoked).await;
    assert_eq!((accepted.claims, refused(&accepted)), (1, both_refused("revoked")));

    // Revocation unknown: the claim is refused (fail closed), the attestation is not.
    let unknown = signing_card(adult);
    h.signing_revocation.set(unknown.serial(), FakeAnswer::Unreachable);
    let (accepted, _) = attest_with(&h, 303, &unknown).await;
    assert_eq!((accepted.claims, refused(&accepted)), (1, both_refused("revocation_unknown")));

    // A malformed birth date.
    let mut spec = CardSpec::signing(adult);
    spec.attributes.as_mut().unwrap().birth_date = Some("3199A0102".into());
    let malformed = sign_root().issue(&spec);
    let (accepted, _) = attest_with(&h, 304, &malformed).await;
    assert_eq!((accepted.claims, refused(&accepted)), (1, both_refused("malformed_birth_date")));
}

#[tokio::test]
async fn the_signing_certificate_must_sign_this_challenge() {
    let h = Harness::new().await;
    let signing = signing_card(years_before(today_in_japan(), 30));
    let key = wallet_key_n(400);
    let other = h.challenge(address(&wallet_key_n(401))).await;
    let challenge = h.challenge(address(&key)).await;
    // Signed another challenge's message.
    let request = with_signing(
        attestation_request(&challenge, &fresh_card(), &key),
        &signing,
        &other.message,
    );
    let reply = h.post("/v1/attestations", &request).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let accepted: AttestationAccepted = serde_json::from_value(reply.body).unwrap();
    assert_eq!((accepted.claims, refused(&accepted)), (1, both_refused("bad_signature")));
}

#[tokio::test]
async fn a_re_sent_request_keeps_its_claims_and_its_signing_evidence_counts() {
    let h = Harness::new().await;
    let signing = signing_card(years_before(today_in_japan(), 19));
    let key = wallet_key_n(500);
    let challenge = h.challenge(address(&key)).await;
    let card = fresh_card();
    let request =
        with_signing(attestation_request(&challenge, &card, &key), &signing, &challenge.message);
    let first = h.post("/v1/attestations", &request).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let again = h.post("/v1/attestations", &request).await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(again.body["attestation_id"], first.body["attestation_id"]);
    assert_eq!(again.body["claims"], 0b011);
    // The same request without the signing evidence is another request: the challenge is used.
    let without = attestation_request(&challenge, &card, &key);
    h.post("/v1/attestations", &without)
        .await
        .assert_problem(StatusCode::CONFLICT, "challenge_used");
}

#[tokio::test]
async fn the_two_signing_fields_go_together() {
    let h = Harness::new().await;
    let key = wallet_key_n(600);
    let challenge = h.challenge(address(&key)).await;
    let signing = signing_card(years_before(today_in_japan(), 30));
    let full = with_signing(
        attestation_request(&challenge, &fresh_card(), &key),
        &signing,
        &challenge.message,
    );
    for (certificate, signature) in
        [(full.signing_certificate.clone(), None), (None, full.signing_signature.clone())]
    {
        let mut half = full.clone();
        half.signing_certificate = certificate;
        half.signing_signature = signature;
        let reply = h.post("/v1/attestations", &half).await;
        let body = reply.assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
        assert!(body["detail"].as_str().unwrap().contains("signing_signature"), "{body}");
    }
    let mut bad = full.clone();
    bad.signing_signature = Some("@@@".into());
    h.post("/v1/attestations", &bad)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    // `null` is the same as absent.
    let mut value =
        serde_json::to_value(attestation_request(&challenge, &fresh_card(), &key)).unwrap();
    value["signing_certificate"] = Value::Null;
    value["signing_signature"] = Value::Null;
    let reply = h.post("/v1/attestations", &value).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body["claims"], 1);
}
