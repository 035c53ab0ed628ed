//! # honnin-store
//!
//! honnin's persistence behind the domain's [`Store`] trait: Postgres for production (many
//! service instances sharing one database) and SQLite as the embedded default.
//!
//! ```no_run
//! # async fn run() -> Result<(), honnin_store::Error> {
//! use honnin_store::{StoreOptions, connect};
//!
//! let store = connect("sqlite://data/honnin.db", &StoreOptions::default()).await?;
//! store.migrate().await?; // what `honnin migrate` does
//! # Ok(()) }
//! ```
//!
//! ## Why three crates
//!
//! sqlx checks `query!` macros against a live database at build time (or against offline data
//! prepared from one), and one crate's macros read one database URL. So each backend lives in
//! its own crate with its own `sqlx.toml` (`database-url-var`), migrations and `.sqlx/` offline
//! data: `honnin-store-postgres` (`HONNIN_PG_DATABASE_URL`) and `honnin-store-sqlite`
//! (`HONNIN_SQLITE_DATABASE_URL`). This crate is the one entry point: [`connect`] picks the
//! backend from the URL scheme. Builds need no database: with those variables unset the macros
//! read the committed offline data.
//!
//! ## Schema
//!
//! Both backends hold the same model (see each crate's `migrations/`): `challenges`,
//! `persons` (keyed pseudonym), `certificates` (keyed certificate hash → person, notAfter,
//! revocation), `attestations` (wallet, scope, person, certificate, level, claims, times,
//! status, tx hash, block, unique challenge id, request digest, revocation reason; at most one
//! live attestation per wallet and scope by partial unique indexes), `outbox`, `scopes` (the
//! registered scopes) and the webhook tables. No certificate bytes, serials, subjects or public
//! keys are stored.
//!
//! A scoped (per-dApp) record's person and certificate are ordinary `persons` and
//! `certificates` rows under the scope's own keyed hashes (`Pepper::pseudonym_in`,
//! `Pepper::cert_hash_in`): those tables have no scope column, and no stored value joins a
//! person's rows in two scopes. The scope id is kept where the chain has it too: on the
//! attestation, its outbox items and its webhook deliveries (NULL: the global record). Erasure (issue 5) deletes the person — its
//! certificates cascade, attestations keep wallet and chain facts with `person_id` and
//! `certificate_id` set to NULL — and must clear `request_digest`.
//!
//! ## Tests
//!
//! With the `test-utils` feature, [`test_utils::PgCluster`] runs a throwaway Postgres.

use std::sync::Arc;

pub use honnin_core::{SchemaStore, Store, StoreError};
pub use honnin_store_postgres::{PgOptions, PgStore};
pub use honnin_store_sqlite::{SqliteOptions, SqliteStore};

#[cfg(feature = "test-utils")]
pub mod test_utils;

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL's scheme names no supported database.
    #[error("unsupported database URL: expected postgres://, postgresql:// or sqlite:")]
    UnsupportedUrl,
    /// Connecting or migrating failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `Result` with this crate's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// `postgres://…` or `postgresql://…`.
    Postgres,
    /// `sqlite:…` (a file, or `sqlite::memory:`).
    Sqlite,
}

impl Backend {
    /// The backend a database URL names.
    pub fn of_url(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else {
            Err(Error::UnsupportedUrl)
        }
    }
}

/// Pool limits for either backend; only the one the URL names is used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// Limits for a Postgres pool.
    pub postgres: PgOptions,
    /// Limits for a SQLite pool.
    pub sqlite: SqliteOptions,
}

/// A store for a background worker (the chain writer) next to `shared`, the API's store.
///
/// On Postgres it is a pool of its own with `connections` connections: under load the API's
/// requests fill the shared pool, and each of the worker's queries would otherwise wait behind
/// them. Its connections plan with indexes only (see `PgOptions::index_scans_only`). SQLite
/// serialises writers anyway (and `sqlite::memory:` is one database per pool), so there the
/// worker shares `shared`.
pub async fn connect_worker(
    url: &str,
    options: &StoreOptions,
    connections: u32,
    shared: &Arc<dyn Store>,
) -> Result<Arc<dyn Store>> {
    match Backend::of_url(url)? {
        Backend::Postgres => {
            let mut options = options.clone();
            options.postgres.max_connections = connections.max(1);
            options.postgres.min_connections = 1;
            options.postgres.index_scans_only = true;
            connect(url, &options).await
        }
        Backend::Sqlite => Ok(shared.clone()),
    }
}

/// Connects to the database `url` names and returns it as a shared [`Store`]. Does not
/// migrate: call [`SchemaStore::migrate`] (as `honnin migrate` and `honnin serve` do).
///
/// The URL is never logged or put in an error: it may carry a password.
pub async fn connect(url: &str, options: &StoreOptions) -> Result<Arc<dyn Store>> {
    Ok(match Backend::of_url(url)? {
        Backend::Postgres => Arc::new(PgStore::connect(url, &options.postgres).await?),
        Backend::Sqlite => Arc::new(SqliteStore::connect(url, &options.sqlite).await?),
    })
}

/// Connects to `url` and applies pending migrations.
pub async fn migrate(url: &str, options: &StoreOptions) -> Result<Arc<dyn Store>> {
    let store = connect(url, options).await?;
    store.migrate().await?;
    Ok(store)
}
