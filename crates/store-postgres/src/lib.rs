//! # honnin-store-postgres
//!
//! [`PgStore`]: honnin's [`Store`](honnin_core::Store) on Postgres, the production backend
//! shared by many service instances. Use it through the `honnin-store` facade
//! (`honnin_store::connect`), which picks the backend from the database URL.
//!
//! - Queries are compile-checked (`sqlx::query!`) against the migrations in `migrations/`; the
//!   offline data is committed in `.sqlx/`. This crate's `sqlx.toml` points the macros and
//!   `sqlx-cli` at `HONNIN_PG_DATABASE_URL`, so it can be prepared independently of the SQLite
//!   crate (`cargo sqlx prepare` in this folder).
//! - Challenges are consumed with one conditional `UPDATE … RETURNING`: exactly one of any
//!   number of racing consumers wins.
//! - The attestation transaction locks the person row (`SELECT … FOR UPDATE`) so concurrent
//!   submissions for one person are serialised; partial unique indexes keep one live
//!   attestation per wallet and scope even across persons.
//! - The outbox is claimed with `FOR UPDATE SKIP LOCKED`, in per-wallet order (an item waits
//!   for every earlier open item of its wallet).
//! - The audit log's head is one row, locked (`FOR UPDATE`) by each append: one linear chain
//!   across instances. Batches are inserted with one `UNNEST` statement.
//! - Leases are session advisory locks on a dedicated connection outside the pool.
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
//! | `attestations.rs` | [`AttestationStore`](honnin_core::AttestationStore): the `honnin_record_attestation` call, replays, reads |
//! | `revocations.rs` | [`RevocationStore`](honnin_core::RevocationStore), and the revocation every path shares |
//! | `erasure.rs` | [`ErasureStore`](honnin_core::ErasureStore) |
//! | `expiry.rs` | [`ExpiryStore`](honnin_core::ExpiryStore) |
//! | `cert_status.rs` | [`CertStatusStore`](honnin_core::CertStatusStore) |
//! | `outbox.rs` | [`OutboxStore`](honnin_core::OutboxStore) |
//! | `lease.rs` | [`LeaseStore`](honnin_core::LeaseStore): advisory-lock leases |
//! | `audit.rs` | [`AuditStore`](honnin_core::AuditStore) |
//! | `scopes.rs` | [`ScopeStore`](honnin_core::ScopeStore): the registered scopes |
//! | `webhooks.rs` | [`WebhookStore`](honnin_core::WebhookStore): endpoints and the delivery outbox (queued by migration 0007's trigger) |
//! | `rows.rs` | rows as Postgres types them, read through `honnin_core::stored` |
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

use std::{
    sync::{Arc, Mutex},
    time::Duration as StdDuration,
};

use honnin_core::{B256, StoreError};
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

pub use migrate::MIGRATOR;

use error::db;

/// Pool limits for [`PgStore::connect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// Most connections the pool opens (default [`Self::DEFAULT_MAX_CONNECTIONS`]).
    pub max_connections: u32,
    /// Connections kept open when idle (default [`Self::DEFAULT_MIN_CONNECTIONS`]).
    pub min_connections: u32,
    /// How long a caller waits for a free connection before [`StoreError::PoolTimedOut`]
    /// (default [`Self::DEFAULT_ACQUIRE_TIMEOUT`]).
    pub acquire_timeout: StdDuration,
    /// Idle connections above the minimum close after this (default
    /// [`Self::DEFAULT_IDLE_TIMEOUT`]).
    pub idle_timeout: StdDuration,
    /// Per-statement timeout set on every connection (default
    /// [`Self::DEFAULT_STATEMENT_TIMEOUT`]).
    pub statement_timeout: StdDuration,
    /// Plan without sequential scans (`enable_seqscan = off`), for a pool that serves the
    /// chain writer: its queries touch a few hundred rows by id or open state, and on a queue
    /// that grew from empty faster than autovacuum analyses it, stale statistics (one row)
    /// otherwise make a scan of the whole table look as cheap as an index lookup. Default
    /// `false`.
    pub index_scans_only: bool,
}

impl PgOptions {
    /// The default [`max_connections`](Self::max_connections): 16.
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;
    /// The default [`min_connections`](Self::min_connections): 1.
    pub const DEFAULT_MIN_CONNECTIONS: u32 = 1;
    /// The default [`acquire_timeout`](Self::acquire_timeout): 5 s.
    pub const DEFAULT_ACQUIRE_TIMEOUT: StdDuration = StdDuration::from_secs(5);
    /// The default [`idle_timeout`](Self::idle_timeout): 10 min.
    pub const DEFAULT_IDLE_TIMEOUT: StdDuration = StdDuration::from_secs(600);
    /// The default [`statement_timeout`](Self::statement_timeout): 30 s.
    pub const DEFAULT_STATEMENT_TIMEOUT: StdDuration = StdDuration::from_secs(30);
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            min_connections: Self::DEFAULT_MIN_CONNECTIONS,
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            statement_timeout: Self::DEFAULT_STATEMENT_TIMEOUT,
            index_scans_only: false,
        }
    }
}

/// honnin's [`Store`](honnin_core::Store) on Postgres.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    connect_options: PgConnectOptions,
    /// The audit chain's head as this store last wrote or read it: appends assume it, so one
    /// statement does the whole append (see `append_audit`).
    audit_head: Arc<Mutex<Option<(u64, B256)>>>,
}

impl PgStore {
    /// Connects a pool to `url` (`postgres://…`) with `options`. Does not migrate.
    pub async fn connect(url: &str, options: &PgOptions) -> Result<Self, StoreError> {
        let connect_options: PgConnectOptions = url.parse().map_err(db)?;
        let mut connect_options = connect_options
            .application_name("honnin")
            .options([("statement_timeout", format!("{}", options.statement_timeout.as_millis()))]);
        if options.index_scans_only {
            connect_options = connect_options.options([("enable_seqscan", "off")]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .min_connections(options.min_connections)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            // No ping before each checkout: it doubles the round trips of a one-statement call.
            // A connection the server dropped fails its next query and is discarded by the pool.
            .test_before_acquire(false)
            .connect_with(connect_options.clone())
            .await
            .map_err(db)?;
        Ok(Self { pool, connect_options, audit_head: Arc::default() })
    }

    /// The underlying pool (for tests and tools; the service should use the store's traits).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
