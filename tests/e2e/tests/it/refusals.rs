//! Every refusal over real HTTP, with its problem code; replay; nothing refused reaches the chain.

use anyhow::Result;
use honnin_api::{AttestationRequest, ChallengeResponse};
use honnin_core::Purpose;
use honnin_e2e::{Client, Deployment, Options, Person, b64, personal_sign, privacy};
use honnin_jpki::test_utils::{CardSpec, SimRoot};

/// A challenge the API issues for `person`'s wallet.
async fn challenge(client: &Client, person: &Person) -> Result<ChallengeResponse> {
    client.challenge(person.address()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refusal_has_its_code() -> Result<()> {
    let revoked = Person::new("refusals-revoked", 1);
    let d = Deployment::start(Options {
        revoked_serials: vec![revoked.card.serial().to_vec()],
        ..Options::default()
    })
    .await?;
    let client = d.client();
    let person = Person::new("refusals", 1);
    let mut refused_wallets = vec![person.address(), revoked.address()];

    // Unknown challenge.
    let c = challenge(&client, &person).await?;
    let mut request = person.request(&c);
    request.challenge_id = "ch_ffffffffffffffffffffffffffffffff".into();
    client.submit(&request).await?.assert_problem(404, "challenge_not_found");

    // Expired challenge (issued an hour ago, lifetime ten minutes).
    let issued = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let old = d.settings.issue(Purpose::Attest, person.address(), None, issued);
    d.instance().store.insert_challenge(&old).await?;
    let old = ChallengeResponse {
        id: old.id.to_string(),
        message: old.message(),
        expires_at: honnin_core::time::rfc3339(old.expires_at),
        scope_id: None,
    };
    client.submit(&person.request(&old)).await?.assert_problem(410, "challenge_expired");

    // Wrong wallet: another key signs the message.
    let c = challenge(&client, &person).await?;
    let mut request = person.request(&c);
    request.wallet_signature = personal_sign(&Person::new("refusals", 2).wallet, &c.message);
    client.submit(&request).await?.assert_problem(422, "wallet_mismatch");

    // A revoked card (listed on the CRL the service loaded).
    let c = challenge(&client, &revoked).await?;
    client.submit(&revoked.request(&c)).await?.assert_problem(422, "revoked");

    // A card from a root the service does not trust.
    let stranger_root = SimRoot::new(7);
    let foreign =
        stranger_root.issue(&CardSpec { serial: vec![0x7f, 1, 2, 3], ..CardSpec::default() });
    let c = challenge(&client, &person).await?;
    client
        .submit(&honnin_e2e::request(&c, &foreign, &person.wallet))
        .await?
        .assert_problem(422, "untrusted_issuer");

    // An expired certificate.
    let now = time::OffsetDateTime::now_utc();
    let lapsed = Person::with_spec("refusals-lapsed", 1, |spec| {
        spec.not_before = now - time::Duration::days(800);
        spec.not_after = now - time::Duration::days(1);
    });
    refused_wallets.push(lapsed.address());
    let c = challenge(&client, &lapsed).await?;
    client.submit(&lapsed.request(&c)).await?.assert_problem(422, "expired");

    // SHA-1: the card signs it, the service refuses it.
    let c = challenge(&client, &person).await?;
    let mut request = person.request(&c);
    request.card_signature = b64(&person.card.sign_sha1(c.message.as_bytes()));
    client.submit(&request).await?.assert_problem(422, "weak_hash");

    // The card signed something else.
    let c = challenge(&client, &person).await?;
    let mut request = person.request(&c);
    request.card_signature = b64(&person.card.sign(b"another message"));
    client.submit(&request).await?.assert_problem(422, "bad_signature");

    // An individual number anywhere in the body.
    let number = privacy::individual_number(12_345_678_901);
    let c = challenge(&client, &person).await?;
    let mut body = serde_json::to_value(person.request(&c))?;
    body["note"] = serde_json::Value::String(format!("my number is {number}"));
    client
        .post("/v1/attestations", &body)
        .await?
        .assert_problem(400, "individual_number_forbidden");
    client
        .post(
            "/v1/challenges",
            &serde_json::json!({ "wallet": person.address().to_checksum(None), "audience": number }),
        )
        .await?
        .assert_problem(400, "individual_number_forbidden");

    // Malformed JSON.
    client
        .post_raw("/v1/attestations", b"{not json".to_vec())
        .await?
        .assert_problem(400, "malformed_request");

    // None of it reached the database or the chain.
    for wallet in refused_wallets {
        assert_eq!(client.status(wallet).await?.status, 404);
        assert!(!d.chain.is_verified(wallet).await?);
    }
    // The trusted card still works afterwards.
    client.flow(&person).await?;
    client.wait_for(person.address(), "active", crate::support::CONFIRM).await?;
    assert!(d.chain.is_verified(person.address()).await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_of_a_used_challenge() -> Result<()> {
    let d = Deployment::start(Options::default()).await?;
    let client = d.client();
    let person = Person::new("replay", 1);
    let c = challenge(&client, &person).await?;
    let request = person.request(&c);
    let accepted = client.attest(&request).await?;

    // The identical request again (a retrying client): the same answer.
    let again = client.submit(&request).await?;
    assert_eq!(again.status, 202);
    assert_eq!(again.body["attestation_id"], accepted.attestation_id);

    // Anyone else's evidence over the used challenge: refused.
    let other = Person::new("replay", 2);
    let replay = AttestationRequest {
        certificate: b64(other.card.der()),
        card_signature: b64(&other.card.sign(c.message.as_bytes())),
        ..request.clone()
    };
    client.submit(&replay).await?.assert_problem(409, "challenge_used");

    // After confirmation the identical request still answers the same, and nothing doubled.
    client.wait_for(person.address(), "active", crate::support::CONFIRM).await?;
    let late = client.submit(&request).await?;
    assert_eq!(late.status, 202);
    assert_eq!(late.body["attestation_id"], accepted.attestation_id);
    let pool = d.pool().await?;
    let (rows,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM attestations").fetch_one(&pool).await?;
    assert_eq!(rows, 1);
    Ok(())
}
