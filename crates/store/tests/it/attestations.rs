use std::sync::Arc;

use honnin_core::{
    AtLimit, AttestationStatus, Claims, Level, OutboxAction, RevocationReason, StoreError,
};
use time::Duration;

use crate::harness::{
    Person, TestDb, attest, both_backends, consumed_challenge, new_attestation, now, policy,
    random_wallet,
};

both_backends!(
    recorded_attestation_is_pending_and_queued,
    resubmission_returns_the_original_answer,
    refuse_at_the_limit_under_concurrency,
    rotate_at_the_limit_under_concurrency,
    rotate_keeps_the_newest_n,
    one_live_attestation_per_wallet_across_persons,
    lapsed_attestations_free_the_wallet_and_the_person,
);

async fn recorded_attestation_is_pending_and_queued(db: &TestDb) {
    let store = &*db.store;
    let (person, wallet) = (Person::random(), random_wallet());
    let recorded = attest(store, &person, wallet, &policy(1, AtLimit::Refuse)).await.unwrap();
    assert!(!recorded.replayed);
    assert!(recorded.rotated.is_empty());
    assert_eq!(recorded.receipt.status, AttestationStatus::Pending);
    assert_eq!(recorded.receipt.wallet, wallet);

    let a = store.attestation_by_wallet(wallet, None).await.unwrap().unwrap();
    assert_eq!(a.id, recorded.receipt.attestation_id);
    assert_eq!(a.status, AttestationStatus::Pending);
    assert_eq!((a.level, a.claims), (Level::JPKI_USER_AUTH, Claims::UNIQUE_PERSON));
    assert_eq!(a.expires_at, recorded.receipt.expires_at);
    assert_eq!((a.tx_hash, a.block_number, a.revocation_reason), (None, None, None));
    assert_eq!(store.attestation(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.attestation_by_wallet(random_wallet(), None).await.unwrap(), None);

    let items = store.claim_outbox(10, Duration::minutes(1), now()).await.unwrap();
    assert_eq!(items.len(), 1);
    match &items[0].action {
        OutboxAction::Attest {
            attestation,
            wallet: w,
            level,
            claims,
            issued_at,
            expires_at,
            scope: None,
        } => {
            assert_eq!((attestation, w, level, claims), (&a.id, &wallet, &a.level, &a.claims));
            assert_eq!((issued_at, expires_at), (&a.issued_at, &a.expires_at));
        }
        other => panic!("expected an attest item, got {other:?}"),
    }
}

async fn resubmission_returns_the_original_answer(db: &TestDb) {
    let store = &*db.store;
    let (person, wallet) = (Person::random(), random_wallet());
    let challenge = consumed_challenge(store, wallet).await;
    let first = new_attestation(&person, wallet, challenge, b"sig", now());
    let original =
        store.record_attestation(&first, &policy(1, AtLimit::Refuse), now()).await.unwrap();

    // The same request again (the service derives a new attestation id each time).
    let again = new_attestation(&person, wallet, challenge, b"sig", now());
    assert_ne!(again.id, first.id);
    let replayed =
        store.record_attestation(&again, &policy(1, AtLimit::Refuse), now()).await.unwrap();
    assert!(replayed.replayed);
    assert_eq!(replayed.receipt, original.receipt);
    assert_eq!(
        store.replay(&challenge, &first.request_digest, now()).await.unwrap(),
        Some(original.receipt.clone())
    );

    // Different evidence for the same challenge is not a replay.
    let other = new_attestation(&person, wallet, challenge, b"other sig", now());
    assert!(matches!(
        store.record_attestation(&other, &policy(1, AtLimit::Refuse), now()).await,
        Err(StoreError::ChallengeAlreadyAnswered)
    ));
    assert_eq!(store.replay(&challenge, &other.request_digest, now()).await.unwrap(), None);

    // Exactly one attestation and one outbox item exist.
    let items = store.claim_outbox(10, Duration::minutes(1), now()).await.unwrap();
    assert_eq!(items.len(), 1);
}

/// Runs `n` concurrent submissions for one person, each with its own wallet and challenge.
async fn race_one_person(
    db: &TestDb,
    n: usize,
    policy: honnin_core::Policy,
) -> Vec<Result<honnin_core::Recorded, StoreError>> {
    let person = Person::random();
    let stores = [Arc::clone(&db.store), db.another_instance().await];
    let mut prepared = Vec::new();
    for i in 0..n {
        let wallet = random_wallet();
        let challenge = consumed_challenge(&*db.store, wallet).await;
        prepared.push((
            Arc::clone(&stores[i % 2]),
            new_attestation(&person, wallet, challenge, b"s", now()),
        ));
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = prepared
        .into_iter()
        .map(|(store, new)| {
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                store.record_attestation(&new, &policy, now()).await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

async fn refuse_at_the_limit_under_concurrency(db: &TestDb) {
    let results = race_one_person(db, 30, policy(1, AtLimit::Refuse)).await;
    let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::WalletLimitReached { limit: 1 })))
        .count();
    assert_eq!((won.len(), refused), (1, 29), "{results:?}");
    let winner =
        db.store.attestation_by_wallet(won[0].receipt.wallet, None).await.unwrap().unwrap();
    assert_eq!(winner.status, AttestationStatus::Pending);
}

async fn rotate_at_the_limit_under_concurrency(db: &TestDb) {
    let results = race_one_person(db, 30, policy(1, AtLimit::Rotate)).await;
    let recorded: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    // Every submission but the first rotated exactly one older wallet out.
    let rotations: usize = recorded.iter().map(|r| r.rotated.len()).sum();
    assert_eq!(rotations, 29);
    let mut live = 0;
    for r in &recorded {
        let a = db.store.attestation_by_wallet(r.receipt.wallet, None).await.unwrap().unwrap();
        match a.status {
            AttestationStatus::Pending => live += 1,
            AttestationStatus::Revoked => {
                assert_eq!(a.revocation_reason, Some(RevocationReason::Rotated));
                assert!(a.revoked_at.is_some());
            }
            other => panic!("unexpected status {other:?}"),
        }
    }
    assert_eq!(live, 1, "exactly one live wallet after the race");
    // Rotated-out attestations were never claimed, so their attest items were cancelled and no
    // revoke was queued: the outbox holds only the survivor.
    let items = db.store.claim_outbox(100, Duration::minutes(1), now()).await.unwrap();
    assert_eq!(items.len(), 1);
}

async fn rotate_keeps_the_newest_n(db: &TestDb) {
    let store = &*db.store;
    let person = Person::random();
    let two = policy(2, AtLimit::Rotate);
    let wallets: Vec<_> = (0..4).map(|_| random_wallet()).collect();
    let first = attest(store, &person, wallets[0], &two).await.unwrap();
    // The first attestation's item goes out to the chain before the person rotates.
    let claimed = store.claim_outbox(10, Duration::minutes(1), now()).await.unwrap();
    assert_eq!(claimed.len(), 1);
    attest(store, &person, wallets[1], &two).await.unwrap();
    let third = attest(store, &person, wallets[2], &two).await.unwrap();
    assert_eq!(third.rotated.len(), 1);
    assert_eq!(third.rotated[0].wallet, wallets[0]);
    assert_eq!(third.rotated[0].attestation_id, first.receipt.attestation_id);
    let fourth = attest(store, &person, wallets[3], &two).await.unwrap();
    assert_eq!(fourth.rotated[0].wallet, wallets[1]);
    let statuses: Vec<_> = {
        let mut s = Vec::new();
        for w in &wallets {
            s.push(store.attestation_by_wallet(*w, None).await.unwrap().unwrap().status);
        }
        s
    };
    use AttestationStatus::{Pending, Revoked};
    assert_eq!(statuses, [Revoked, Revoked, Pending, Pending]);

    // wallet 0 was already claimed: its revoke is queued but waits behind its attest.
    let items = store.claim_outbox(10, Duration::minutes(1), now()).await.unwrap();
    let wallets_out: Vec<_> = items.iter().map(|i| (i.action.kind(), i.action.wallet())).collect();
    assert_eq!(wallets_out, [("attest", wallets[2]), ("attest", wallets[3])]);
    store.mark_confirmed(&[claimed[0].id], Default::default(), 7, now()).await.unwrap();
    let items = store.claim_outbox(10, Duration::minutes(1), now()).await.unwrap();
    assert_eq!(items.len(), 1);
    assert!(matches!(
        items[0].action,
        OutboxAction::Revoke { wallet, reason: RevocationReason::Rotated, .. } if wallet == wallets[0]
    ));
    // Confirming the attest does not resurrect the rotated-out attestation.
    let a0 = store.attestation_by_wallet(wallets[0], None).await.unwrap().unwrap();
    assert_eq!(a0.status, AttestationStatus::Revoked);
}

async fn one_live_attestation_per_wallet_across_persons(db: &TestDb) {
    let store = &*db.store;
    let wallet = random_wallet();
    attest(store, &Person::random(), wallet, &policy(1, AtLimit::Refuse)).await.unwrap();
    assert!(matches!(
        attest(store, &Person::random(), wallet, &policy(1, AtLimit::Refuse)).await,
        Err(StoreError::WalletAlreadyAttested)
    ));

    // Twenty different persons race for one fresh wallet: one wins.
    let wallet = random_wallet();
    let stores = [Arc::clone(&db.store), db.another_instance().await];
    let mut prepared = Vec::new();
    for i in 0..20 {
        let challenge = consumed_challenge(store, wallet).await;
        prepared.push((
            Arc::clone(&stores[i % 2]),
            new_attestation(&Person::random(), wallet, challenge, b"s", now()),
        ));
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(prepared.len()));
    let tasks: Vec<_> = prepared
        .into_iter()
        .map(|(store, new)| {
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                store.record_attestation(&new, &policy(1, AtLimit::Refuse), now()).await
            })
        })
        .collect();
    let (mut won, mut taken) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::WalletAlreadyAttested) => taken += 1,
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!((won, taken), (1, 19));
}

async fn lapsed_attestations_free_the_wallet_and_the_person(db: &TestDb) {
    let store = &*db.store;
    let (person, wallet) = (Person::random(), random_wallet());
    let issued = now() - Duration::days(400);
    let challenge = consumed_challenge(store, wallet).await;
    let old = new_attestation(&person, wallet, challenge, b"s", issued);
    // Issued 400 days ago with a 365-day maximum age: expired today.
    store.record_attestation(&old, &policy(1, AtLimit::Refuse), issued).await.unwrap();
    let a = store.attestation_by_wallet(wallet, None).await.unwrap().unwrap();
    assert_eq!(a.status, AttestationStatus::Pending, "stored status");
    assert_eq!(a.status_at(now()), AttestationStatus::Expired, "derived status");

    // Both the person (limit 1, refuse) and the wallet may attest again.
    let again = attest(store, &person, wallet, &policy(1, AtLimit::Refuse)).await.unwrap();
    let current = store.attestation_by_wallet(wallet, None).await.unwrap().unwrap();
    assert_eq!(current.id, again.receipt.attestation_id);
    assert_eq!(
        store.attestation(&old.id).await.unwrap().unwrap().status,
        AttestationStatus::Expired
    );
    // The lapsed attestation's unsent attest item was cancelled: only the new one goes out.
    let items = store.claim_outbox(10, Duration::minutes(1), now()).await.unwrap();
    assert_eq!(items.len(), 1);
    assert!(
        matches!(items[0].action, OutboxAction::Attest { attestation, .. } if attestation == again.receipt.attestation_id)
    );
}
