//! # honnin-store-postgres
//!
//! [`PgStore`]: honnin's [`Store`] on Postgres, the production backend shared by many service
//! instances. Use it through the `honnin-store` facade (`honnin_store::connect`), which picks
//! the backend from the database URL.
//!
//! - Queries are compile-checked (`sqlx::query!`) against the migrations in `migrations/`; the
//!   offline data is committed in `.sqlx/`. This crate's `sqlx.toml` points the macros and
//!   `sqlx-cli` at `HONNIN_PG_DATABASE_URL`, so it can be prepared independently of the SQLite
//!   crate (`cargo sqlx prepare` in this folder).
//! - Challenges are consumed with one conditional `UPDATE … RETURNING`: exactly one of any
//!   number of racing consumers wins.
//! - [`Store::record_attestation`] locks the person row (`SELECT … FOR UPDATE`) so concurrent
//!   submissions for one person are serialised; a partial unique index keeps one live
//!   attestation per wallet even across persons.
//! - The outbox is claimed with `FOR UPDATE SKIP LOCKED`, in per-wallet order (an item waits
//!   for every earlier open item of its wallet).
//! - The audit log's head is one row, locked (`FOR UPDATE`) by each append: one linear chain
//!   across instances. Batches are inserted with one `UNNEST` statement.
//! - Leases are session advisory locks on a dedicated connection outside the pool.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration as StdDuration,
};

use async_trait::async_trait;
use honnin_core::{
    Address, AtLimit, Attestation, AttestationId, AttestationReceipt, AttestationStatus,
    AuditQuery, AuditRecord, B256, CertHash, CertRevocationOutcome, Challenge, ChallengeId, Lease,
    LeaseName, LinkOutcome, LiveCertificate, NewAttestation, NewAuditEvent, OutboxId, OutboxItem,
    PersonPseudonym, Policy, Purpose, Recorded, RenewalLink, RequestDigest, RevocationReason,
    RevokedCertificate, Rotated, SealedCert, StoreError,
    audit::chain_hash,
    challenge::Audience,
    store::{
        AttestationStore, AuditStore, CertStatusStore, ChallengeStore, ErasureStore, ExpiryStore,
        LeaseStore, OutboxStore, RevocationStore, SchemaStore,
    },
    stored::{self, address, all_updated, corrupt, id16, rotated},
};
use sha2::{Digest, Sha256};
use sqlx::{
    Connection, PgConnection, PgPool, Postgres, Transaction,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use time::{Duration, OffsetDateTime};

/// The migrations, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Pool limits for [`PgStore::connect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// Most connections the pool opens (default 16).
    pub max_connections: u32,
    /// Connections kept open when idle (default 1).
    pub min_connections: u32,
    /// How long a caller waits for a free connection before [`StoreError::PoolTimedOut`]
    /// (default 5 s).
    pub acquire_timeout: StdDuration,
    /// Idle connections above the minimum close after this (default 10 min).
    pub idle_timeout: StdDuration,
    /// Per-statement timeout set on every connection (default 30 s).
    pub statement_timeout: StdDuration,
    /// Plan without sequential scans (`enable_seqscan = off`), for a pool that serves the
    /// chain writer: its queries touch a few hundred rows by id or open state, and on a queue
    /// that grew from empty faster than autovacuum analyses it, stale statistics (one row)
    /// otherwise make a scan of the whole table look as cheap as an index lookup. Default
    /// `false`.
    pub index_scans_only: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            min_connections: 1,
            acquire_timeout: StdDuration::from_secs(5),
            idle_timeout: StdDuration::from_secs(600),
            statement_timeout: StdDuration::from_secs(30),
            index_scans_only: false,
        }
    }
}

/// honnin's [`Store`] on Postgres.
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

    /// The underlying pool (for tests and tools; the service should use the [`Store`] methods).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Reads the audit chain's head (and remembers it for the next append).
    async fn read_audit_head(&self) -> Result<(u64, B256), StoreError> {
        let row = sqlx::query!(r#"SELECT seq, hash FROM audit_head WHERE id"#)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        let head = (
            u64::try_from(row.seq).map_err(|_| corrupt("audit head seq"))?,
            stored::b256(&row.hash)?,
        );
        *self.audit_head.lock().unwrap_or_else(PoisonError::into_inner) = Some(head);
        Ok(head)
    }
}

/// How often one audit append re-reads a head that other instances keep moving before it gives
/// up (each try is one statement; the head row's lock queues them, so a try fails at most once
/// per other instance appending at the same moment).
const AUDIT_APPEND_ATTEMPTS: usize = 64;

/// Maps a sqlx error to the store's error, keeping the source for the log.
fn db(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut => StoreError::PoolTimedOut,
        e => StoreError::Database(Box::new(e)),
    }
}

/// Whether Postgres aborted the transaction to break a deadlock or a serialization conflict.
fn is_deadlock(e: &StoreError) -> bool {
    let StoreError::Database(source) = e else { return false };
    source
        .downcast_ref::<sqlx::Error>()
        .and_then(sqlx::Error::as_database_error)
        .and_then(|d| d.code())
        .is_some_and(|code| code == "40P01" || code == "40001")
}

fn u64_to_i64(v: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt { what })
}

/// A row of `attestations` as the API sees it (column types as Postgres has them).
struct AttestationRow {
    id: Vec<u8>,
    wallet: Vec<u8>,
    status: String,
    level: i16,
    claims: i64,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    tx_hash: Option<Vec<u8>>,
    block_number: Option<i64>,
    revocation_reason: Option<i16>,
    revoked_at: Option<OffsetDateTime>,
}

impl AttestationRow {
    fn into_attestation(self) -> Result<Attestation, StoreError> {
        stored::AttestationRow {
            id: self.id,
            wallet: self.wallet,
            status: self.status,
            level: self.level.into(),
            claims: self.claims,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            tx_hash: self.tx_hash,
            block_number: self.block_number,
            revocation_reason: self.revocation_reason.map(i64::from),
            revoked_at: self.revoked_at,
        }
        .into_attestation()
    }
}

/// A row of `outbox` (column types as Postgres has them).
struct OutboxRow {
    id: i64,
    kind: String,
    attestation_id: Vec<u8>,
    wallet: Vec<u8>,
    level: Option<i16>,
    claims: Option<i64>,
    issued_at: Option<OffsetDateTime>,
    expires_at: Option<OffsetDateTime>,
    reason: Option<i16>,
    state: String,
    attempts: i32,
    tx_hash: Option<Vec<u8>>,
    created_at: OffsetDateTime,
}

fn sorted_items(rows: Vec<OutboxRow>) -> Result<Vec<OutboxItem>, StoreError> {
    stored::sorted_items(
        rows.into_iter()
            .map(|r| stored::OutboxRow {
                id: r.id,
                kind: r.kind,
                attestation_id: r.attestation_id,
                wallet: r.wallet,
                level: r.level.map(i64::from),
                claims: r.claims,
                issued_at: r.issued_at,
                expires_at: r.expires_at,
                reason: r.reason.map(i64::from),
                state: r.state,
                attempts: r.attempts.into(),
                tx_hash: r.tx_hash,
                created_at: r.created_at,
            })
            .collect(),
    )
}

/// The advisory-lock key for a lease name: the first 8 bytes of SHA-256("honnin lease " ‖ name).
fn lease_key(name: LeaseName) -> i64 {
    let digest = Sha256::digest(format!("honnin lease {name}").as_bytes());
    let mut key = [0u8; 8];
    key.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(key)
}

/// The receipt for the attestation answering a challenge, if its digest matches.
async fn receipt_for_challenge(
    conn: &mut PgConnection,
    challenge: &ChallengeId,
    digest: &RequestDigest,
    now: OffsetDateTime,
) -> Result<Option<Result<AttestationReceipt, ()>>, StoreError> {
    let row = sqlx::query!(
        r#"SELECT id, wallet, status, expires_at, request_digest
           FROM attestations WHERE challenge_id = $1"#,
        challenge.as_bytes().as_slice(),
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
    let status =
        if status.is_live() && row.expires_at <= now { AttestationStatus::Expired } else { status };
    Ok(Some(Ok(AttestationReceipt {
        attestation_id: AttestationId::from_bytes(id16(&row.id, "attestation id")?),
        wallet: address(&row.wallet)?,
        status,
        expires_at: row.expires_at,
    })))
}

impl PgStore {
    /// The attestation transaction (see `honnin_core::store`) in one round trip: the
    /// `honnin_record_attestation` function (migration 0003) runs its steps on the server, in
    /// the call's own transaction. A replay is only looked for when the challenge turns out to
    /// be answered already (the unique `challenge_id` refuses the insert).
    async fn record_once(
        &self,
        new: &NewAttestation,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<Recorded, StoreError> {
        let row = sqlx::query!(
            r#"SELECT rotated_ids AS "rotated_ids!", rotated_wallets AS "rotated_wallets!"
               FROM honnin_record_attestation($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                                              $13, $14, $15, $16, $17)"#,
            new.id.as_bytes().as_slice(),
            new.challenge_id.as_bytes().as_slice(),
            new.request_digest.as_bytes().as_slice(),
            new.wallet.as_slice(),
            new.wallet_proof.as_str(),
            new.person.as_bytes().as_slice(),
            new.cert.as_bytes().as_slice(),
            new.cert_not_after,
            new.sealed.as_bytes(),
            i16::from(new.level.0),
            i64::from(new.claims.0),
            new.issued_at,
            new.expires_at,
            i32::try_from(policy.max_active_wallets.get()).unwrap_or(i32::MAX),
            policy.at_limit == AtLimit::Rotate,
            i16::from(RevocationReason::Rotated.code()),
            now,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| record_error(e, policy))?;
        if row.rotated_ids.len() != row.rotated_wallets.len() {
            return Err(corrupt("rotated attestations"));
        }
        let rotated = row
            .rotated_ids
            .iter()
            .zip(&row.rotated_wallets)
            .map(|(id, wallet)| {
                Ok(Rotated {
                    attestation_id: AttestationId::from_bytes(id16(id, "attestation id")?),
                    wallet: address(wallet)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
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
}

/// The attestation function's refusals (raised with honnin's own SQLSTATEs, so the call's work
/// rolls back) and unique violations as domain errors.
fn record_error(e: sqlx::Error, policy: &Policy) -> StoreError {
    let code = e.as_database_error().and_then(|d| d.code());
    match code.as_deref() {
        Some("HN001") => StoreError::CertificateRevoked,
        Some("HN002") => StoreError::WalletAlreadyAttested,
        Some("HN003") => StoreError::WalletLimitReached { limit: policy.max_active_wallets.get() },
        _ => unique_violation(e),
    }
}

/// Unique violations while inserting an attestation, as domain errors: another submission
/// (for another person, so not serialised by the person lock) won the wallet or the challenge.
fn unique_violation(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e
        && d.is_unique_violation()
    {
        match d.constraint() {
            Some("attestations_challenge_id_key") => return StoreError::ChallengeAlreadyAnswered,
            Some("attestations_live_wallet") => return StoreError::WalletAlreadyAttested,
            _ => {}
        }
    }
    db(e)
}

#[async_trait]
impl SchemaStore for PgStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(|e| StoreError::Migrate(Box::new(e)))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query_scalar!(r#"SELECT 1 AS "one!""#).fetch_one(&self.pool).await.map_err(db)?;
        Ok(())
    }
}

#[async_trait]
impl ChallengeStore for PgStore {
    async fn insert_challenge(&self, c: &Challenge) -> Result<(), StoreError> {
        let result = sqlx::query!(
            r#"INSERT INTO challenges
                 (id, purpose, wallet, audience, nonce, issued_at, expires_at, chain_id, registry,
                  domain)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#,
            c.id.as_bytes().as_slice(),
            c.purpose.as_str(),
            c.wallet.as_slice(),
            c.audience.as_ref().map(Audience::as_str),
            c.nonce.as_bytes().as_slice(),
            c.issued_at,
            c.expires_at,
            u64_to_i64(c.chain_id, "chain id above 2^63")?,
            c.registry.as_slice(),
            c.domain.as_str(),
        )
        .execute(&self.pool)
        .await;
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
        let consumed = sqlx::query_as!(
            stored::ChallengeRow,
            r#"UPDATE challenges SET consumed_at = $3
               WHERE id = $1 AND purpose = $2 AND consumed_at IS NULL AND expires_at > $3
               RETURNING id, purpose, wallet, audience, nonce, issued_at, expires_at, chain_id,
                         registry, domain"#,
            id.as_bytes().as_slice(),
            purpose.as_str(),
            now,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        if let Some(row) = consumed {
            return row.into_challenge();
        }
        // Lost: say why.
        let row = sqlx::query!(
            r#"SELECT purpose, consumed_at, expires_at FROM challenges WHERE id = $1"#,
            id.as_bytes().as_slice(),
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Err(match row {
            None => StoreError::ChallengeNotFound,
            Some(r) if r.purpose != purpose.as_str() => StoreError::ChallengePurposeMismatch,
            Some(r) if r.consumed_at.is_some() => StoreError::ChallengeUsed,
            Some(_) => StoreError::ChallengeExpired,
        })
    }

    async fn purge_challenges(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        Ok(sqlx::query!(r#"DELETE FROM challenges WHERE expires_at < $1"#, before)
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected())
    }
}

#[async_trait]
impl AttestationStore for PgStore {
    async fn record_attestation(
        &self,
        new: &NewAttestation,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<Recorded, StoreError> {
        // A deadlock is possible in a rare corner (two persons' transactions expiring each
        // other's lapsed rows by wallet); Postgres aborts one of them, which simply runs again.
        let mut attempt = 1;
        loop {
            let result = self.record_once(new, policy, now).await;
            match result {
                Err(e) if attempt < 3 && is_deadlock(&e) => {
                    tracing::debug!(target: "honnin::store", attempt, "deadlock recording an attestation; retrying");
                    attempt += 1;
                }
                // A refusal may be a re-sent request meeting its own first answer (the wallet
                // is taken by it, or the challenge is): that gets the original answer. Anything
                // the refused transaction did was rolled back.
                Err(
                    e @ (StoreError::ChallengeAlreadyAnswered
                    | StoreError::WalletAlreadyAttested
                    | StoreError::WalletLimitReached { .. }
                    | StoreError::CertificateRevoked),
                ) => {
                    let mut conn = self.pool.acquire().await.map_err(db)?;
                    return match receipt_for_challenge(
                        &mut conn,
                        &new.challenge_id,
                        &new.request_digest,
                        now,
                    )
                    .await?
                    {
                        Some(Ok(receipt)) => {
                            Ok(Recorded { receipt, replayed: true, rotated: vec![] })
                        }
                        Some(Err(())) => Err(StoreError::ChallengeAlreadyAnswered),
                        None => Err(e),
                    };
                }
                other => return other,
            }
        }
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
        sqlx::query_as!(
            AttestationRow,
            r#"SELECT id, wallet, status, level, claims, issued_at, expires_at,
                      COALESCE(tx_hash, (SELECT o.tx_hash FROM outbox o
                                          WHERE o.attestation_id = a.id AND o.kind = 'attest'
                                            AND o.tx_hash IS NOT NULL
                                          ORDER BY o.id DESC LIMIT 1)) AS tx_hash,
                      block_number, revocation_reason, revoked_at
               FROM attestations a WHERE id = $1"#,
            id.as_bytes().as_slice(),
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
        sqlx::query_as!(
            AttestationRow,
            r#"SELECT id, wallet, status, level, claims, issued_at, expires_at,
                      COALESCE(tx_hash, (SELECT o.tx_hash FROM outbox o
                                          WHERE o.attestation_id = a.id AND o.kind = 'attest'
                                            AND o.tx_hash IS NOT NULL
                                          ORDER BY o.id DESC LIMIT 1)) AS tx_hash,
                      block_number, revocation_reason, revoked_at
               FROM attestations a WHERE wallet = $1
               ORDER BY (status IN ('pending', 'active')) DESC, seq DESC
               LIMIT 1"#,
            wallet.as_slice(),
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(AttestationRow::into_attestation)
        .transpose()
    }
}

#[async_trait]
impl RevocationStore for PgStore {
    async fn revoke_wallet(
        &self,
        wallet: Address,
        reason: RevocationReason,
        now: OffsetDateTime,
    ) -> Result<Option<AttestationId>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let live = sqlx::query_scalar!(
            r#"SELECT id FROM attestations
               WHERE wallet = $1 AND status IN ('pending', 'active') AND expires_at > $2"#,
            wallet.as_slice(),
            now,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(id) = live else { return Ok(None) };
        let revoked = revoke_attestations(&mut tx, &[id], &[i16::from(reason.code())], now).await?;
        tx.commit().await.map_err(db)?;
        Ok(revoked.first().map(|r| r.attestation_id))
    }
}

#[async_trait]
impl ErasureStore for PgStore {
    async fn erase_person(
        &self,
        cert: &CertHash,
        pseudonym: &PersonPseudonym,
        now: OffsetDateTime,
    ) -> Result<Vec<Rotated>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let person = sqlx::query_scalar!(
            r#"SELECT p.id AS "id!" FROM persons p
               WHERE p.id = (SELECT person_id FROM certificates WHERE cert_hash = $1)
                  OR p.pseudonym = $2
               ORDER BY (p.id = (SELECT person_id FROM certificates WHERE cert_hash = $1)) DESC
               LIMIT 1
               FOR UPDATE"#,
            cert.as_bytes().as_slice(),
            pseudonym.as_bytes().as_slice(),
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(person) = person else { return Err(StoreError::PersonNotFound) };
        let live = sqlx::query_scalar!(
            r#"SELECT id FROM attestations
               WHERE status IN ('pending', 'active')
                 AND (person_id = $1
                      OR certificate_id IN (SELECT id FROM certificates WHERE person_id = $1))
               ORDER BY seq"#,
            person,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let reasons = vec![i16::from(RevocationReason::Erasure.code()); live.len()];
        let revoked = revoke_attestations(&mut tx, &live, &reasons, now).await?;
        // Cut every link from the attestations (and so from the chain records) to the person.
        sqlx::query!(
            r#"UPDATE attestations
               SET person_id = NULL, certificate_id = NULL, request_digest = NULL, updated_at = $2
               WHERE person_id = $1
                  OR certificate_id IN (SELECT id FROM certificates WHERE person_id = $1)"#,
            person,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query!(r#"DELETE FROM certificates WHERE person_id = $1"#, person)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query!(r#"DELETE FROM persons WHERE id = $1"#, person)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(revoked)
    }
}

#[async_trait]
impl ExpiryStore for PgStore {
    async fn expire_attestations(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Rotated>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let rows = sqlx::query!(
            r#"UPDATE attestations a SET status = 'expired', updated_at = $1
               FROM (SELECT id FROM attestations
                     WHERE status IN ('pending', 'active') AND expires_at <= $1
                     ORDER BY expires_at
                     LIMIT $2
                     FOR UPDATE SKIP LOCKED) lapsed
               WHERE a.id = lapsed.id AND a.status IN ('pending', 'active')
               RETURNING a.id, a.wallet"#,
            now,
            i64::from(limit),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let ids: Vec<Vec<u8>> = rows.iter().map(|r| r.id.clone()).collect();
        sqlx::query!(
            r#"UPDATE outbox SET state = 'cancelled', updated_at = $2
               WHERE kind = 'attest' AND state = 'pending' AND attestation_id = ANY($1)"#,
            &ids,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        rows.into_iter().map(|r| rotated(&r.id, &r.wallet)).collect()
    }
}

#[async_trait]
impl CertStatusStore for PgStore {
    async fn revoke_certificates(
        &self,
        revoked: &[RevokedCertificate],
        now: OffsetDateTime,
    ) -> Result<CertRevocationOutcome, StoreError> {
        let mut outcome = CertRevocationOutcome::default();
        if revoked.is_empty() {
            return Ok(outcome);
        }
        let hashes: Vec<Vec<u8>> = revoked.iter().map(|r| r.cert.as_bytes().to_vec()).collect();
        let reasons: Vec<i16> = revoked.iter().map(|r| i16::from(r.reason.code())).collect();
        let times: Vec<OffsetDateTime> = revoked.iter().map(|r| r.revoked_at).collect();
        let mut tx = self.pool.begin().await.map_err(db)?;
        // Mark the known ones revoked (the first report wins), in hash order so concurrent
        // calls lock rows in the same order.
        let known = sqlx::query!(
            r#"WITH reported AS (
                 SELECT DISTINCT ON (hash) hash, reason, at
                 FROM UNNEST($1::bytea[], $2::smallint[], $3::timestamptz[]) AS r(hash, reason, at)
                 ORDER BY hash, at),
               locked AS (
                 SELECT c.id, c.revoked_at IS NULL AS fresh, c.revocation_reason, r.reason, r.at
                 FROM certificates c JOIN reported r ON r.hash = c.cert_hash
                 ORDER BY c.cert_hash
                 FOR UPDATE OF c),
               updated AS (
                 UPDATE certificates c
                 SET revoked_at = l.at, revocation_reason = l.reason
                 FROM locked l
                 WHERE c.id = l.id AND l.fresh
                 RETURNING c.id)
               SELECT l.id AS "id!", l.fresh AS "fresh!",
                      COALESCE(l.revocation_reason, l.reason) AS "reason!"
               FROM locked l"#,
            &hashes,
            &reasons,
            &times,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let distinct: std::collections::BTreeSet<&[u8]> =
            hashes.iter().map(Vec::as_slice).collect();
        outcome.known = known.len() as u64;
        outcome.unknown = distinct.len() as u64 - outcome.known;
        outcome.newly_revoked = known.iter().filter(|k| k.fresh).count() as u64;
        let ids: Vec<i64> = known.iter().map(|k| k.id).collect();
        let superseded: Vec<i64> = known
            .iter()
            .filter(|k| k.reason == i16::from(RevocationReason::Superseded.code()))
            .map(|k| k.id)
            .collect();
        // Renewals: the live attestations of a superseded certificate with a linked, unrevoked
        // successor move to the successor.
        let moved = sqlx::query_scalar!(
            r#"UPDATE attestations a SET certificate_id = s.id, updated_at = $2
               FROM (SELECT DISTINCT ON (renewed_from) renewed_from, id FROM certificates
                     WHERE renewed_from = ANY($1) AND revoked_at IS NULL
                     ORDER BY renewed_from, id DESC) s
               WHERE a.certificate_id = s.renewed_from AND a.status IN ('pending', 'active')
               RETURNING a.id"#,
            &superseded,
            now,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        outcome.moved = moved
            .iter()
            .map(|id| Ok(AttestationId::from_bytes(id16(id, "attestation id")?)))
            .collect::<Result<_, StoreError>>()?;
        // Everything else that is still live on those certificates is revoked.
        let live = sqlx::query!(
            r#"SELECT a.id, c.revocation_reason AS "reason!"
               FROM attestations a JOIN certificates c ON c.id = a.certificate_id
               WHERE a.certificate_id = ANY($1) AND a.status IN ('pending', 'active')
               ORDER BY a.seq"#,
            &ids,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let (live_ids, live_reasons): (Vec<Vec<u8>>, Vec<i16>) =
            live.into_iter().map(|r| (r.id, r.reason)).unzip();
        outcome.revoked = revoke_attestations(&mut tx, &live_ids, &live_reasons, now).await?;
        tx.commit().await.map_err(db)?;
        Ok(outcome)
    }

    async fn link_renewals(
        &self,
        links: &[RenewalLink],
        now: OffsetDateTime,
    ) -> Result<LinkOutcome, StoreError> {
        let mut outcome = LinkOutcome::default();
        let mut tx = self.pool.begin().await.map_err(db)?;
        for link in links {
            // The old certificate's person, locked (as record_attestation does) so erasure or
            // a concurrent attestation cannot interleave.
            let old = sqlx::query!(
                r#"SELECT c.id, c.person_id FROM certificates c
                   JOIN persons p ON p.id = c.person_id
                   WHERE c.cert_hash = $1
                   FOR UPDATE OF p"#,
                link.old.as_bytes().as_slice(),
            )
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
            let Some(old) = old else {
                outcome.unknown_old += 1;
                continue;
            };
            let new = sqlx::query!(
                r#"INSERT INTO certificates (cert_hash, person_id, renewed_from, created_at)
                   VALUES ($1, $2, $3, $4)
                   ON CONFLICT (cert_hash) DO UPDATE SET cert_hash = EXCLUDED.cert_hash
                   RETURNING id, person_id, renewed_from, (xmax = 0) AS "inserted!""#,
                link.new.as_bytes().as_slice(),
                old.person_id,
                old.id,
                now,
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            if new.inserted {
                outcome.linked += 1;
            } else if new.person_id != old.person_id {
                outcome.conflicts += 1;
            } else if new.renewed_from.is_none() && new.id != old.id {
                sqlx::query!(
                    r#"UPDATE certificates SET renewed_from = $2 WHERE id = $1"#,
                    new.id,
                    old.id,
                )
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                outcome.linked += 1;
            } else {
                outcome.already += 1;
            }
        }
        tx.commit().await.map_err(db)?;
        Ok(outcome)
    }

    async fn live_certificates(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LiveCertificate>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT c.id, c.cert_hash, c.sealed FROM certificates c
               WHERE c.id > $1 AND c.revoked_at IS NULL
                 AND EXISTS (SELECT 1 FROM attestations a
                             WHERE a.certificate_id = c.id AND a.status IN ('pending', 'active'))
               ORDER BY c.id
               LIMIT $2"#,
            after.unwrap_or(0),
            i64::from(limit),
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
impl OutboxStore for PgStore {
    async fn claim_outbox(
        &self,
        limit: u32,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        // An item waits while an earlier item for the same wallet is still open, so a revoke
        // never overtakes the attest it undoes (also when another writer holds the attest): it
        // must be its wallet's first open item. Written as a correlated subquery, not an
        // anti-join: Postgres runs it per candidate with the wallet bound, an index lookup,
        // where an anti-join planned on stale statistics (a queue that grew from empty faster
        // than autovacuum analyses it) compared every candidate with every open item.
        let rows = sqlx::query_as!(
            OutboxRow,
            r#"UPDATE outbox o
               SET state = 'claimed', claimed_until = $3, attempts = o.attempts + 1, updated_at = $2
               FROM (SELECT id FROM outbox c
                     WHERE ((c.state = 'pending' AND c.next_attempt_at <= $2)
                            OR (c.state = 'claimed' AND c.claimed_until <= $2))
                       AND c.id = (SELECT p.id FROM outbox p
                                   WHERE p.wallet = c.wallet
                                     AND p.state IN ('pending', 'claimed', 'sent')
                                   ORDER BY p.id
                                   LIMIT 1)
                     ORDER BY id
                     LIMIT $1
                     FOR UPDATE SKIP LOCKED) picked
               WHERE o.id = picked.id
               RETURNING o.id, o.kind, o.attestation_id, o.wallet, o.level, o.claims, o.issued_at,
                         o.expires_at, o.reason, o.state, o.attempts, o.tx_hash, o.created_at"#,
            i64::from(limit),
            now,
            now + lease,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
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
        let asked = ids;
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        // Only the outbox: a pending attestation shows its item's hash (see `attestation`), so
        // sending costs no second rewrite of the attestation rows and all their indexes.
        let mut tx = self.pool.begin().await.map_err(db)?;
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'sent', tx_hash = $2, claimed_until = NULL, updated_at = $3
               WHERE id = ANY($1) AND state = 'claimed'
               RETURNING id"#,
            &ids,
            tx_hash.as_slice(),
            now,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        all_updated(asked, &updated, "claimed")?;
        tx.commit().await.map_err(db)
    }

    async fn mark_confirmed(
        &self,
        ids: &[OutboxId],
        tx_hash: B256,
        block_number: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let asked = ids;
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        let block = u64_to_i64(block_number, "block number above 2^63")?;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'confirmed', tx_hash = $2, block_number = $3,
                      claimed_until = NULL, updated_at = $4
               WHERE id = ANY($1) AND state IN ('claimed', 'sent')
               RETURNING id"#,
            &ids,
            tx_hash.as_slice(),
            block,
            now,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        all_updated(asked, &updated, "claimed or sent")?;
        sqlx::query!(
            r#"UPDATE attestations a
               SET status = 'active', tx_hash = $2, block_number = $3, updated_at = $4
               FROM outbox o
               WHERE o.id = ANY($1) AND o.kind = 'attest' AND a.id = o.attestation_id
                 AND a.status = 'pending'"#,
            &ids,
            tx_hash.as_slice(),
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
        let asked = ids;
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        let mut tx = self.pool.begin().await.map_err(db)?;
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'pending', next_attempt_at = $2, claimed_until = NULL,
                      tx_hash = NULL, last_error = $3, updated_at = now()
               WHERE id = ANY($1) AND state IN ('claimed', 'sent')
               RETURNING id"#,
            &ids,
            retry_at,
            error,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        all_updated(asked, &updated, "claimed or sent")?;
        // Sending no longer writes attestation rows (since the release with migration 0005);
        // this clears the hash that a batch sent by an older version put on them.
        sqlx::query!(
            r#"UPDATE attestations a SET tx_hash = NULL, updated_at = now()
               FROM outbox o
               WHERE o.id = ANY($1) AND o.kind = 'attest' AND a.id = o.attestation_id
                 AND a.status = 'pending'"#,
            &ids,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn mark_failed(&self, ids: &[OutboxId], error: &str) -> Result<(), StoreError> {
        let asked = ids;
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'failed', claimed_until = NULL, last_error = $2,
                      updated_at = now()
               WHERE id = ANY($1) AND state IN ('pending', 'claimed', 'sent')
               RETURNING id"#,
            &ids,
            error,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        all_updated(asked, &updated, "pending, claimed or sent")
    }
}

#[async_trait]
impl LeaseStore for PgStore {
    async fn try_lease(&self, name: LeaseName) -> Result<Option<Box<dyn Lease>>, StoreError> {
        // A dedicated connection: the lock lives as long as this session, never in the pool.
        let mut conn = PgConnection::connect_with(&self.connect_options).await.map_err(db)?;
        let key = lease_key(name);
        let got = sqlx::query_scalar!(r#"SELECT pg_try_advisory_lock($1) AS "got!""#, key)
            .fetch_one(&mut conn)
            .await
            .map_err(db)?;
        if got {
            tracing::info!(target: "honnin::store", lease = %name, "lease acquired");
            Ok(Some(Box::new(PgLease { name, key, conn: Some(conn) })))
        } else {
            conn.close().await.map_err(db)?;
            Ok(None)
        }
    }
}

#[async_trait]
impl AuditStore for PgStore {
    async fn append_audit(&self, events: &[NewAuditEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        // One statement, one round trip: the rows go in only if the head row still holds the
        // head they were chained to, and the head moves in the same statement. An append from
        // another instance in between (or none known yet) leaves nothing written: read the head
        // and chain again. The head row's lock makes concurrent appenders take turns.
        let cached = *self.audit_head.lock().unwrap_or_else(PoisonError::into_inner);
        let mut head = match cached {
            Some(head) => head,
            None => self.read_audit_head().await?,
        };
        for _ in 0..AUDIT_APPEND_ATTEMPTS {
            let (mut seq, mut prev) = head;
            let mut rows = AuditColumns::with_capacity(events.len());
            for event in events {
                let event = event.clone().truncated();
                seq += 1;
                let hash = chain_hash(&prev, seq, &event);
                rows.push(u64_to_i64(seq, "audit seq above 2^63")?, &event, prev, hash);
                prev = hash;
            }
            let appended = sqlx::query_scalar!(
                r#"WITH head AS (
                       UPDATE audit_head SET seq = $11, hash = $12
                        WHERE id AND seq = $13 AND hash = $14
                       RETURNING seq),
                   appended AS (
                       INSERT INTO audit_log
                           (seq, at, kind, code, attestation_id, request_id, client, api_key_id,
                            prev_hash, hash)
                       SELECT * FROM UNNEST($1::bigint[], $2::timestamptz[], $3::text[],
                                            $4::text[], $5::bytea[], $6::text[], $7::text[],
                                            $8::text[], $9::bytea[], $10::bytea[])
                        WHERE EXISTS (SELECT 1 FROM head))
                   SELECT count(*) AS "moved!" FROM head"#,
                &rows.seq,
                &rows.at,
                &rows.kind,
                &rows.code as &[Option<String>],
                &rows.attestation_id as &[Option<Vec<u8>>],
                &rows.request_id as &[Option<String>],
                &rows.client as &[Option<String>],
                &rows.api_key_id as &[Option<String>],
                &rows.prev_hash,
                &rows.hash,
                u64_to_i64(seq, "audit seq above 2^63")?,
                prev.as_slice(),
                u64_to_i64(head.0, "audit seq above 2^63")?,
                head.1.as_slice(),
            )
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
            if appended == 1 {
                *self.audit_head.lock().unwrap_or_else(PoisonError::into_inner) = Some((seq, prev));
                return Ok(());
            }
            head = self.read_audit_head().await?;
        }
        Err(StoreError::Database(
            format!("the audit head moved {AUDIT_APPEND_ATTEMPTS} times during one append").into(),
        ))
    }

    async fn audit_page(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let kinds: Vec<String> = query.kinds.iter().map(|k| k.as_str().to_owned()).collect();
        let after = match query.after_seq {
            Some(seq) => u64_to_i64(seq, "audit cursor above 2^63")?,
            None => 0,
        };
        let limit = i64::from(query.limit.min(AuditQuery::MAX_LIMIT));
        let rows = sqlx::query_as!(
            AuditRow,
            r#"SELECT seq, at, kind, code, attestation_id, request_id, client, api_key_id,
                      prev_hash, hash
               FROM audit_log
               WHERE seq > $1
                 AND ($2::timestamptz IS NULL OR at >= $2)
                 AND ($3::timestamptz IS NULL OR at < $3)
                 AND (cardinality($4::text[]) = 0 OR kind = ANY($4))
               ORDER BY seq
               LIMIT $5"#,
            after,
            query.from,
            query.to,
            &kinds,
            limit,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter().map(AuditRow::into_record).collect()
    }

    async fn audit_head(&self) -> Result<Option<(u64, B256)>, StoreError> {
        let head = sqlx::query!(r#"SELECT seq, hash FROM audit_head WHERE id"#)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        let seq = u64::try_from(head.seq).map_err(|_| corrupt("audit head seq"))?;
        Ok((seq > 0).then(|| stored::b256(&head.hash)).transpose()?.map(|hash| (seq, hash)))
    }
}

/// Revokes those of `ids` that are still live, each for its reason (registry codes), and
/// queues their `revoke` (or cancels their `attest` when it was never claimed). Returns the
/// attestations revoked by this call, in the order given.
async fn revoke_attestations(
    tx: &mut Transaction<'static, Postgres>,
    ids: &[Vec<u8>],
    reasons: &[i16],
    now: OffsetDateTime,
) -> Result<Vec<Rotated>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The status check is the claim: of two concurrent revocations, one revokes.
    let rows = sqlx::query!(
        r#"UPDATE attestations a
           SET status = 'revoked', revocation_reason = r.reason, revoked_at = $3, updated_at = $3
           FROM UNNEST($1::bytea[], $2::smallint[]) WITH ORDINALITY AS r(id, reason, n)
           WHERE a.id = r.id AND a.status IN ('pending', 'active')
           RETURNING a.id, a.wallet, r.reason AS "reason!", r.n AS "n!""#,
        ids,
        reasons,
        now,
    )
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    let revoked_ids: Vec<Vec<u8>> = rows.iter().map(|r| r.id.clone()).collect();
    let cancelled = sqlx::query_scalar!(
        r#"UPDATE outbox SET state = 'cancelled', updated_at = $2
           WHERE kind = 'attest' AND state = 'pending' AND attestation_id = ANY($1)
           RETURNING attestation_id"#,
        &revoked_ids,
        now,
    )
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    let queue: Vec<_> = rows.iter().filter(|r| !cancelled.contains(&r.id)).collect();
    if !queue.is_empty() {
        let q_ids: Vec<Vec<u8>> = queue.iter().map(|r| r.id.clone()).collect();
        let q_wallets: Vec<Vec<u8>> = queue.iter().map(|r| r.wallet.clone()).collect();
        let q_reasons: Vec<i16> = queue.iter().map(|r| r.reason).collect();
        sqlx::query!(
            r#"INSERT INTO outbox
                 (kind, attestation_id, wallet, reason, state, next_attempt_at, created_at,
                  updated_at)
               SELECT 'revoke', r.id, r.wallet, r.reason, 'pending', $4, $4, $4
               FROM UNNEST($1::bytea[], $2::bytea[], $3::smallint[]) WITH ORDINALITY
                    AS r(id, wallet, reason, n)
               ORDER BY r.n"#,
            &q_ids,
            &q_wallets,
            &q_reasons,
            now,
        )
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    let mut rows = rows;
    rows.sort_by_key(|r| r.n);
    rows.iter().map(|r| rotated(&r.id, &r.wallet)).collect()
}

/// The columns of audit rows to insert, one array each (for `UNNEST`).
#[derive(Default)]
struct AuditColumns {
    seq: Vec<i64>,
    at: Vec<OffsetDateTime>,
    kind: Vec<String>,
    code: Vec<Option<String>>,
    attestation_id: Vec<Option<Vec<u8>>>,
    request_id: Vec<Option<String>>,
    client: Vec<Option<String>>,
    api_key_id: Vec<Option<String>>,
    prev_hash: Vec<Vec<u8>>,
    hash: Vec<Vec<u8>>,
}

impl AuditColumns {
    fn with_capacity(n: usize) -> Self {
        Self {
            seq: Vec::with_capacity(n),
            at: Vec::with_capacity(n),
            kind: Vec::with_capacity(n),
            code: Vec::with_capacity(n),
            attestation_id: Vec::with_capacity(n),
            request_id: Vec::with_capacity(n),
            client: Vec::with_capacity(n),
            api_key_id: Vec::with_capacity(n),
            prev_hash: Vec::with_capacity(n),
            hash: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, seq: i64, event: &NewAuditEvent, prev: B256, hash: B256) {
        self.seq.push(seq);
        self.at.push(event.at);
        self.kind.push(event.kind.as_str().to_owned());
        self.code.push(event.code.clone());
        self.attestation_id.push(event.attestation_id.map(|a| a.as_bytes().to_vec()));
        self.request_id.push(event.context.request_id.clone());
        self.client.push(event.context.client.clone());
        self.api_key_id.push(event.context.api_key_id.clone());
        self.prev_hash.push(prev.to_vec());
        self.hash.push(hash.to_vec());
    }
}

/// A row of `audit_log`.
struct AuditRow {
    seq: i64,
    at: OffsetDateTime,
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
            at: self.at,
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

/// A Postgres session advisory lock on a dedicated connection.
#[derive(Debug)]
struct PgLease {
    name: LeaseName,
    key: i64,
    conn: Option<PgConnection>,
}

#[async_trait]
impl Lease for PgLease {
    fn name(&self) -> LeaseName {
        self.name
    }

    async fn is_held(&mut self) -> Result<bool, StoreError> {
        let Some(conn) = self.conn.as_mut() else { return Ok(false) };
        // The lock lives exactly as long as the session: a live session still holds it.
        let held = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM pg_locks
                              WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                                AND ((classid::bigint << 32) | objid::bigint) = $1) AS "held!""#,
            self.key,
        )
        .fetch_one(conn)
        .await;
        match held {
            Ok(held) => Ok(held),
            Err(e) => {
                tracing::warn!(target: "honnin::store", lease = %self.name, error = %e, "lease connection lost");
                self.conn = None;
                Ok(false)
            }
        }
    }

    async fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        if let Some(mut conn) = self.conn.take() {
            sqlx::query_scalar!(r#"SELECT pg_advisory_unlock($1) AS "released!""#, self.key)
                .fetch_one(&mut conn)
                .await
                .map_err(db)?;
            conn.close().await.map_err(db)?;
            tracing::info!(target: "honnin::store", lease = %self.name, "lease released");
        }
        Ok(())
    }
}
