use std::sync::Arc;

use honnin_core::LeaseName;

use crate::harness::{TestDb, both_backends, now};

both_backends!(only_one_instance_holds_the_writer_lease, lease_race_has_one_winner);

async fn only_one_instance_holds_the_writer_lease(db: &TestDb) {
    let a = Arc::clone(&db.store);
    let b = db.another_instance().await;
    let mut held =
        a.try_lease(LeaseName::CHAIN_WRITER, now()).await.unwrap().expect("a takes the lease");
    assert_eq!(held.name(), LeaseName::CHAIN_WRITER);
    assert!(
        b.try_lease(LeaseName::CHAIN_WRITER, now()).await.unwrap().is_none(),
        "b must not get it"
    );
    assert!(
        a.try_lease(LeaseName::CHAIN_WRITER, now()).await.unwrap().is_none(),
        "not even a second time in a"
    );
    assert!(held.is_held(now()).await.unwrap());
    // Another lease name is independent.
    let other = b
        .try_lease(LeaseName("revocation-sync"), now())
        .await
        .unwrap()
        .expect("other name is free");
    other.release().await.unwrap();

    held.release().await.unwrap();
    let mut taken_over =
        b.try_lease(LeaseName::CHAIN_WRITER, now()).await.unwrap().expect("b takes over");
    assert!(taken_over.is_held(now()).await.unwrap());
    assert!(a.try_lease(LeaseName::CHAIN_WRITER, now()).await.unwrap().is_none());
    taken_over.release().await.unwrap();
}

async fn lease_race_has_one_winner(db: &TestDb) {
    let stores = [Arc::clone(&db.store), db.another_instance().await];
    let barrier = Arc::new(tokio::sync::Barrier::new(10));
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                store.try_lease(LeaseName::CHAIN_WRITER, now()).await.unwrap()
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        if let Some(lease) = task.await.unwrap() {
            winners.push(lease);
        }
    }
    assert_eq!(winners.len(), 1);
    for lease in winners {
        lease.release().await.unwrap();
    }
}
