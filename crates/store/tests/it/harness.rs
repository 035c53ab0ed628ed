//! One test body, two backends.

use std::{num::NonZeroU32, sync::Arc};

use honnin_core::{
    Address, AtLimit, CertHash, ChallengeId, ChallengeSettings, Pepper, PersonPseudonym, Policy,
    Purpose, ScopeName, ServiceDomain, Store, VerifiedRequest, WalletProof,
    attestation::NewAttestation,
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
    /// The certificate's notAfter: the card's, the same whatever record it is presented for.
    pub(crate) not_after: OffsetDateTime,
}

impl Person {
    pub(crate) fn random() -> Self {
        use rand::RngCore;
        let mut serial = vec![0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut serial);
        let mut certificate = vec![0u8; 1200];
        rand::rngs::OsRng.fill_bytes(&mut certificate);
        let not_after = honnin_core::time::truncate(now() + Duration::days(4 * 365));
        Self { root_key_id: vec![0x8c; 20], serial, certificate, not_after }
    }

    /// Their pseudonym in `scope` (`None`: the global one), as the API computes it.
    pub(crate) fn pseudonym_in(&self, scope: Option<&ScopeName>) -> PersonPseudonym {
        pepper().pseudonym_in(scope.map(ScopeName::id).as_ref(), &self.root_key_id, &self.serial)
    }

    /// Their certificate's hash in `scope` (`None`: the global one), as the API computes it.
    pub(crate) fn cert_in(&self, scope: Option<&ScopeName>) -> CertHash {
        pepper().cert_hash_in(scope.map(ScopeName::id).as_ref(), &self.root_key_id, &self.serial)
    }
}

/// Registers the scope `name` and returns it.
pub(crate) async fn register(store: &dyn Store, name: &str) -> ScopeName {
    let name = ScopeName::new(name).unwrap();
    store.register_scope(&name, now()).await.unwrap();
    name
}

pub(crate) fn pepper() -> Pepper {
    Pepper::from_bytes(vec![7; 32]).unwrap()
}

/// Issues, stores and consumes an attest challenge for `wallet`; returns its id.
pub(crate) async fn consumed_challenge(store: &dyn Store, wallet: Address) -> ChallengeId {
    consumed_challenge_in(store, wallet, None, now()).await
}

/// [`consumed_challenge`] for a record in `scope`, issued and consumed `at`.
pub(crate) async fn consumed_challenge_in(
    store: &dyn Store,
    wallet: Address,
    scope: Option<&ScopeName>,
    at: OffsetDateTime,
) -> ChallengeId {
    let challenge = settings().issue_in(Purpose::Attest, wallet, None, scope.cloned(), at);
    store.insert_challenge(&challenge).await.unwrap();
    store.consume_challenge(&challenge.id, Purpose::Attest, at).await.unwrap();
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
    new_attestation_in(person, wallet, None, challenge, card_signature, at)
}

/// [`new_attestation`] for a record in `scope`: the person's and certificate's hashes are the
/// scope's, as the API computes them.
pub(crate) fn new_attestation_in(
    person: &Person,
    wallet: Address,
    scope: Option<&ScopeName>,
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
        scope: scope.map(ScopeName::id),
        person: person.pseudonym_in(scope),
        cert: person.cert_in(scope),
        cert_not_after: person.not_after,
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
    attest_in(store, person, wallet, None, policy).await
}

/// [`attest`] in `scope` (`None`: the global record).
pub(crate) async fn attest_in(
    store: &dyn Store,
    person: &Person,
    wallet: Address,
    scope: Option<&ScopeName>,
    policy: &Policy,
) -> Result<honnin_core::Recorded, honnin_core::StoreError> {
    attest_at(store, person, wallet, scope, policy, now()).await
}

/// [`attest_in`], everything happening `at`.
pub(crate) async fn attest_at(
    store: &dyn Store,
    person: &Person,
    wallet: Address,
    scope: Option<&ScopeName>,
    policy: &Policy,
    at: OffsetDateTime,
) -> Result<honnin_core::Recorded, honnin_core::StoreError> {
    let challenge = consumed_challenge_in(store, wallet, scope, at).await;
    let new = new_attestation_in(person, wallet, scope, challenge, b"card signature", at);
    store.record_attestation(&new, policy, at).await
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

/// One table of a [`tables`] dump.
pub(crate) struct Table {
    pub(crate) name: String,
    pub(crate) columns: Vec<String>,
    /// Each row's values as text (`None`: NULL); blobs as lowercase hex, on both backends.
    pub(crate) rows: Vec<Vec<Option<String>>>,
}

/// Every row of every table of the test database, column by column.
pub(crate) async fn tables(db: &TestDb) -> Vec<Table> {
    use sqlx::{AssertSqlSafe, Row};
    let mut out = Vec::new();
    match db.backend {
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            for name in names {
                let columns: Vec<String> = sqlx::query_scalar(
                    "SELECT column_name::text FROM information_schema.columns
                     WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                )
                .bind(&name)
                .fetch_all(&pool)
                .await
                .unwrap();
                let select =
                    columns.iter().map(|c| format!("\"{c}\"::text")).collect::<Vec<_>>().join(", ");
                let rows: Vec<Vec<Option<String>>> = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT ARRAY[{select}]::text[] FROM \"{name}\""
                )))
                .fetch_all(&pool)
                .await
                .unwrap();
                // bytea renders as \x<hex>.
                let rows = rows
                    .into_iter()
                    .map(|row| {
                        row.into_iter()
                            .map(|v| {
                                v.map(|v| v.strip_prefix("\\x").map_or(v.clone(), str::to_owned))
                            })
                            .collect()
                    })
                    .collect();
                out.push(Table { name, columns, rows });
            }
        }
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            for name in names {
                let columns: Vec<String> =
                    sqlx::query(AssertSqlSafe(format!("PRAGMA table_info(\"{name}\")")))
                        .fetch_all(&pool)
                        .await
                        .unwrap()
                        .iter()
                        .map(|row| row.get::<String, _>("name"))
                        .collect();
                // quote() renders NULL, numbers, 'text' and X'<HEX>'; char(31) separates them.
                let select = columns
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || char(31) || ");
                let rows: Vec<String> =
                    sqlx::query_scalar(AssertSqlSafe(format!("SELECT {select} FROM \"{name}\"")))
                        .fetch_all(&pool)
                        .await
                        .unwrap();
                let value = |v: &str| -> Option<String> {
                    if v == "NULL" {
                        None
                    } else if let Some(hex) =
                        v.strip_prefix("X'").and_then(|v| v.strip_suffix('\''))
                    {
                        Some(hex.to_lowercase())
                    } else if let Some(text) =
                        v.strip_prefix('\'').and_then(|v| v.strip_suffix('\''))
                    {
                        Some(text.replace("''", "'"))
                    } else {
                        Some(v.to_owned())
                    }
                };
                let rows = rows.iter().map(|r| r.split('\u{1f}').map(value).collect()).collect();
                out.push(Table { name, columns, rows });
            }
        }
    }
    out
}
