//! # honnin-store-sqlite
//!
//! [`SqliteStore`]: honnin's [`Store`](honnin_core::Store) on SQLite, the embedded default
//! (one service instance, a file in a data folder). Use it through the `honnin-store` facade
//! (`honnin_store::connect`), which picks the backend from the database URL.
//!
//! - Queries are compile-checked (`sqlx::query!`) against the migrations in `migrations/`; the
//!   offline data is committed in `.sqlx/`. This crate's `sqlx.toml` points the macros and
//!   `sqlx-cli` at `HONNIN_SQLITE_DATABASE_URL`, so it can be prepared independently of the
//!   Postgres crate (`cargo sqlx prepare` in this folder).
//! - The database runs in WAL mode with a busy timeout; every write transaction starts with
//!   `BEGIN IMMEDIATE`, which takes the database's single write lock up front. That is what
//!   serialises concurrent submissions for one person (SQLite has no row locks), and it avoids
//!   the `SQLITE_BUSY` a deferred transaction gets when it upgrades from read to write.
//! - Times are stored as Unix seconds (the audit log's as Unix microseconds, which its hash
//!   commits to).
//! - The outbox is claimed in per-wallet order (an item waits for every earlier open item of
//!   its wallet).
//! - Leases are rows with a holder token and an expiry that
//!   [`Lease::is_held`](honnin_core::Lease::is_held) extends.
//! - `sqlite::memory:` works (one connection, so one database); data is lost with the process.
//!
//! ## Layout
//!
//! One file per role of the store port (`honnin_core::store`), plus the rows and the
//! migrations:
//!
//! | file | implements |
//! |---|---|
//! | `migrate.rs` | [`SchemaStore`](honnin_core::SchemaStore): the embedded [`MIGRATOR`], ping |
//! | `challenges.rs` | [`ChallengeStore`](honnin_core::ChallengeStore) |
//! | `attestations.rs` | [`AttestationStore`](honnin_core::AttestationStore): the attestation transaction in Rust, replays, reads |
//! | `revocations.rs` | [`RevocationStore`](honnin_core::RevocationStore), and the revocation every path shares |
//! | `erasure.rs` | [`ErasureStore`](honnin_core::ErasureStore) |
//! | `expiry.rs` | [`ExpiryStore`](honnin_core::ExpiryStore) |
//! | `cert_status.rs` | [`CertStatusStore`](honnin_core::CertStatusStore) |
//! | `outbox.rs` | [`OutboxStore`](honnin_core::OutboxStore) |
//! | `lease.rs` | [`LeaseStore`](honnin_core::LeaseStore): timed lease rows ([`LEASE_TTL`]) |
//! | `audit.rs` | [`AuditStore`](honnin_core::AuditStore) |
//! | `scopes.rs` | [`ScopeStore`](honnin_core::ScopeStore): the registered scopes |
//! | `webhooks.rs` | [`WebhookStore`](honnin_core::WebhookStore): endpoints and the delivery outbox (queued by migration 0003's triggers) |
//! | `rows.rs` | rows as SQLite types them (Unix seconds), read through `honnin_core::stored` |
//! | `error.rs` | sqlx errors as [`StoreError`] |

mod attestations;
mod audit;
mod cert_status;
mod challenges;
mod erasure;
mod error;
mod expiry;
mod lease;
mod migrate;
mod outbox;
mod revocations;
mod rows;
mod scopes;
mod webhooks;

use std::{str::FromStr, sync::Arc, time::Duration as StdDuration};

use honnin_core::StoreError;
use sqlx::{
    Sqlite, SqlitePool, Transaction,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use tokio::sync::{Mutex, MutexGuard};

pub use lease::LEASE_TTL;
pub use migrate::MIGRATOR;

use error::db;

/// Pool limits for [`SqliteStore::connect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Most connections the pool opens (default [`Self::DEFAULT_MAX_CONNECTIONS`]; always 1 for
    /// an in-memory database).
    /// Readers run in parallel in WAL mode; writers take turns.
    pub max_connections: u32,
    /// How long a caller waits for a free connection before [`StoreError::PoolTimedOut`]
    /// (default [`Self::DEFAULT_ACQUIRE_TIMEOUT`]).
    pub acquire_timeout: StdDuration,
    /// How long a writer waits for the write lock before failing (default
    /// [`Self::DEFAULT_BUSY_TIMEOUT`]).
    pub busy_timeout: StdDuration,
}

impl SqliteOptions {
    /// The default [`max_connections`](Self::max_connections): 8.
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;
    /// The default [`acquire_timeout`](Self::acquire_timeout): 5 s.
    pub const DEFAULT_ACQUIRE_TIMEOUT: StdDuration = StdDuration::from_secs(5);
    /// The default [`busy_timeout`](Self::busy_timeout): 10 s.
    pub const DEFAULT_BUSY_TIMEOUT: StdDuration = StdDuration::from_secs(10);
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
            busy_timeout: Self::DEFAULT_BUSY_TIMEOUT,
        }
    }
}

/// honnin's [`Store`](honnin_core::Store) on SQLite.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Writers of this process take turns here before asking SQLite for its write lock. SQLite
    /// makes a blocked writer sleep and poll (up to 100 ms a nap), which collapses throughput
    /// under contention; a FIFO queue in the process hands the lock over without sleeping.
    /// Other processes on the same file still meet SQLite's own lock and busy timeout.
    write_turn: Arc<Mutex<()>>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://path/to/honnin.db`,
    /// `sqlite:honnin.db`, or `sqlite::memory:`) with `options`. Does not migrate.
    pub async fn connect(url: &str, options: &SqliteOptions) -> Result<Self, StoreError> {
        let connect_options = SqliteConnectOptions::from_str(url)
            .map_err(db)?
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            // Deleted content is overwritten with zeros, so an erased person's hashes do not
            // linger in free pages of the file (see `erase_person`, which also empties the WAL).
            .pragma("secure_delete", "on")
            .busy_timeout(options.busy_timeout);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let mut pool = SqlitePoolOptions::new()
            .max_connections(if in_memory { 1 } else { options.max_connections })
            .acquire_timeout(options.acquire_timeout);
        if in_memory {
            // Each connection to :memory: is its own database: keep the one connection forever.
            pool = pool.min_connections(1).idle_timeout(None).max_lifetime(None);
        }
        let pool = pool.connect_with(connect_options).await.map_err(db)?;
        Ok(Self { pool, write_turn: Arc::new(Mutex::new(())) })
    }

    /// The underlying pool (for tests and tools; the service should use the store's traits).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// This process's turn to write; hold it across the write.
    async fn write_turn(&self) -> MutexGuard<'_, ()> {
        self.write_turn.lock().await
    }

    /// A write transaction holding SQLite's write lock from the start (take the
    /// [turn](Self::write_turn) first).
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)
    }
}
