use honnin_core::Purpose;
use honnin_store::{Backend, Error, StoreOptions, connect, migrate};

use crate::harness::{TestDb, both_backends, now, random_wallet, settings};

both_backends!(migrations_are_idempotent);

async fn migrations_are_idempotent(db: &TestDb) {
    db.store.migrate().await.unwrap();
    db.another_instance().await.migrate().await.unwrap();
    db.store.ping().await.unwrap();
}

#[test]
fn backend_comes_from_the_url() {
    assert_eq!(Backend::of_url("postgres://u@h/db").unwrap(), Backend::Postgres);
    assert_eq!(Backend::of_url("postgresql://u@h/db").unwrap(), Backend::Postgres);
    assert_eq!(Backend::of_url("sqlite://data/honnin.db").unwrap(), Backend::Sqlite);
    assert_eq!(Backend::of_url("sqlite::memory:").unwrap(), Backend::Sqlite);
    assert!(matches!(Backend::of_url("mysql://u@h/db"), Err(Error::UnsupportedUrl)));
}

#[tokio::test]
async fn unsupported_url_never_echoes_the_url() {
    let err = connect("mysql://user:secret@host/db", &StoreOptions::default()).await.err().unwrap();
    assert!(matches!(err, Error::UnsupportedUrl));
    assert!(!err.to_string().contains("secret"));
}

#[tokio::test]
async fn in_memory_sqlite_is_one_database() {
    let store = migrate("sqlite::memory:", &StoreOptions::default()).await.unwrap();
    let challenge = settings().issue(Purpose::Attest, random_wallet(), None, now());
    store.insert_challenge(&challenge).await.unwrap();
    // Concurrent callers share the single connection, so they see the same database.
    let (a, b) = tokio::join!(
        store.consume_challenge(&challenge.id, Purpose::Attest, now()),
        store.consume_challenge(&challenge.id, Purpose::Attest, now()),
    );
    assert!(a.is_ok() != b.is_ok(), "exactly one consume wins");
}
