//! One test body, two backends.

use std::{num::NonZeroU32, sync::Arc};

use honnin_core::{
    Address, AtLimit, ChallengeId, ChallengeSettings, Pepper, Policy, Purpose, ServiceDomain,
    Store, VerifiedRequest, WalletProof, attestation::NewAttestation,
};
use honnin_store::{Backend, StoreOptions, connect, test_utils};
use tempfile::TempDir;
use time::{Duration, OffsetDateTime};

/// Runs each named async body (`async fn name(db: &TestDb)`) once on Postgres and once on
/// SQLite, as `name::postgres` and `name::sqlite`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    let db = $crate::harness::TestDb::postgres().await;
                    super::$name(&db).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    let db = $crate::harness::TestDb::sqlite().await;
                    super::$name(&db).await;
                }
            }
        )*
    };
}
pub(crate) use both_backends;

/// A migrated, empty database of one backend, deleted (or abandoned with its cluster) on drop.
pub(crate) struct TestDb {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) url: String,
    pub(crate) backend: Backend,
    _guard: Guard,
}

#[allow(dead_code)] // holds resources until drop
enum Guard {
    Postgres(test_utils::TestServer),
    Sqlite(TempDir),
}

pub(crate) fn options() -> StoreOptions {
    let mut options = StoreOptions::default();
    options.postgres.max_connections = 20;
    options.sqlite.max_connections = 8;
    options
}

impl TestDb {
    pub(crate) async fn postgres() -> Self {
        let (server, url) = tokio::task::spawn_blocking(|| {
            let server = test_utils::test_server().unwrap();
            let url = server.create_database().unwrap();
            (server, url)
        })
        .await
        .unwrap();
        let store = connect(&url, &options()).await.unwrap();
        store.migrate().await.unwrap();
        Self { store, url, backend: Backend::Postgres, _guard: Guard::Postgres(server) }
    }

    pub(crate) async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("honnin.db").display());
        let store = connect(&url, &options()).await.unwrap();
        store.migrate().await.unwrap();
        Self { store, url, backend: Backend::Sqlite, _guard: Guard::Sqlite(dir) }
    }

    /// A second, independent pool on the same database (another service instance).
    pub(crate) async fn another_instance(&self) -> Arc<dyn Store> {
        connect(&self.url, &options()).await.unwrap()
    }
}

pub(crate) fn now() -> OffsetDateTime {
    honnin_core::time::now()
}

pub(crate) fn settings() -> ChallengeSettings {
    ChallengeSettings::new(
        ServiceDomain::new("honnin.test").unwrap(),
        31337,
        Address::repeat_byte(0x42),
    )
}

pub(crate) fn random_wallet() -> Address {
    let mut bytes = [0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    Address::from(bytes)
}

pub(crate) fn policy(max: u32, at_limit: AtLimit) -> Policy {
    Policy::new(NonZeroU32::new(max).unwrap(), at_limit, Duration::days(365)).unwrap()
}

/// A simulated person: the inputs of their keyed hashes.
#[derive(Clone)]
pub(crate) struct Person {
    pub(crate) root_key_id: Vec<u8>,
    pub(crate) serial: Vec<u8>,
    pub(crate) certificate: Vec<u8>,
}

impl Person {
    pub(crate) fn random() -> Self {
        use rand::RngCore;
        let mut serial = vec![0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut serial);
        let mut certificate = vec![0u8; 1200];
        rand::rngs::OsRng.fill_bytes(&mut certificate);
        Self { root_key_id: vec![0x8c; 20], serial, certificate }
    }
}

pub(crate) fn pepper() -> Pepper {
    Pepper::from_bytes(vec![7; 32]).unwrap()
}

/// Issues, stores and consumes an attest challenge for `wallet`; returns its id.
pub(crate) async fn consumed_challenge(store: &dyn Store, wallet: Address) -> ChallengeId {
    let challenge = settings().issue(Purpose::Attest, wallet, None, now());
    store.insert_challenge(&challenge).await.unwrap();
    store.consume_challenge(&challenge.id, Purpose::Attest, now()).await.unwrap();
    challenge.id
}

/// A verified attestation request for `person` and `wallet` answering `challenge`.
pub(crate) fn new_attestation(
    person: &Person,
    wallet: Address,
    challenge: ChallengeId,
    card_signature: &[u8],
    at: OffsetDateTime,
) -> NewAttestation {
    let pepper = pepper();
    let request = VerifiedRequest {
        challenge_id: challenge,
        request_digest: pepper.request_digest(
            &challenge,
            &person.certificate,
            card_signature,
            wallet.as_slice(),
        ),
        wallet,
        wallet_proof: WalletProof::Eoa,
        scope: None,
        person: pepper.pseudonym(&person.root_key_id, &person.serial),
        cert: pepper.cert_hash(&person.root_key_id, &person.serial),
        cert_not_after: at + Duration::days(5 * 365),
        sealed: pepper.seal_cert(&person.root_key_id, &person.serial),
    };
    NewAttestation::new(request, &policy(1, AtLimit::Refuse), at)
}

/// Consumes a fresh challenge and records an attestation for `person` and `wallet`.
pub(crate) async fn attest(
    store: &dyn Store,
    person: &Person,
    wallet: Address,
    policy: &Policy,
) -> Result<honnin_core::Recorded, honnin_core::StoreError> {
    let challenge = consumed_challenge(store, wallet).await;
    let new = new_attestation(person, wallet, challenge, b"card signature", now());
    store.record_attestation(&new, policy, now()).await
}

/// Runs raw statements on the test database (`pg` on Postgres, `sqlite` on SQLite), for
/// tampering and scans the store's API does not offer; returns the rows affected.
pub(crate) async fn exec(db: &TestDb, pg: &str, sqlite: &str) -> u64 {
    use sqlx::AssertSqlSafe;
    match db.backend {
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            sqlx::raw_sql(AssertSqlSafe(pg.to_owned()))
                .execute(&pool)
                .await
                .unwrap()
                .rows_affected()
        }
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            sqlx::raw_sql(AssertSqlSafe(sqlite.to_owned()))
                .execute(&pool)
                .await
                .unwrap()
                .rows_affected()
        }
    }
}

/// A count from raw SQL that both backends accept (`SELECT count(*) …`).
pub(crate) async fn count(db: &TestDb, sql: &str) -> i64 {
    use sqlx::AssertSqlSafe;
    match db.backend {
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_owned()))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_owned()))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    }
}
