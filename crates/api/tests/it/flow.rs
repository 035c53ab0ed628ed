use axum::http::{StatusCode, header};
use honnin_api::{AttestationAccepted, AttestationView};
use honnin_core::{AtLimit, Policy, RevocationReason};
use honnin_jpki::test_utils::CardSpec;

use crate::support::{Db, Harness, Options, address, attestation_request, card, root, wallet_key};

async fn full_flow(db: Db) {
    let h = Harness::with(Options { db, ..Options::default() }).await;
    let key = wallet_key(1);
    let wallet = address(&key);

    let challenge = h.challenge(wallet).await;
    assert!(challenge.id.starts_with("ch_"));
    assert!(challenge.message.contains(&format!("Wallet: {}", wallet.to_checksum(None))));
    assert!(challenge.message.contains("Chain ID: 31337"));
    assert!(challenge.message.contains(&format!("Challenge ID: {}", challenge.id)));

    let card = card(&[0x11, 0x22, 0x33]);
    let request = attestation_request(&challenge, &card, &key);
    let reply = h.post("/v1/attestations", &request).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let accepted: AttestationAccepted = serde_json::from_value(reply.body.clone()).unwrap();
    assert!(accepted.attestation_id.starts_with("at_"));
    assert_eq!(accepted.wallet, wallet.to_checksum(None));
    assert_eq!(accepted.status.as_str(), "pending");
    assert_eq!(
        reply.headers.get(header::LOCATION).unwrap(),
        &format!("/v1/attestations/{}", wallet.to_checksum(None))
    );
    assert_eq!(h.revocation.calls(), 1, "revocation was checked");

    // Status, by checksummed and by lowercase address.
    for path in [
        format!("/v1/attestations/{}", wallet.to_checksum(None)),
        format!("/v1/attestations/{}", wallet.to_string().to_lowercase()),
    ] {
        let reply = h.get(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let view: AttestationView = serde_json::from_value(reply.body).unwrap();
        assert_eq!(view.attestation_id, accepted.attestation_id);
        assert_eq!(view.status.as_str(), "pending");
        assert_eq!(view.level, 1);
        assert_eq!(view.claims, 1);
        assert_eq!(view.expires_at, accepted.expires_at);
        assert_eq!(view.tx_hash, None);
        assert_eq!(view.block_number, None);
    }

    // Re-sending the identical request returns the same answer, not a second attestation.
    let again = h.post("/v1/attestations", &request).await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(again.body, reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_flow_to_pending_on_sqlite() {
    full_flow(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_flow_to_pending_on_postgres() {
    full_flow(Db::Postgres).await;
}

#[tokio::test]
async fn expiry_is_never_after_the_certificates_not_after() {
    let h = Harness::new().await;
    let key = wallet_key(2);
    let not_after = honnin_core::time::now() + time::Duration::days(30);
    let card =
        root().issue(&CardSpec { serial: vec![0x02, 0x30], not_after, ..CardSpec::default() });
    let challenge = h.challenge(address(&key)).await;
    let reply = h.post("/v1/attestations", &attestation_request(&challenge, &card, &key)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    // Default policy: one year at most; the certificate ends sooner.
    assert_eq!(reply.body["expires_at"], honnin_core::time::rfc3339(not_after));
}

#[tokio::test]
async fn unknown_wallet_is_404() {
    let h = Harness::new().await;
    let reply = h.get(&format!("/v1/attestations/{}", address(&wallet_key(3)))).await;
    reply.assert_problem(StatusCode::NOT_FOUND, "attestation_not_found");
    let reply = h.get("/v1/attestations/0x1234").await;
    reply.assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
}

#[tokio::test]
async fn one_wallet_per_person_refuses_a_second_wallet() {
    let h = Harness::new().await;
    let card = card(&[0x04, 0x01]);
    let (first, second) = (wallet_key(4), wallet_key(5));
    let challenge = h.challenge(address(&first)).await;
    let reply = h.post("/v1/attestations", &attestation_request(&challenge, &card, &first)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);

    let challenge = h.challenge(address(&second)).await;
    let reply = h.post("/v1/attestations", &attestation_request(&challenge, &card, &second)).await;
    let body = reply.assert_problem(StatusCode::CONFLICT, "wallet_limit_reached");
    assert_eq!(body["detail"], "the person already holds 1 live attestation(s)");
    let reply = h.get(&format!("/v1/attestations/{}", address(&second))).await;
    reply.assert_problem(StatusCode::NOT_FOUND, "attestation_not_found");
}

#[tokio::test]
async fn rotate_policy_revokes_the_older_wallet() {
    let policy =
        Policy::new(std::num::NonZeroU32::MIN, AtLimit::Rotate, Policy::DEFAULT_MAX_AGE).unwrap();
    let h = Harness::with(Options { policy, ..Options::default() }).await;
    let card = card(&[0x05, 0x01]);
    let (first, second) = (wallet_key(6), wallet_key(7));
    for key in [&first, &second] {
        let challenge = h.challenge(address(key)).await;
        let reply = h.post("/v1/attestations", &attestation_request(&challenge, &card, key)).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    }
    let old: AttestationView =
        serde_json::from_value(h.get(&format!("/v1/attestations/{}", address(&first))).await.body)
            .unwrap();
    assert_eq!(old.status.as_str(), "revoked");
    assert_eq!(old.revocation_reason, Some(RevocationReason::Rotated));
    let new: AttestationView =
        serde_json::from_value(h.get(&format!("/v1/attestations/{}", address(&second))).await.body)
            .unwrap();
    assert_eq!(new.status.as_str(), "pending");
    let metrics = h.metrics.encode().unwrap();
    assert!(metrics.contains("honnin_attestations_total{state=\"revoked\"} 1"), "{metrics}");
    assert!(metrics.contains("honnin_attestations_total{state=\"pending\"} 2"), "{metrics}");
}
