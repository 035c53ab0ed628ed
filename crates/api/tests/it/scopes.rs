//! Scoped attestations through the API: one person, a wallet per scope, the policy per scope,
//! nothing stored that joins two scopes, self-revocation per scope, erasure of every scope.

use axum::http::StatusCode;
use honnin_api::{ErasureRequest, RevocationRequest};
use honnin_core::{Address, ScopeName, time::now};
use honnin_jpki::test_utils::SimCard;

/// Whether `dump` holds `hash`: as raw bytes (the SQLite file) or as hex (a `pg_dump`).
fn holds(dump: &[u8], hash: &[u8; 32]) -> bool {
    let hex = hex::encode(hash);
    dump.windows(32).any(|w| w == hash) || dump.windows(64).any(|w| w == hex.as_bytes())
}

use crate::support::{
    Db, Harness, Options, address, attestation_request, b64, fresh_card, personal_sign, root,
    wallet_key,
};

fn name(text: &str) -> ScopeName {
    ScopeName::new(text).unwrap()
}

/// A harness with the scopes `dapp-a` and `dapp-b` registered.
async fn harness(db: Db) -> Harness {
    let h = Harness::with(Options { db, ..Options::default() }).await;
    for scope in ["dapp-a", "dapp-b"] {
        assert!(h.store.register_scope(&name(scope), now()).await.unwrap());
    }
    // Registering again changes nothing.
    assert!(!h.store.register_scope(&name("dapp-a"), now()).await.unwrap());
    h
}

/// Attests `wallet` with `card` in `scope` (`None`: globally); the reply.
async fn attest_in(
    h: &Harness,
    scope: Option<&str>,
    card: &SimCard,
    wallet: &k256::ecdsa::SigningKey,
) -> crate::support::Reply {
    let challenge = match scope {
        Some(scope) => h.scoped_challenge(address(wallet), "attest", scope).await,
        None => h.challenge(address(wallet)).await,
    };
    h.post("/v1/attestations", &attestation_request(&challenge, card, wallet)).await
}

async fn status_in(h: &Harness, wallet: Address, scope: Option<&str>) -> (StatusCode, String) {
    let path = match scope {
        Some(scope) => format!("/v1/attestations/{wallet}?scope={scope}"),
        None => format!("/v1/attestations/{wallet}"),
    };
    let reply = h.get(&path).await;
    (reply.status, reply.body["status"].as_str().unwrap_or_default().to_owned())
}

async fn one_person_a_wallet_in_each_scope(db: Db) {
    let h = harness(db).await;
    let card = fresh_card();
    let (key_a, key_b, key_global) = (wallet_key(101), wallet_key(102), wallet_key(103));
    let (a, b, global) = (address(&key_a), address(&key_b), address(&key_global));

    // The scoped challenge names the scope and its id in the signed message.
    let challenge = h.scoped_challenge(a, "attest", "dapp-a").await;
    let id = name("dapp-a").id().to_string();
    assert!(
        challenge.message.contains(&format!("\nScope: dapp-a ({id})\n")),
        "{}",
        challenge.message
    );
    assert_eq!(challenge.scope_id.as_deref(), Some(id.as_str()));
    let reply = h.post("/v1/attestations", &attestation_request(&challenge, &card, &key_a)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body["scope"], id.as_str());
    assert_eq!(
        reply.headers["location"].to_str().unwrap(),
        format!("/v1/attestations/{}?scope={id}", a.to_checksum(None))
    );

    let reply = attest_in(&h, Some("dapp-b"), &card, &key_b).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let reply = attest_in(&h, None, &card, &key_global).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body["scope"], serde_json::Value::Null);

    // Each wallet is attested in its own scope only (by name or by id).
    assert_eq!(status_in(&h, a, Some("dapp-a")).await, (StatusCode::OK, "pending".into()));
    assert_eq!(status_in(&h, a, Some(&id)).await, (StatusCode::OK, "pending".into()));
    assert_eq!(status_in(&h, a, Some("dapp-b")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(status_in(&h, a, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(status_in(&h, b, Some("dapp-b")).await, (StatusCode::OK, "pending".into()));
    assert_eq!(status_in(&h, b, Some("dapp-a")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(status_in(&h, global, None).await, (StatusCode::OK, "pending".into()));
    assert_eq!(status_in(&h, global, Some("dapp-a")).await.0, StatusCode::NOT_FOUND);
    let view = h.get(&format!("/v1/attestations/{b}?scope=dapp-b")).await;
    assert_eq!(view.body["scope"], name("dapp-b").id().to_string());

    // The policy (one wallet per person by default) holds per scope: a second wallet in
    // dapp-a is refused, while the same wallet may also be attested in dapp-b.
    let reply = attest_in(&h, Some("dapp-a"), &card, &wallet_key(104)).await;
    reply.assert_problem(StatusCode::CONFLICT, "wallet_limit_reached");
    let reply = attest_in(&h, Some("dapp-a"), &fresh_card(), &key_a).await;
    reply.assert_problem(StatusCode::CONFLICT, "wallet_already_attested");

    // What is stored: the person under three different pseudonyms, none of them derivable
    // from another without the pepper; the scoped hashes are in the dump (the scan works), and
    // each scope's differs from the global one.
    let dump = h.dump().await;
    let (key_id, serial) = (root().key_id(), card.serial());
    let mut seen = Vec::new();
    for scope in [None, Some(name("dapp-a").id()), Some(name("dapp-b").id())] {
        let pseudonym = h.pepper().pseudonym_in(scope.as_ref(), key_id, serial);
        let cert = h.pepper().cert_hash_in(scope.as_ref(), key_id, serial);
        for hash in [pseudonym.as_bytes(), cert.as_bytes()] {
            assert!(holds(&dump, hash), "a stored hash is missing ({scope:?})");
            assert!(!seen.contains(hash), "two scopes share a stored hash");
            seen.push(*hash);
        }
    }
    let serial_hex = hex::encode(serial);
    assert!(!dump.windows(serial.len()).any(|w| w == serial), "the serial is stored");
    assert!(
        !dump.windows(serial_hex.len()).any(|w| w == serial_hex.as_bytes()),
        "the serial is stored"
    );
}

#[tokio::test]
async fn one_person_a_wallet_in_each_scope_sqlite() {
    one_person_a_wallet_in_each_scope(Db::Sqlite).await;
}

#[tokio::test]
async fn one_person_a_wallet_in_each_scope_postgres() {
    one_person_a_wallet_in_each_scope(Db::Postgres).await;
}

#[tokio::test]
async fn scopes_are_checked_where_they_are_named() {
    let h = harness(Db::Sqlite).await;
    let wallet = address(&wallet_key(110)).to_string();
    let h = &h;
    let challenge = |body: serde_json::Value| async move { h.post("/v1/challenges", &body).await };
    challenge(serde_json::json!({ "wallet": wallet, "scope": "nope" }))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "unknown_scope");
    challenge(serde_json::json!({ "wallet": wallet, "scope": "Dapp A" }))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    challenge(serde_json::json!({ "wallet": wallet, "scope": "dapp-a", "purpose": "erase" }))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    // A scope name made of an individual number is refused as one (the short-text rule).
    challenge(serde_json::json!({ "wallet": wallet, "scope": "123456789018" }))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "individual_number_forbidden");
    // An unscoped challenge has no scope line and no id.
    let plain = h.challenge(address(&wallet_key(110))).await;
    assert!(!plain.message.contains("Scope:") && plain.scope_id.is_none());

    let base = format!("/v1/attestations/{wallet}");
    h.get(&format!("{base}?scope=nope"))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "unknown_scope");
    // (An all-zero id would be refused for its twelve zeros, a valid individual number.)
    h.get(&format!("{base}?scope=0x12zz"))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    h.get(&format!("{base}?other=1"))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    h.get(&format!("{base}?scope=123456789018"))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "individual_number_forbidden");
    // A registered scope where the wallet has nothing: not found, as globally.
    h.get(&format!("{base}?scope=dapp-a"))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "attestation_not_found");
}

#[tokio::test]
async fn self_revocation_ends_the_record_of_its_scope_only() {
    let h = harness(Db::Sqlite).await;
    let card = fresh_card();
    let key = wallet_key(120);
    let wallet = address(&key);
    for scope in [Some("dapp-a"), Some("dapp-b"), None] {
        let reply = attest_in(&h, scope, &card, &key).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    }
    let challenge = h.scoped_challenge(wallet, "revoke", "dapp-a").await;
    assert!(challenge.message.contains("\nScope: dapp-a ("));
    let request = RevocationRequest {
        challenge_id: challenge.id.clone(),
        wallet_signature: personal_sign(&key, &challenge.message),
    };
    let reply = h.post("/v1/revocations", &request).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body["scope"], name("dapp-a").id().to_string());
    assert_eq!(status_in(&h, wallet, Some("dapp-a")).await.1, "revoked");
    assert_eq!(status_in(&h, wallet, Some("dapp-b")).await.1, "pending");
    assert_eq!(status_in(&h, wallet, None).await.1, "pending");
    // Revoking dapp-a again: nothing live is left there.
    let challenge = h.scoped_challenge(wallet, "revoke", "dapp-a").await;
    let request = RevocationRequest {
        challenge_id: challenge.id.clone(),
        wallet_signature: personal_sign(&key, &challenge.message),
    };
    h.post("/v1/revocations", &request)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "no_live_attestation");
}

async fn erasure_reaches_every_scope(db: Db) {
    let h = harness(db).await;
    let card = fresh_card();
    let keys = [wallet_key(130), wallet_key(131), wallet_key(132)];
    let scopes = [Some("dapp-a"), Some("dapp-b"), None];
    for (scope, key) in scopes.iter().zip(&keys) {
        let reply = attest_in(&h, *scope, &card, key).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    }
    let challenge = h.challenge_for(address(&keys[2]), "erase").await;
    let request = ErasureRequest {
        challenge_id: challenge.id.clone(),
        certificate: b64(card.der()),
        card_signature: b64(&card.sign(challenge.message.as_bytes())),
    };
    let reply = h.post("/v1/erasures", &request).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body["revoked"], 3, "{}", reply.body);
    for (scope, key) in scopes.iter().zip(&keys) {
        let view = h
            .get(&match scope {
                Some(scope) => format!("/v1/attestations/{}?scope={scope}", address(key)),
                None => format!("/v1/attestations/{}", address(key)),
            })
            .await;
        assert_eq!(view.body["status"], "revoked", "{scope:?}");
        assert_eq!(view.body["revocation_reason"], "erasure", "{scope:?}");
    }
    // No pseudonym or certificate hash of any scope is left.
    let dump = h.dump().await;
    for scope in [None, Some(name("dapp-a").id()), Some(name("dapp-b").id())] {
        let pseudonym = h.pepper().pseudonym_in(scope.as_ref(), root().key_id(), card.serial());
        let cert = h.pepper().cert_hash_in(scope.as_ref(), root().key_id(), card.serial());
        for hash in [pseudonym.as_bytes(), cert.as_bytes()] {
            assert!(!holds(&dump, hash), "a hash outlived the erasure ({scope:?})");
        }
    }
    // The person can start afresh in a scope.
    let reply = attest_in(&h, Some("dapp-a"), &card, &wallet_key(133)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
}

#[tokio::test]
async fn erasure_reaches_every_scope_sqlite() {
    erasure_reaches_every_scope(Db::Sqlite).await;
}

#[tokio::test]
async fn erasure_reaches_every_scope_postgres() {
    erasure_reaches_every_scope(Db::Postgres).await;
}
