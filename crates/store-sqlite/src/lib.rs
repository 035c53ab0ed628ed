//! # honnin-store-sqlite
//!
//! [`SqliteStore`]: honnin's [`Store`] on SQLite, the embedded default (one service instance,
//! a file in a data folder). Use it through the `honnin-store` facade (`honnin_store::connect`),
//! which picks the backend from the database URL.
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
//! - Leases are rows with a holder token and an expiry that [`Lease::is_held`] extends.
//! - `sqlite::memory:` works (one connection, so one database); data is lost with the process.

use std::{collections::BTreeMap, str::FromStr, sync::Arc, time::Duration as StdDuration};

use async_trait::async_trait;
use honnin_core::{
    Address, AtLimit, Attestation, AttestationId, AttestationReceipt, AttestationStatus,
    AuditQuery, AuditRecord, B256, CertHash, CertRevocationOutcome, Challenge, ChallengeId, Lease,
    LeaseName, LinkOutcome, LiveCertificate, NewAttestation, NewAuditEvent, OutboxId, OutboxItem,
    PersonPseudonym, Policy, Purpose, Recorded, RenewalLink, RequestDigest, RevocationReason,
    RevokedCertificate, Rotated, SealedCert, StoreError,
    audit::{chain_hash, unix_micros},
    challenge::Audience,
    store::{
        AttestationStore, AuditStore, CertStatusStore, ChallengeStore, ErasureStore, ExpiryStore,
        LeaseStore, OutboxStore, RevocationStore, SchemaStore,
    },
    stored::{self, address, all_updated, corrupt, id16, rotated},
};
use sqlx::{
    Sqlite, SqliteConnection, SqlitePool, Transaction,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use time::{Duration, OffsetDateTime};
use tokio::sync::{Mutex, MutexGuard};

/// The migrations, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a SQLite lease lasts without [`Lease::is_held`] extending it.
pub const LEASE_TTL: Duration = Duration::seconds(30);

/// Pool limits for [`SqliteStore::connect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Most connections the pool opens (default 8; always 1 for an in-memory database).
    /// Readers run in parallel in WAL mode; writers take turns.
    pub max_connections: u32,
    /// How long a caller waits for a free connection before [`StoreError::PoolTimedOut`]
    /// (default 5 s).
    pub acquire_timeout: StdDuration,
    /// How long a writer waits for the write lock before failing (default 10 s).
    pub busy_timeout: StdDuration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: StdDuration::from_secs(5),
            busy_timeout: StdDuration::from_secs(10),
        }
    }
}

/// honnin's [`Store`] on SQLite.
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

    /// The underlying pool (for tests and tools; the service should use the [`Store`] methods).
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

/// Maps a sqlx error to the store's error, keeping the source for the log.
fn db(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut => StoreError::PoolTimedOut,
        e => StoreError::Database(Box::new(e)),
    }
}

fn secs(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn time_of(s: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(s).map_err(|_| corrupt("timestamp"))
}

/// Outbox ids as the JSON array `json_each` reads.
fn id_list(ids: &[OutboxId]) -> String {
    serde_json::Value::from(ids.iter().map(|i| i.0).collect::<Vec<_>>()).to_string()
}

/// A row of `challenges`.
struct ChallengeRow {
    id: Vec<u8>,
    purpose: String,
    wallet: Vec<u8>,
    audience: Option<String>,
    nonce: Vec<u8>,
    issued_at: i64,
    expires_at: i64,
    chain_id: i64,
    registry: Vec<u8>,
    domain: String,
}

impl ChallengeRow {
    fn into_challenge(self) -> Result<Challenge, StoreError> {
        stored::ChallengeRow {
            id: self.id,
            purpose: self.purpose,
            wallet: self.wallet,
            audience: self.audience,
            nonce: self.nonce,
            issued_at: time_of(self.issued_at)?,
            expires_at: time_of(self.expires_at)?,
            chain_id: self.chain_id,
            registry: self.registry,
            domain: self.domain,
        }
        .into_challenge()
    }
}

/// A row of `attestations` as the API sees it.
struct AttestationRow {
    id: Vec<u8>,
    wallet: Vec<u8>,
    status: String,
    level: i64,
    claims: i64,
    issued_at: i64,
    expires_at: i64,
    tx_hash: Option<Vec<u8>>,
    block_number: Option<i64>,
    revocation_reason: Option<i64>,
    revoked_at: Option<i64>,
}

impl AttestationRow {
    fn into_attestation(self) -> Result<Attestation, StoreError> {
        stored::AttestationRow {
            id: self.id,
            wallet: self.wallet,
            status: self.status,
            level: self.level,
            claims: self.claims,
            issued_at: time_of(self.issued_at)?,
            expires_at: time_of(self.expires_at)?,
            tx_hash: self.tx_hash,
            block_number: self.block_number,
            revocation_reason: self.revocation_reason,
            revoked_at: self.revoked_at.map(time_of).transpose()?,
        }
        .into_attestation()
    }
}

/// A row of `outbox`.
struct OutboxRow {
    id: i64,
    kind: String,
    attestation_id: Vec<u8>,
    wallet: Vec<u8>,
    level: Option<i64>,
    claims: Option<i64>,
    issued_at: Option<i64>,
    expires_at: Option<i64>,
    reason: Option<i64>,
    state: String,
    attempts: i64,
    tx_hash: Option<Vec<u8>>,
    created_at: i64,
}

impl OutboxRow {
    fn into_stored(self) -> Result<stored::OutboxRow, StoreError> {
        Ok(stored::OutboxRow {
            id: self.id,
            kind: self.kind,
            attestation_id: self.attestation_id,
            wallet: self.wallet,
            level: self.level,
            claims: self.claims,
            issued_at: self.issued_at.map(time_of).transpose()?,
            expires_at: self.expires_at.map(time_of).transpose()?,
            reason: self.reason,
            state: self.state,
            attempts: self.attempts,
            tx_hash: self.tx_hash,
            created_at: time_of(self.created_at)?,
        })
    }
}

fn sorted_items(rows: Vec<OutboxRow>) -> Result<Vec<OutboxItem>, StoreError> {
    stored::sorted_items(rows.into_iter().map(OutboxRow::into_stored).collect::<Result<_, _>>()?)
}

/// Unique violations while inserting an attestation, as domain errors.
fn unique_violation(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e
        && d.is_unique_violation()
    {
        // SQLite names the columns, not the index: "UNIQUE constraint failed: attestations.wallet".
        let message = d.message();
        if message.contains("attestations.challenge_id") {
            return StoreError::ChallengeAlreadyAnswered;
        }
        if message.contains("attestations.wallet") {
            return StoreError::WalletAlreadyAttested;
        }
    }
    db(e)
}

/// The receipt for the attestation answering a challenge, if its digest matches.
async fn receipt_for_challenge(
    conn: &mut SqliteConnection,
    challenge: &ChallengeId,
    digest: &RequestDigest,
    now: OffsetDateTime,
) -> Result<Option<Result<AttestationReceipt, ()>>, StoreError> {
    let challenge = challenge.as_bytes().as_slice();
    let row = sqlx::query!(
        r#"SELECT id, wallet, status, expires_at, request_digest
           FROM attestations WHERE challenge_id = ?1"#,
        challenge,
    )
    .fetch_optional(conn)
    .await
    .map_err(db)?;
    let Some(row) = row else { return Ok(None) };
    if row.request_digest.as_deref() != Some(digest.as_bytes().as_slice()) {
        return Ok(Some(Err(())));
    }
    let status: AttestationStatus =
        row.status.parse().map_err(|_| corrupt("attestation status"))?;
    let expires_at = time_of(row.expires_at)?;
    let status =
        if status.is_live() && expires_at <= now { AttestationStatus::Expired } else { status };
    Ok(Some(Ok(AttestationReceipt {
        attestation_id: AttestationId::from_bytes(id16(&row.id, "attestation id")?),
        wallet: address(&row.wallet)?,
        status,
        expires_at,
    })))
}

/// Marks lapsed live attestations of a wallet or a person expired and cancels their unsent
/// `attest` items (the registry would refuse an already expired record).
async fn expire_lapsed(
    tx: &mut SqliteConnection,
    wallet: &[u8],
    person_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query!(
        // Two indexed lookups (an OR across two columns would scan every live attestation).
        r#"UPDATE outbox SET state = 'cancelled', updated_at = ?3
           WHERE kind = 'attest' AND state = 'pending'
             AND attestation_id IN (SELECT id FROM attestations
                                    WHERE wallet = ?1 AND status IN ('pending', 'active')
                                      AND expires_at <= ?3
                                    UNION ALL
                                    SELECT id FROM attestations
                                    WHERE person_id = ?2 AND status IN ('pending', 'active')
                                      AND expires_at <= ?3)"#,
        wallet,
        person_id,
        now,
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query!(
        r#"UPDATE attestations SET status = 'expired', updated_at = ?3
           WHERE id IN (SELECT id FROM attestations
                        WHERE wallet = ?1 AND status IN ('pending', 'active') AND expires_at <= ?3
                        UNION ALL
                        SELECT id FROM attestations
                        WHERE person_id = ?2 AND status IN ('pending', 'active')
                          AND expires_at <= ?3)"#,
        wallet,
        person_id,
        now,
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    Ok(())
}

/// Revokes one attestation by rotation: cancels its `attest` if never claimed, else queues a
/// `revoke` (which waits behind the `attest` in the queue; see `claim_outbox`).
async fn rotate_out(tx: &mut SqliteConnection, id: &[u8], now: i64) -> Result<(), StoreError> {
    let code = i64::from(RevocationReason::Rotated.code());
    match revoke_one(tx, id, code, now).await? {
        Some(_) => Ok(()),
        // The caller read it live in this transaction (the database is locked meanwhile).
        None => Err(corrupt("rotated attestation no longer live")),
    }
}

async fn record_in_tx(
    tx: &mut SqliteConnection,
    new: &NewAttestation,
    policy: &Policy,
    now_t: OffsetDateTime,
) -> Result<Recorded, StoreError> {
    let now = secs(now_t);
    let wallet = new.wallet.as_slice();
    let cert_hash = new.cert.as_bytes().as_slice();

    // 1. A re-sent request answers with the original attestation.
    match receipt_for_challenge(&mut *tx, &new.challenge_id, &new.request_digest, now_t).await? {
        Some(Ok(receipt)) => return Ok(Recorded { receipt, replayed: true, rotated: vec![] }),
        Some(Err(())) => return Err(StoreError::ChallengeAlreadyAnswered),
        None => {}
    }

    // 2. The person: through the certificate if it is known (renewal links point a new
    // certificate at an old person), else by pseudonym. `BEGIN IMMEDIATE` already holds the
    // write lock, so nobody else changes this person until commit.
    let cert = sqlx::query!(
        r#"SELECT id AS "id!", person_id, revoked_at,
                  (not_after IS NULL OR sealed IS NULL) AS "incomplete!: bool"
           FROM certificates WHERE cert_hash = ?1"#,
        cert_hash,
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let (person_id, certificate_id) = match cert {
        Some(c) if c.revoked_at.is_some() => return Err(StoreError::CertificateRevoked),
        Some(c) => {
            if c.incomplete {
                // Known through a renewal link (or recorded before serials were sealed): the
                // certificate is presented now, so its notAfter and serial are known.
                let not_after = secs(new.cert_not_after);
                let sealed = new.sealed.as_bytes();
                sqlx::query!(
                    r#"UPDATE certificates
                       SET not_after = COALESCE(not_after, ?2), sealed = COALESCE(sealed, ?3)
                       WHERE id = ?1"#,
                    c.id,
                    not_after,
                    sealed,
                )
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            }
            (c.person_id, c.id)
        }
        None => {
            let pseudonym = new.person.as_bytes().as_slice();
            let person_id = sqlx::query_scalar!(
                r#"INSERT INTO persons (pseudonym, created_at) VALUES (?1, ?2)
                   ON CONFLICT (pseudonym) DO UPDATE SET pseudonym = excluded.pseudonym
                   RETURNING id AS "id!""#,
                pseudonym,
                now,
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            let not_after = secs(new.cert_not_after);
            let sealed = new.sealed.as_bytes();
            let certificate_id = sqlx::query_scalar!(
                r#"INSERT INTO certificates (cert_hash, person_id, not_after, sealed, created_at)
                   VALUES (?1, ?2, ?3, ?4, ?5)
                   RETURNING id AS "id!""#,
                cert_hash,
                person_id,
                not_after,
                sealed,
                now,
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            (person_id, certificate_id)
        }
    };

    // 3. Lapsed attestations stop counting; the wallet must not have a live one.
    expire_lapsed(&mut *tx, wallet, person_id, now).await?;
    let existing = sqlx::query_scalar!(
        r#"SELECT id FROM attestations WHERE wallet = ?1 AND status IN ('pending', 'active')"#,
        wallet,
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    if existing.is_some() {
        return Err(StoreError::WalletAlreadyAttested);
    }

    // 4. The policy.
    let live = sqlx::query!(
        r#"SELECT id, wallet FROM attestations
           WHERE person_id = ?1 AND status IN ('pending', 'active')
           ORDER BY issued_at, rowid"#,
        person_id,
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    let limit = policy.max_active_wallets.get() as usize;
    let mut rotated = Vec::new();
    if live.len() >= limit {
        match policy.at_limit {
            AtLimit::Refuse => {
                return Err(StoreError::WalletLimitReached {
                    limit: policy.max_active_wallets.get(),
                });
            }
            AtLimit::Rotate => {
                for old in &live[..live.len() + 1 - limit] {
                    rotate_out(&mut *tx, &old.id, now).await?;
                    rotated.push(stored::rotated(&old.id, &old.wallet)?);
                }
            }
        }
    }

    // 5. The attestation and its outbox item.
    let id = new.id.as_bytes().as_slice();
    let challenge_id = new.challenge_id.as_bytes().as_slice();
    let digest = new.request_digest.as_bytes().as_slice();
    let proof = new.wallet_proof.as_str();
    let level = i64::from(new.level.0);
    let claims = i64::from(new.claims.0);
    let issued_at = secs(new.issued_at);
    let expires_at = secs(new.expires_at);
    sqlx::query!(
        r#"INSERT INTO attestations
             (id, challenge_id, request_digest, wallet, wallet_proof, person_id, certificate_id,
              level, claims, status, issued_at, expires_at, created_at, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10, ?11, ?12, ?12)"#,
        id,
        challenge_id,
        digest,
        wallet,
        proof,
        person_id,
        certificate_id,
        level,
        claims,
        issued_at,
        expires_at,
        now,
    )
    .execute(&mut *tx)
    .await
    .map_err(unique_violation)?;
    sqlx::query!(
        r#"INSERT INTO outbox
             (kind, attestation_id, wallet, level, claims, issued_at, expires_at, state,
              next_attempt_at, created_at, updated_at)
           VALUES ('attest', ?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7, ?7)"#,
        id,
        wallet,
        level,
        claims,
        issued_at,
        expires_at,
        now,
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;

    Ok(Recorded {
        receipt: AttestationReceipt {
            attestation_id: new.id,
            wallet: new.wallet,
            status: AttestationStatus::Pending,
            expires_at: new.expires_at,
        },
        replayed: false,
        rotated,
    })
}

#[async_trait]
impl SchemaStore for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(|e| StoreError::Migrate(Box::new(e)))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query_scalar!(r#"SELECT 1 AS "one!: i64""#)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }
}

#[async_trait]
impl ChallengeStore for SqliteStore {
    async fn insert_challenge(&self, c: &Challenge) -> Result<(), StoreError> {
        let id = c.id.as_bytes().as_slice();
        let purpose = c.purpose.as_str();
        let wallet = c.wallet.as_slice();
        let audience = c.audience.as_ref().map(Audience::as_str);
        let nonce = c.nonce.as_bytes().as_slice();
        let issued_at = secs(c.issued_at);
        let expires_at = secs(c.expires_at);
        let chain_id = i64::try_from(c.chain_id).map_err(|_| corrupt("chain id above 2^63"))?;
        let registry = c.registry.as_slice();
        let domain = c.domain.as_str();
        let turn = self.write_turn().await;
        let result = sqlx::query!(
            r#"INSERT INTO challenges
                 (id, purpose, wallet, audience, nonce, issued_at, expires_at, chain_id, registry,
                  domain)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"#,
            id,
            purpose,
            wallet,
            audience,
            nonce,
            issued_at,
            expires_at,
            chain_id,
            registry,
            domain,
        )
        .execute(&self.pool)
        .await;
        drop(turn);
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                Err(StoreError::DuplicateChallenge)
            }
            Err(e) => Err(db(e)),
        }
    }

    async fn consume_challenge(
        &self,
        id: &ChallengeId,
        purpose: Purpose,
        now: OffsetDateTime,
    ) -> Result<Challenge, StoreError> {
        let id = id.as_bytes().as_slice();
        let purpose = purpose.as_str();
        let now = secs(now);
        // One statement, so one atomic write: exactly one of any number of racers matches.
        let turn = self.write_turn().await;
        let consumed = sqlx::query_as!(
            ChallengeRow,
            r#"UPDATE challenges SET consumed_at = ?3
               WHERE id = ?1 AND purpose = ?2 AND consumed_at IS NULL AND expires_at > ?3
               RETURNING id AS "id!", purpose AS "purpose!", wallet AS "wallet!", audience,
                         nonce AS "nonce!", issued_at AS "issued_at!", expires_at AS "expires_at!",
                         chain_id AS "chain_id!", registry AS "registry!", domain AS "domain!""#,
            id,
            purpose,
            now,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        drop(turn);
        if let Some(row) = consumed {
            return row.into_challenge();
        }
        let row = sqlx::query!(
            r#"SELECT purpose, consumed_at, expires_at FROM challenges WHERE id = ?1"#,
            id,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Err(match row {
            None => StoreError::ChallengeNotFound,
            Some(r) if r.purpose != purpose => StoreError::ChallengePurposeMismatch,
            Some(r) if r.consumed_at.is_some() => StoreError::ChallengeUsed,
            Some(_) => StoreError::ChallengeExpired,
        })
    }

    async fn purge_challenges(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let before = secs(before);
        Ok(sqlx::query!(r#"DELETE FROM challenges WHERE expires_at < ?1"#, before)
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected())
    }
}

#[async_trait]
impl AttestationStore for SqliteStore {
    async fn record_attestation(
        &self,
        new: &NewAttestation,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<Recorded, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        // On error the transaction rolls back when dropped.
        let recorded = record_in_tx(&mut tx, new, policy, now).await?;
        tx.commit().await.map_err(unique_violation)?;
        Ok(recorded)
    }

    async fn replay(
        &self,
        challenge: &ChallengeId,
        digest: &RequestDigest,
        now: OffsetDateTime,
    ) -> Result<Option<AttestationReceipt>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        Ok(receipt_for_challenge(&mut conn, challenge, digest, now).await?.and_then(Result::ok))
    }

    async fn attestation(&self, id: &AttestationId) -> Result<Option<Attestation>, StoreError> {
        let id = id.as_bytes().as_slice();
        sqlx::query_as!(
            AttestationRow,
            r#"SELECT id, wallet, status, level, claims, issued_at, expires_at, tx_hash,
                      block_number, revocation_reason, revoked_at
               FROM attestations WHERE id = ?1"#,
            id,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(AttestationRow::into_attestation)
        .transpose()
    }

    async fn attestation_by_wallet(
        &self,
        wallet: Address,
    ) -> Result<Option<Attestation>, StoreError> {
        let wallet = wallet.as_slice();
        sqlx::query_as!(
            AttestationRow,
            r#"SELECT id, wallet, status, level, claims, issued_at, expires_at, tx_hash,
                      block_number, revocation_reason, revoked_at
               FROM attestations WHERE wallet = ?1
               ORDER BY (status IN ('pending', 'active')) DESC, rowid DESC
               LIMIT 1"#,
            wallet,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(AttestationRow::into_attestation)
        .transpose()
    }
}

#[async_trait]
impl RevocationStore for SqliteStore {
    async fn revoke_wallet(
        &self,
        wallet: Address,
        reason: RevocationReason,
        now_t: OffsetDateTime,
    ) -> Result<Option<AttestationId>, StoreError> {
        let now = secs(now_t);
        let wallet = wallet.as_slice();
        let turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let live = sqlx::query_scalar!(
            r#"SELECT id FROM attestations
               WHERE wallet = ?1 AND status IN ('pending', 'active') AND expires_at > ?2"#,
            wallet,
            now,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(id) = live else { return Ok(None) };
        let revoked = revoke_one(&mut tx, &id, i64::from(reason.code()), now).await?;
        tx.commit().await.map_err(db)?;
        drop(turn);
        Ok(revoked.map(|r| r.attestation_id))
    }
}

#[async_trait]
impl ErasureStore for SqliteStore {
    async fn erase_person(
        &self,
        cert: &CertHash,
        pseudonym: &PersonPseudonym,
        now_t: OffsetDateTime,
    ) -> Result<Vec<Rotated>, StoreError> {
        let now = secs(now_t);
        let cert = cert.as_bytes().as_slice();
        let pseudonym = pseudonym.as_bytes().as_slice();
        let turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let person = sqlx::query_scalar!(
            r#"SELECT COALESCE((SELECT person_id FROM certificates WHERE cert_hash = ?1),
                               (SELECT id FROM persons WHERE pseudonym = ?2)) AS "id: i64""#,
            cert,
            pseudonym,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let Some(person) = person else { return Err(StoreError::PersonNotFound) };
        let live = sqlx::query_scalar!(
            r#"SELECT id FROM attestations
               WHERE status IN ('pending', 'active')
                 AND (person_id = ?1
                      OR certificate_id IN (SELECT id FROM certificates WHERE person_id = ?1))
               ORDER BY rowid"#,
            person,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let erasure = i64::from(RevocationReason::Erasure.code());
        let mut revoked = Vec::with_capacity(live.len());
        for id in live {
            if let Some(r) = revoke_one(&mut tx, &id, erasure, now).await? {
                revoked.push(r);
            }
        }
        // Cut every link from the attestations (and so from the chain records) to the person.
        sqlx::query!(
            r#"UPDATE attestations
               SET person_id = NULL, certificate_id = NULL, request_digest = NULL, updated_at = ?2
               WHERE person_id = ?1
                  OR certificate_id IN (SELECT id FROM certificates WHERE person_id = ?1)"#,
            person,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query!(r#"DELETE FROM certificates WHERE person_id = ?1"#, person)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query!(r#"DELETE FROM persons WHERE id = ?1"#, person)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        drop(turn);
        Ok(revoked)
    }
}

#[async_trait]
impl ExpiryStore for SqliteStore {
    async fn expire_attestations(
        &self,
        now_t: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Rotated>, StoreError> {
        let now = secs(now_t);
        let limit = i64::from(limit);
        let turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        // Under the write lock both statements see the same lapsed rows.
        sqlx::query!(
            r#"UPDATE outbox SET state = 'cancelled', updated_at = ?1
               WHERE kind = 'attest' AND state = 'pending'
                 AND attestation_id IN (SELECT id FROM attestations
                                        WHERE status IN ('pending', 'active') AND expires_at <= ?1
                                        ORDER BY expires_at LIMIT ?2)"#,
            now,
            limit,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let rows = sqlx::query!(
            r#"UPDATE attestations SET status = 'expired', updated_at = ?1
               WHERE id IN (SELECT id FROM attestations
                            WHERE status IN ('pending', 'active') AND expires_at <= ?1
                            ORDER BY expires_at LIMIT ?2)
               RETURNING id AS "id!", wallet AS "wallet!""#,
            now,
            limit,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        drop(turn);
        rows.into_iter().map(|r| rotated(&r.id, &r.wallet)).collect()
    }
}

#[async_trait]
impl CertStatusStore for SqliteStore {
    async fn revoke_certificates(
        &self,
        revoked: &[RevokedCertificate],
        now_t: OffsetDateTime,
    ) -> Result<CertRevocationOutcome, StoreError> {
        let mut outcome = CertRevocationOutcome::default();
        if revoked.is_empty() {
            return Ok(outcome);
        }
        // The first report of each certificate wins.
        let mut reports: BTreeMap<&[u8], &RevokedCertificate> = BTreeMap::new();
        for r in revoked {
            reports
                .entry(r.cert.as_bytes().as_slice())
                .and_modify(|seen| {
                    if r.revoked_at < seen.revoked_at {
                        *seen = r;
                    }
                })
                .or_insert(r);
        }
        let now = secs(now_t);
        let superseded = i64::from(RevocationReason::Superseded.code());
        let turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        for (hash, report) in reports {
            let cert = sqlx::query!(
                r#"SELECT id AS "id!", revoked_at, revocation_reason FROM certificates
                   WHERE cert_hash = ?1"#,
                hash,
            )
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
            let Some(cert) = cert else {
                outcome.unknown += 1;
                continue;
            };
            outcome.known += 1;
            let reason = match (cert.revoked_at, cert.revocation_reason) {
                (Some(_), Some(reason)) => reason,
                _ => {
                    let reason = i64::from(report.reason.code());
                    let at = secs(report.revoked_at);
                    sqlx::query!(
                        r#"UPDATE certificates SET revoked_at = ?2, revocation_reason = ?3
                           WHERE id = ?1"#,
                        cert.id,
                        at,
                        reason,
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    outcome.newly_revoked += 1;
                    reason
                }
            };
            if reason == superseded {
                // A renewal: the live attestations move to the linked successor.
                let moved = sqlx::query_scalar!(
                    r#"UPDATE attestations SET certificate_id = (
                           SELECT id FROM certificates
                           WHERE renewed_from = ?1 AND revoked_at IS NULL
                           ORDER BY id DESC LIMIT 1),
                         updated_at = ?2
                       WHERE certificate_id = ?1 AND status IN ('pending', 'active')
                         AND EXISTS (SELECT 1 FROM certificates
                                     WHERE renewed_from = ?1 AND revoked_at IS NULL)
                       RETURNING id"#,
                    cert.id,
                    now,
                )
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?;
                for id in moved {
                    outcome.moved.push(AttestationId::from_bytes(id16(&id, "attestation id")?));
                }
            }
            let live = sqlx::query_scalar!(
                r#"SELECT id FROM attestations
                   WHERE certificate_id = ?1 AND status IN ('pending', 'active')
                   ORDER BY rowid"#,
                cert.id,
            )
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
            for id in live {
                if let Some(r) = revoke_one(&mut tx, &id, reason, now).await? {
                    outcome.revoked.push(r);
                }
            }
        }
        tx.commit().await.map_err(db)?;
        drop(turn);
        Ok(outcome)
    }

    async fn link_renewals(
        &self,
        links: &[RenewalLink],
        now_t: OffsetDateTime,
    ) -> Result<LinkOutcome, StoreError> {
        let mut outcome = LinkOutcome::default();
        let now = secs(now_t);
        let turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        for link in links {
            let old_hash = link.old.as_bytes().as_slice();
            let old = sqlx::query!(
                r#"SELECT id AS "id!", person_id FROM certificates WHERE cert_hash = ?1"#,
                old_hash,
            )
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
            let Some(old) = old else {
                outcome.unknown_old += 1;
                continue;
            };
            let new_hash = link.new.as_bytes().as_slice();
            let new = sqlx::query!(
                r#"SELECT id AS "id!", person_id, renewed_from FROM certificates
                   WHERE cert_hash = ?1"#,
                new_hash,
            )
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
            match new {
                None => {
                    sqlx::query!(
                        r#"INSERT INTO certificates (cert_hash, person_id, renewed_from, created_at)
                           VALUES (?1, ?2, ?3, ?4)"#,
                        new_hash,
                        old.person_id,
                        old.id,
                        now,
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    outcome.linked += 1;
                }
                Some(new) if new.person_id != old.person_id => outcome.conflicts += 1,
                Some(new) if new.renewed_from.is_none() && new.id != old.id => {
                    sqlx::query!(
                        r#"UPDATE certificates SET renewed_from = ?2 WHERE id = ?1"#,
                        new.id,
                        old.id,
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    outcome.linked += 1;
                }
                Some(_) => outcome.already += 1,
            }
        }
        tx.commit().await.map_err(db)?;
        drop(turn);
        Ok(outcome)
    }

    async fn live_certificates(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LiveCertificate>, StoreError> {
        let after = after.unwrap_or(0);
        let limit = i64::from(limit);
        let rows = sqlx::query!(
            r#"SELECT c.id AS "id!", c.cert_hash, c.sealed FROM certificates c
               WHERE c.id > ?1 AND c.revoked_at IS NULL
                 AND EXISTS (SELECT 1 FROM attestations a
                             WHERE a.certificate_id = c.id AND a.status IN ('pending', 'active'))
               ORDER BY c.id
               LIMIT ?2"#,
            after,
            limit,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter()
            .map(|r| {
                Ok(LiveCertificate {
                    id: r.id,
                    cert: CertHash::from_slice(&r.cert_hash)
                        .ok_or_else(|| corrupt("certificate hash"))?,
                    sealed: r.sealed.map(SealedCert::from_bytes),
                })
            })
            .collect()
    }
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn claim_outbox(
        &self,
        limit: u32,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let limit = i64::from(limit);
        let until = secs(now + lease);
        let now = secs(now);
        // One statement under SQLite's single write lock: no two claimers get the same item.
        // An item waits while an earlier item for the same wallet is still open, so a revoke
        // never overtakes the attest it undoes (also when another writer holds the attest).
        let turn = self.write_turn().await;
        let rows = sqlx::query_as!(
            OutboxRow,
            r#"UPDATE outbox
               SET state = 'claimed', claimed_until = ?3, attempts = attempts + 1, updated_at = ?2
               WHERE id IN (SELECT c.id FROM outbox c
                            WHERE ((c.state = 'pending' AND c.next_attempt_at <= ?2)
                                   OR (c.state = 'claimed' AND c.claimed_until <= ?2))
                              AND NOT EXISTS (SELECT 1 FROM outbox p
                                              WHERE p.wallet = c.wallet
                                                AND p.id < c.id
                                                AND p.state IN ('pending', 'claimed', 'sent'))
                            ORDER BY c.id
                            LIMIT ?1)
               RETURNING id AS "id!", kind AS "kind!", attestation_id AS "attestation_id!",
                         wallet AS "wallet!", level, claims, issued_at, expires_at, reason,
                         state AS "state!", attempts AS "attempts!", tx_hash,
                         created_at AS "created_at!""#,
            limit,
            now,
            until,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        drop(turn);
        sorted_items(rows)
    }

    async fn outbox_in_flight(&self) -> Result<Vec<OutboxItem>, StoreError> {
        let rows = sqlx::query_as!(
            OutboxRow,
            r#"SELECT id, kind, attestation_id, wallet, level, claims, issued_at, expires_at, reason,
                      state, attempts, tx_hash, created_at
               FROM outbox WHERE state = 'sent' ORDER BY id"#,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        sorted_items(rows)
    }

    async fn mark_sent(
        &self,
        ids: &[OutboxId],
        tx_hash: B256,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let list = id_list(ids);
        let hash = tx_hash.as_slice();
        let now = secs(now);
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'sent', tx_hash = ?2, claimed_until = NULL, updated_at = ?3
               WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'claimed'
               RETURNING id AS "id!""#,
            list,
            hash,
            now,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        all_updated(ids, &updated, "claimed")?;
        sqlx::query!(
            r#"UPDATE attestations SET tx_hash = ?2, updated_at = ?3
               WHERE status = 'pending'
                 AND id IN (SELECT attestation_id FROM outbox
                            WHERE id IN (SELECT value FROM json_each(?1)) AND kind = 'attest')"#,
            list,
            hash,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn mark_confirmed(
        &self,
        ids: &[OutboxId],
        tx_hash: B256,
        block_number: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let list = id_list(ids);
        let hash = tx_hash.as_slice();
        let block = i64::try_from(block_number).map_err(|_| corrupt("block number above 2^63"))?;
        let now = secs(now);
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'confirmed', tx_hash = ?2, block_number = ?3,
                      claimed_until = NULL, updated_at = ?4
               WHERE id IN (SELECT value FROM json_each(?1)) AND state IN ('claimed', 'sent')
               RETURNING id AS "id!""#,
            list,
            hash,
            block,
            now,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        all_updated(ids, &updated, "claimed or sent")?;
        sqlx::query!(
            r#"UPDATE attestations
               SET status = 'active', tx_hash = ?2, block_number = ?3, updated_at = ?4
               WHERE status = 'pending'
                 AND id IN (SELECT attestation_id FROM outbox
                            WHERE id IN (SELECT value FROM json_each(?1)) AND kind = 'attest')"#,
            list,
            hash,
            block,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn mark_retry(
        &self,
        ids: &[OutboxId],
        error: &str,
        retry_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let list = id_list(ids);
        let retry_at = secs(retry_at);
        let now = secs(OffsetDateTime::now_utc());
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'pending', next_attempt_at = ?2, claimed_until = NULL,
                      tx_hash = NULL, last_error = ?3, updated_at = ?4
               WHERE id IN (SELECT value FROM json_each(?1)) AND state IN ('claimed', 'sent')
               RETURNING id AS "id!""#,
            list,
            retry_at,
            error,
            now,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        all_updated(ids, &updated, "claimed or sent")?;
        sqlx::query!(
            r#"UPDATE attestations SET tx_hash = NULL, updated_at = ?2
               WHERE status = 'pending'
                 AND id IN (SELECT attestation_id FROM outbox
                            WHERE id IN (SELECT value FROM json_each(?1)) AND kind = 'attest')"#,
            list,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn mark_failed(&self, ids: &[OutboxId], error: &str) -> Result<(), StoreError> {
        let list = id_list(ids);
        let now = secs(OffsetDateTime::now_utc());
        let turn = self.write_turn().await;
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'failed', claimed_until = NULL, last_error = ?2,
                      updated_at = ?3
               WHERE id IN (SELECT value FROM json_each(?1))
                 AND state IN ('pending', 'claimed', 'sent')
               RETURNING id AS "id!""#,
            list,
            error,
            now,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        drop(turn);
        all_updated(ids, &updated, "pending, claimed or sent")
    }
}

#[async_trait]
impl LeaseStore for SqliteStore {
    async fn try_lease(&self, name: LeaseName) -> Result<Option<Box<dyn Lease>>, StoreError> {
        let mut holder = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut holder);
        let lease = SqliteLease { name, holder, pool: self.pool.clone(), released: false };
        if lease.take_or_extend(true).await? {
            tracing::info!(target: "honnin::store", lease = %name, "lease acquired");
            Ok(Some(Box::new(lease)))
        } else {
            Ok(None)
        }
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, events: &[NewAuditEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let turn = self.write_turn().await;
        // `BEGIN IMMEDIATE` holds the database's write lock: the head cannot move under us.
        let mut tx = self.begin_write().await?;
        let head = sqlx::query!(r#"SELECT seq, hash FROM audit_head WHERE id = 1"#)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let mut seq = u64::try_from(head.seq).map_err(|_| corrupt("audit head seq"))?;
        let mut prev = stored::b256(&head.hash)?;
        for event in events {
            seq += 1;
            let hash = chain_hash(&prev, seq, event);
            let row_seq = i64::try_from(seq).map_err(|_| corrupt("audit seq above 2^63"))?;
            let at = unix_micros(event.at);
            let kind = event.kind.as_str();
            let attestation = event.attestation_id.as_ref().map(|a| a.as_bytes().as_slice());
            let (prev_bytes, hash_bytes) = (prev.as_slice(), hash.as_slice());
            sqlx::query!(
                r#"INSERT INTO audit_log
                     (seq, at, kind, code, attestation_id, request_id, client, api_key_id,
                      prev_hash, hash)
                   VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"#,
                row_seq,
                at,
                kind,
                event.code,
                attestation,
                event.context.request_id,
                event.context.client,
                event.context.api_key_id,
                prev_bytes,
                hash_bytes,
            )
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            prev = hash;
        }
        let head_seq = i64::try_from(seq).map_err(|_| corrupt("audit seq above 2^63"))?;
        let head_hash = prev.as_slice();
        sqlx::query!(
            r#"UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1"#,
            head_seq,
            head_hash
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        drop(turn);
        Ok(())
    }

    async fn audit_page(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let kinds =
            serde_json::Value::from(query.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>())
                .to_string();
        let after = match query.after_seq {
            Some(seq) => i64::try_from(seq).map_err(|_| corrupt("audit cursor above 2^63"))?,
            None => 0,
        };
        let from = query.from.map(unix_micros);
        let to = query.to.map(unix_micros);
        let limit = i64::from(query.limit.min(AuditQuery::MAX_LIMIT));
        let rows = sqlx::query_as!(
            AuditRow,
            r#"SELECT seq AS "seq!", at, kind, code, attestation_id, request_id, client,
                      api_key_id, prev_hash, hash
               FROM audit_log
               WHERE seq > ?1
                 AND (?2 IS NULL OR at >= ?2)
                 AND (?3 IS NULL OR at < ?3)
                 AND (?4 = '[]' OR kind IN (SELECT value FROM json_each(?4)))
               ORDER BY seq
               LIMIT ?5"#,
            after,
            from,
            to,
            kinds,
            limit,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter().map(AuditRow::into_record).collect()
    }

    async fn audit_head(&self) -> Result<Option<(u64, B256)>, StoreError> {
        let head = sqlx::query!(r#"SELECT seq, hash FROM audit_head WHERE id = 1"#)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        let seq = u64::try_from(head.seq).map_err(|_| corrupt("audit head seq"))?;
        Ok((seq > 0).then(|| stored::b256(&head.hash)).transpose()?.map(|hash| (seq, hash)))
    }
}

/// Revokes attestation `id` if it is still live, for `reason` (a registry code), and queues
/// its `revoke` (or cancels its `attest` when it was never claimed).
async fn revoke_one(
    tx: &mut SqliteConnection,
    id: &[u8],
    reason: i64,
    now: i64,
) -> Result<Option<Rotated>, StoreError> {
    let wallet = sqlx::query_scalar!(
        r#"UPDATE attestations
           SET status = 'revoked', revocation_reason = ?2, revoked_at = ?3, updated_at = ?3
           WHERE id = ?1 AND status IN ('pending', 'active')
           RETURNING wallet"#,
        id,
        reason,
        now,
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let Some(wallet) = wallet else { return Ok(None) };
    let cancelled = sqlx::query!(
        r#"UPDATE outbox SET state = 'cancelled', updated_at = ?2
           WHERE attestation_id = ?1 AND kind = 'attest' AND state = 'pending'"#,
        id,
        now,
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?
    .rows_affected();
    if cancelled == 0 {
        sqlx::query!(
            r#"INSERT INTO outbox
                 (kind, attestation_id, wallet, reason, state, next_attempt_at, created_at,
                  updated_at)
               VALUES ('revoke', ?1, ?2, ?3, 'pending', ?4, ?4, ?4)"#,
            id,
            wallet,
            reason,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    rotated(id, &wallet).map(Some)
}

/// A row of `audit_log` (times in Unix microseconds).
struct AuditRow {
    seq: i64,
    at: i64,
    kind: String,
    code: Option<String>,
    attestation_id: Option<Vec<u8>>,
    request_id: Option<String>,
    client: Option<String>,
    api_key_id: Option<String>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl AuditRow {
    fn into_record(self) -> Result<AuditRecord, StoreError> {
        stored::AuditRow {
            seq: self.seq,
            at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.at) * 1_000)
                .map_err(|_| corrupt("audit time"))?,
            kind: self.kind,
            code: self.code,
            attestation_id: self.attestation_id,
            request_id: self.request_id,
            client: self.client,
            api_key_id: self.api_key_id,
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
        .into_record()
    }
}

/// A lease row: held while `expires_at` is in the future and `holder` is ours.
#[derive(Debug)]
struct SqliteLease {
    name: LeaseName,
    holder: [u8; 16],
    pool: SqlitePool,
    released: bool,
}

impl SqliteLease {
    /// Takes the lease (if free or lapsed, when `take`) or extends it (if ours).
    async fn take_or_extend(&self, take: bool) -> Result<bool, StoreError> {
        let now = OffsetDateTime::now_utc();
        let until = secs(now + LEASE_TTL);
        let now = secs(now);
        let name = self.name.0;
        let holder = self.holder.as_slice();
        let affected = if take {
            sqlx::query!(
                r#"INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
                   ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                                                    expires_at = excluded.expires_at
                   WHERE leases.expires_at <= ?4 OR leases.holder = excluded.holder"#,
                name,
                holder,
                until,
                now,
            )
            .execute(&self.pool)
            .await
        } else {
            sqlx::query!(
                r#"UPDATE leases SET expires_at = ?3
                   WHERE name = ?1 AND holder = ?2 AND expires_at > ?4"#,
                name,
                holder,
                until,
                now,
            )
            .execute(&self.pool)
            .await
        }
        .map_err(db)?
        .rows_affected();
        Ok(affected == 1)
    }

    async fn delete(pool: &SqlitePool, name: &str, holder: &[u8]) -> Result<(), StoreError> {
        sqlx::query!(r#"DELETE FROM leases WHERE name = ?1 AND holder = ?2"#, name, holder)
            .execute(pool)
            .await
            .map_err(db)?;
        Ok(())
    }
}

#[async_trait]
impl Lease for SqliteLease {
    fn name(&self) -> LeaseName {
        self.name
    }

    async fn is_held(&mut self) -> Result<bool, StoreError> {
        if self.released {
            return Ok(false);
        }
        self.take_or_extend(false).await
    }

    async fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        self.released = true;
        Self::delete(&self.pool, self.name.0, &self.holder).await?;
        tracing::info!(target: "honnin::store", lease = %self.name, "lease released");
        Ok(())
    }
}

impl Drop for SqliteLease {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        // Free the lease now rather than after its TTL, when a runtime is there to do it.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let (pool, name, holder) = (self.pool.clone(), self.name.0, self.holder);
            handle.spawn(async move {
                if let Err(e) = Self::delete(&pool, name, &holder).await {
                    tracing::warn!(target: "honnin::store", lease = name, error = %e, "could not free lease");
                }
            });
        }
    }
}
