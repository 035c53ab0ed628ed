//! 200 concurrent submissions of one challenge: exactly one attestation.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use futures::future::join_all;

use crate::support::{Db, Harness, Options, address, attestation_request, card, wallet_key};

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
