use std::{collections::BTreeSet, sync::Arc};

use honnin_core::{AtLimit, AttestationStatus, B256, OutboxId, OutboxState, StoreError};
use time::Duration;

use crate::harness::{Person, TestDb, attest, both_backends, now, policy, random_wallet};

both_backends!(
    claim_send_confirm_makes_the_attestation_active,
    retry_and_lease_expiry_hand_items_out_again,
    concurrent_claimers_never_share_an_item,
    wrong_state_transitions_are_refused,
);

async fn attest_n(db: &TestDb, n: usize) -> Vec<honnin_core::Recorded> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            attest(&*db.store, &Person::random(), random_wallet(), &policy(1, AtLimit::Refuse))
                .await
                .unwrap(),
        );
    }
    out
}

async fn claim_send_confirm_makes_the_attestation_active(db: &TestDb) {
    let store = &*db.store;
    let recorded = attest_n(db, 3).await;
    let batch = store.claim_outbox(2, Duration::minutes(5), now()).await.unwrap();
    assert_eq!(batch.len(), 2);
    assert!(batch[0].id < batch[1].id, "queue order");
    assert!(batch.iter().all(|i| i.state == OutboxState::Claimed && i.attempts == 1));
    assert_eq!(batch[0].action.wallet(), recorded[0].receipt.wallet);
    let ids: Vec<OutboxId> = batch.iter().map(|i| i.id).collect();

    let tx = B256::repeat_byte(0xaa);
    store.mark_sent(&ids, tx, now()).await.unwrap();
    let in_flight = store.outbox_in_flight().await.unwrap();
    assert_eq!(in_flight.iter().map(|i| i.id).collect::<Vec<_>>(), ids);
    assert!(in_flight.iter().all(|i| i.tx_hash == Some(tx) && i.state == OutboxState::Sent));
    let a = store.attestation_by_wallet(recorded[0].receipt.wallet, None).await.unwrap().unwrap();
    assert_eq!((a.status, a.tx_hash), (AttestationStatus::Pending, Some(tx)));

    store.mark_confirmed(&ids, tx, 1234, now()).await.unwrap();
    assert!(store.outbox_in_flight().await.unwrap().is_empty());
    for r in &recorded[..2] {
        let a = store.attestation_by_wallet(r.receipt.wallet, None).await.unwrap().unwrap();
        assert_eq!(
            (a.status, a.tx_hash, a.block_number),
            (AttestationStatus::Active, Some(tx), Some(1234))
        );
    }
    // The third is still queued; nothing else is.
    let rest = store.claim_outbox(10, Duration::minutes(5), now()).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].action.wallet(), recorded[2].receipt.wallet);
}

async fn retry_and_lease_expiry_hand_items_out_again(db: &TestDb) {
    let store = &*db.store;
    attest_n(db, 2).await;
    let t0 = now();
    let batch = store.claim_outbox(10, Duration::seconds(30), t0).await.unwrap();
    assert_eq!(batch.len(), 2);
    // Claimed items are not handed out again while the lease runs...
    assert!(
        store
            .claim_outbox(10, Duration::seconds(30), t0 + Duration::seconds(29))
            .await
            .unwrap()
            .is_empty()
    );
    // ...but are once it has run out (the writer died).
    let reclaimed =
        store.claim_outbox(10, Duration::seconds(30), t0 + Duration::seconds(30)).await.unwrap();
    assert_eq!(reclaimed.len(), 2);
    assert!(reclaimed.iter().all(|i| i.attempts == 2));

    // Sent, then dropped by the chain: retried later, hash cleared.
    let ids: Vec<_> = reclaimed.iter().map(|i| i.id).collect();
    store.mark_sent(&ids, B256::repeat_byte(1), t0).await.unwrap();
    let retry_at = t0 + Duration::minutes(1);
    store.mark_retry(&ids, "nonce too low", retry_at, now()).await.unwrap();
    let a = store.attestation_by_wallet(reclaimed[0].action.wallet(), None).await.unwrap().unwrap();
    assert_eq!(a.tx_hash, None);
    assert!(
        store
            .claim_outbox(10, Duration::seconds(30), retry_at - Duration::seconds(1))
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_outbox(10, Duration::seconds(30), retry_at).await.unwrap();
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|i| i.tx_hash.is_none() && i.attempts == 3));

    store.mark_failed(&ids, "reverted: invalid level", now()).await.unwrap();
    assert!(
        store
            .claim_outbox(10, Duration::seconds(30), retry_at + Duration::hours(1))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn concurrent_claimers_never_share_an_item(db: &TestDb) {
    attest_n(db, 60).await;
    let stores = [Arc::clone(&db.store), db.another_instance().await];
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                let mut mine = Vec::new();
                loop {
                    let batch = store.claim_outbox(4, Duration::minutes(5), now()).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|i| i.id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let distinct: BTreeSet<_> = all.iter().copied().collect();
    assert_eq!(all.len(), 60, "every item claimed once");
    assert_eq!(distinct.len(), 60, "no item claimed twice");
}

async fn wrong_state_transitions_are_refused(db: &TestDb) {
    let store = &*db.store;
    attest_n(db, 1).await;
    let batch = store.claim_outbox(10, Duration::minutes(5), now()).await.unwrap();
    let id = batch[0].id;
    let missing = OutboxId(id.0 + 1000);
    assert!(matches!(
        store.mark_sent(&[id, missing], B256::ZERO, now()).await,
        Err(StoreError::OutboxItemNotFound { id: m, .. }) if m == missing
    ));
    // The failed call changed nothing (one transaction): the item is still claimed.
    assert!(store.outbox_in_flight().await.unwrap().is_empty());
    store.mark_confirmed(&[id], B256::ZERO, 1, now()).await.unwrap();
    assert!(matches!(
        store.mark_retry(&[id], "late", now(), now()).await,
        Err(StoreError::OutboxItemNotFound { .. })
    ));
    assert!(matches!(
        store.mark_sent(&[id], B256::ZERO, now()).await,
        Err(StoreError::OutboxItemNotFound { .. })
    ));
}
