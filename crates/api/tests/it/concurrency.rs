//! 200 concurrent submissions of one challenge: exactly one attestation.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use futures::future::join_all;

use crate::support::{
    Db, Harness, Options, address, attestation_request, card, json_request, wallet_key,
    wallet_key_n,
};

/// 200 different people (cards) race for one challenge: one wins, the rest are told the
/// challenge is used, and the wallet ends up with the winner's attestation.
async fn one_challenge_many_cards(db: Db) {
    let h = Harness::with(Options { db, ..Options::default() }).await;
    let key = wallet_key(40);
    let challenge = h.challenge(address(&key)).await;
    let requests: Vec<_> = (0..200u16)
        .map(|i| {
            let serial = [0x40, (i >> 8) as u8, i as u8];
            attestation_request(&challenge, &card(&serial), &key)
        })
        .collect();
    let replies = join_all(requests.iter().map(|r| h.post("/v1/attestations", r))).await;
    let accepted: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::ACCEPTED).collect();
    assert_eq!(accepted.len(), 1, "exactly one submission wins");
    for reply in replies.iter().filter(|r| r.status != StatusCode::ACCEPTED) {
        reply.assert_problem(StatusCode::CONFLICT, "challenge_used");
    }
    let winner = replies.iter().position(|r| r.status == StatusCode::ACCEPTED).unwrap();
    let status = h.get(&format!("/v1/attestations/{}", address(&key))).await;
    assert_eq!(status.body["attestation_id"], accepted[0].body["attestation_id"]);

    // The winner re-sending gets the same answer; a loser re-sending is still refused.
    let again = h.post("/v1/attestations", &requests[winner]).await;
    assert_eq!(again.body, accepted[0].body);
    h.post("/v1/attestations", &requests[(winner + 1) % 200])
        .await
        .assert_problem(StatusCode::CONFLICT, "challenge_used");
}

/// The same request sent 200 times at once (a retrying client): one attestation; every 202
/// carries it; the others are `challenge_used` (the first was still in flight); a re-send after
/// the dust settles gets the 202.
async fn one_request_sent_200_times(db: Db) {
    let h = Harness::with(Options { db, ..Options::default() }).await;
    let key = wallet_key(41);
    let challenge = h.challenge(address(&key)).await;
    let request = attestation_request(&challenge, &card(&[0x41]), &key);
    let replies = join_all((0..200).map(|_| h.post("/v1/attestations", &request))).await;
    let ids: BTreeSet<String> = replies
        .iter()
        .filter(|r| r.status == StatusCode::ACCEPTED)
        .map(|r| r.body["attestation_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "one attestation, whatever the interleaving");
    for reply in replies.iter().filter(|r| r.status != StatusCode::ACCEPTED) {
        reply.assert_problem(StatusCode::CONFLICT, "challenge_used");
    }
    let settled = h.post("/v1/attestations", &request).await;
    assert_eq!(settled.status, StatusCode::ACCEPTED);
    assert_eq!(settled.body["attestation_id"].as_str(), ids.first().map(String::as_str));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_cards_one_challenge_sqlite() {
    one_challenge_many_cards(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_cards_one_challenge_postgres() {
    one_challenge_many_cards(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_200_times_sqlite() {
    one_request_sent_200_times(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_200_times_postgres() {
    one_request_sent_200_times(Db::Postgres).await;
}

/// 1,000 concurrent distinct flows through two service instances sharing one Postgres: each
/// flow takes its challenge from one instance and submits to the other. Every attestation
/// belongs to its own wallet and certificate: none crossed, none lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_flows_two_instances_one_postgres() {
    const FLOWS: u32 = 1000;
    // This test is about correctness under contention, not latency: 2,000 requests arrive at
    // once on a 2-core machine in a debug build, so the waits for a pool connection and the
    // request timeout are widened to keep every request in the queue instead of answering 503.
    let mut store = honnin_store::StoreOptions::default();
    store.postgres.acquire_timeout = std::time::Duration::from_secs(120);
    let limits = honnin_api::Limits {
        request_timeout: std::time::Duration::from_secs(300),
        ..honnin_api::Limits::default()
    };
    let h = Harness::with(Options { db: Db::Postgres, store, limits, ..Options::default() }).await;
    let other = h.second_instance().await;
    let instances = [h.app.clone(), other];
    let keys: Vec<_> = (0..FLOWS).map(wallet_key_n).collect();
    let cards: Vec<_> = (0..FLOWS).map(|i| card(&[0x7f, (i >> 8) as u8, i as u8])).collect();

    // Each flow is its own task, as each client would be its own connection.
    let flows = keys.iter().zip(&cards).enumerate().map(|(i, (key, card))| {
        let (first, second) = (instances[i % 2].clone(), instances[(i + 1) % 2].clone());
        let (key, card) = (key.clone(), card.clone());
        tokio::spawn(async move {
            let wallet = address(&key);
            let reply = Harness::send_to(
                &first,
                json_request(
                    "/v1/challenges",
                    &serde_json::json!({ "wallet": wallet.to_string() }),
                ),
            )
            .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
            let challenge: honnin_api::ChallengeResponse =
                serde_json::from_value(reply.body).unwrap();
            let request = attestation_request(&challenge, &card, &key);
            let reply = Harness::send_to(&second, json_request("/v1/attestations", &request)).await;
            assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
            assert_eq!(reply.body["wallet"], wallet.to_checksum(None));
            (wallet, request, reply.body["attestation_id"].as_str().unwrap().to_owned())
        })
    });
    let results: Vec<_> =
        join_all(flows).await.into_iter().map(|joined| joined.expect("flow panicked")).collect();

    let ids: BTreeSet<&str> = results.iter().map(|(_, _, id)| id.as_str()).collect();
    assert_eq!(ids.len(), FLOWS as usize, "one attestation per flow");
    for (i, (wallet, request, id)) in results.iter().enumerate() {
        // The wallet's attestation is the one its own flow created…
        let status = Harness::send_to(
            &instances[i % 2],
            axum::http::Request::get(format!("/v1/attestations/{wallet}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status.body["attestation_id"], id.as_str());
        assert_eq!(status.body["status"], "pending");
        // …and re-sending that flow's certificate and signatures (the keyed request digest)
        // leads back to the same attestation and wallet, on either instance.
        if i % 50 == 0 {
            let again =
                Harness::send_to(&instances[i % 2], json_request("/v1/attestations", request))
                    .await;
            assert_eq!(again.status, StatusCode::ACCEPTED);
            assert_eq!(again.body["attestation_id"], id.as_str());
            assert_eq!(again.body["wallet"], wallet.to_checksum(None));
        }
    }
}
