//! Nothing personal reaches the logs: every event and span field at TRACE level, from every
//! crate and thread, is captured during full flows and refusals, then scanned.

use axum::http::StatusCode;
use honnin_core::ChallengeId;
use honnin_jpki::test_utils::CardSpec;

use crate::support::{
    Harness, address, attestation_request, b64, capture_logs, personal_sign, root, wallet_key,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_no_certificate_serial_subject_or_individual_number() {
    let h = Harness::new().await;
    let capture = capture_logs();
    // A distinctive serial and subject, so a hit cannot be a coincidence.
    let random = ChallengeId::random();
    let serial = random.as_bytes().to_vec();
    let subject_id = format!("7{}", &hex::encode_upper(random.as_bytes())[..22]);
    assert_eq!(subject_id.len(), 23);
    let card = root().issue(&CardSpec {
        serial: serial.clone(),
        subject_id: subject_id.clone(),
        ..CardSpec::default()
    });
    let key = wallet_key(60);
    let challenge = h.challenge(address(&key)).await;
    let request = attestation_request(&challenge, &card, &key);

    // A request carrying an individual number, refused.
    let mut with_number = serde_json::to_value(&request).unwrap();
    with_number["memo"] = "個人番号 123456789018".into();
    h.post("/v1/attestations", &with_number)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "individual_number_forbidden");
    // The full flow, a replay, a refusal after the challenge is used, the status.
    let reply = h.post("/v1/attestations", &request).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(h.post("/v1/attestations", &request).await.status, StatusCode::ACCEPTED);
    let mut tampered = request.clone();
    tampered.card_signature = b64(&card.sign(b"something else"));
    h.post("/v1/attestations", &tampered)
        .await
        .assert_problem(StatusCode::CONFLICT, "challenge_used");
    assert_eq!(h.get(&format!("/v1/attestations/{}", address(&key))).await.status, StatusCode::OK);
    // A card refusal after a fresh challenge (the card signature is checked with logs on).
    let challenge = h.challenge(address(&key)).await;
    let mut bad = attestation_request(&challenge, &card, &key);
    bad.card_signature = b64(&card.sign_sha1(challenge.message.as_bytes()));
    h.post("/v1/attestations", &bad)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "weak_hash");

    // Self-revocation and erasure (the card again, through the same path).
    let revoke = h.challenge_for(address(&key), "revoke").await;
    let revocation = honnin_api::RevocationRequest {
        challenge_id: revoke.id.clone(),
        wallet_signature: personal_sign(&key, &revoke.message),
    };
    assert_eq!(h.post("/v1/revocations", &revocation).await.status, StatusCode::ACCEPTED);
    let erase = h.challenge_for(address(&key), "erase").await;
    let erasure = honnin_api::ErasureRequest {
        challenge_id: erase.id.clone(),
        certificate: b64(card.der()),
        card_signature: b64(&card.sign(erase.message.as_bytes())),
    };
    assert_eq!(h.post("/v1/erasures", &erasure).await.status, StatusCode::ACCEPTED);

    let logs = capture.logs();
    drop(capture);
    // The capture works: request spans with route and request id, and the refusal codes.
    assert!(logs.contains(r#"path="/v1/attestations""#), "capture is empty or lacks spans");
    assert!(logs.contains("request_id="));
    assert!(logs.contains("individual_number_forbidden"));
    assert!(logs.contains("weak_hash"));
    assert!(logs.contains(r#"path="/v1/erasures""#));

    let der = card.der();
    let der_b64 = b64(der);
    let der_hex = hex::encode(der);
    let mut needles = vec![
        subject_id.clone(),
        hex::encode(&serial),
        hex::encode_upper(&serial),
        format!("{serial:?}"),
        "123456789018".to_owned(),
        request.card_signature[..32].to_owned(),
        erasure.card_signature[..32].to_owned(),
        revocation.wallet_signature[2..34].to_owned(),
    ];
    // Any stretch of the certificate, as base64 or hex (this covers the public key).
    for start in (0..der_b64.len().saturating_sub(24)).step_by(48) {
        needles.push(der_b64[start..start + 24].to_owned());
    }
    for start in (0..der_hex.len().saturating_sub(32)).step_by(64) {
        needles.push(der_hex[start..start + 32].to_owned());
        needles.push(der_hex[start..start + 32].to_uppercase());
    }
    for needle in &needles {
        assert!(
            !logs.contains(needle.as_str()),
            "the logs carry personal data ({} chars)",
            needle.len()
        );
    }
}
