use std::sync::Arc;

use honnin_core::{Audience, Purpose, StoreError};
use time::Duration;

use crate::harness::{TestDb, both_backends, now, random_wallet, settings};

both_backends!(
    challenge_round_trips_and_is_single_use,
    challenge_errors_say_why,
    two_hundred_concurrent_consumes_one_winner,
    expired_challenges_are_purged,
);

async fn challenge_round_trips_and_is_single_use(db: &TestDb) {
    let store = &db.store;
    let challenge = settings().issue(
        Purpose::Attest,
        random_wallet(),
        Some(Audience::new("https://dapp.example").unwrap()),
        now(),
    );
    store.insert_challenge(&challenge).await.unwrap();
    assert!(matches!(
        store.insert_challenge(&challenge).await,
        Err(StoreError::DuplicateChallenge)
    ));
    let consumed = store.consume_challenge(&challenge.id, Purpose::Attest, now()).await.unwrap();
    assert_eq!(consumed, challenge, "every field survives the round trip");
    assert_eq!(consumed.message(), challenge.message(), "the message re-renders identically");
    assert!(matches!(
        store.consume_challenge(&challenge.id, Purpose::Attest, now()).await,
        Err(StoreError::ChallengeUsed)
    ));
}

async fn challenge_errors_say_why(db: &TestDb) {
    let store = &db.store;
    let unknown = settings().issue(Purpose::Attest, random_wallet(), None, now());
    assert!(matches!(
        store.consume_challenge(&unknown.id, Purpose::Attest, now()).await,
        Err(StoreError::ChallengeNotFound)
    ));

    let challenge = settings().issue(Purpose::Attest, random_wallet(), None, now());
    store.insert_challenge(&challenge).await.unwrap();
    // Wrong purpose: refused and NOT consumed.
    assert!(matches!(
        store.consume_challenge(&challenge.id, Purpose::Revoke, now()).await,
        Err(StoreError::ChallengePurposeMismatch)
    ));
    // Expired: at expires_at it is no longer usable.
    assert!(matches!(
        store.consume_challenge(&challenge.id, Purpose::Attest, challenge.expires_at).await,
        Err(StoreError::ChallengeExpired)
    ));
    // One second before, it is.
    let just_in_time = challenge.expires_at - Duration::seconds(1);
    store.consume_challenge(&challenge.id, Purpose::Attest, just_in_time).await.unwrap();
    assert!(matches!(
        store.consume_challenge(&challenge.id, Purpose::Attest, just_in_time).await,
        Err(StoreError::ChallengeUsed)
    ));
}

async fn two_hundred_concurrent_consumes_one_winner(db: &TestDb) {
    let challenge = settings().issue(Purpose::Attest, random_wallet(), None, now());
    db.store.insert_challenge(&challenge).await.unwrap();
    // Two instances (two pools) race, as two service instances would.
    let stores = [Arc::clone(&db.store), db.another_instance().await];
    let barrier = Arc::new(tokio::sync::Barrier::new(200));
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            let barrier = Arc::clone(&barrier);
            let id = challenge.id;
            tokio::spawn(async move {
                barrier.wait().await;
                store.consume_challenge(&id, Purpose::Attest, now()).await
            })
        })
        .collect();
    let mut won = 0;
    let mut used = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(c) => {
                assert_eq!(c.id, challenge.id);
                won += 1;
            }
            Err(StoreError::ChallengeUsed) => used += 1,
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!((won, used), (1, 199));
}

async fn expired_challenges_are_purged(db: &TestDb) {
    let old = settings().issue(Purpose::Attest, random_wallet(), None, now() - Duration::hours(2));
    let fresh = settings().issue(Purpose::Attest, random_wallet(), None, now());
    db.store.insert_challenge(&old).await.unwrap();
    db.store.insert_challenge(&fresh).await.unwrap();
    assert_eq!(db.store.purge_challenges(now() - Duration::hours(1)).await.unwrap(), 1);
    assert!(matches!(
        db.store.consume_challenge(&old.id, Purpose::Attest, now()).await,
        Err(StoreError::ChallengeNotFound)
    ));
    db.store.consume_challenge(&fresh.id, Purpose::Attest, now()).await.unwrap();
}
