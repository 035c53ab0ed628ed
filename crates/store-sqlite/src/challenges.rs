//! Challenges: insert, consume with one conditional `UPDATE … RETURNING`, purge.

use async_trait::async_trait;
use honnin_core::{
    Challenge, ChallengeId, Purpose, ScopeName, StoreError,
    challenge::Audience,
    store::ChallengeStore,
    stored::{UnconsumedRow, not_consumed, to_i64},
};
use time::OffsetDateTime;

use crate::{
    SqliteStore,
    error::db,
    rows::{ChallengeRow, secs},
};

#[async_trait]
impl ChallengeStore for SqliteStore {
    async fn insert_challenge(&self, c: &Challenge) -> Result<(), StoreError> {
        let id = c.id.as_bytes().as_slice();
        let purpose = c.purpose.as_str();
        let wallet = c.wallet.as_slice();
        let audience = c.audience.as_ref().map(Audience::as_str);
        let scope = c.scope.as_ref().map(ScopeName::as_str);
        let nonce = c.nonce.as_bytes().as_slice();
        let issued_at = secs(c.issued_at);
        let expires_at = secs(c.expires_at);
        let chain_id = to_i64(c.chain_id, "chain id above 2^63")?;
        let registry = c.registry.as_slice();
        let domain = c.domain.as_str();
        let turn = self.write_turn().await;
        let result = sqlx::query!(
            r#"INSERT INTO challenges
                 (id, purpose, wallet, audience, scope, nonce, issued_at, expires_at, chain_id,
                  registry, domain)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"#,
            id,
            purpose,
            wallet,
            audience,
            scope,
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
        let purpose_name = purpose.as_str();
        let now = secs(now);
        // One statement, so one atomic write: exactly one of any number of racers matches.
        let turn = self.write_turn().await;
        let consumed = sqlx::query_as!(
            ChallengeRow,
            r#"UPDATE challenges SET consumed_at = ?3
               WHERE id = ?1 AND purpose = ?2 AND consumed_at IS NULL AND expires_at > ?3
               RETURNING id AS "id!", purpose AS "purpose!", wallet AS "wallet!", audience, scope,
                         nonce AS "nonce!", issued_at AS "issued_at!", expires_at AS "expires_at!",
                         chain_id AS "chain_id!", registry AS "registry!", domain AS "domain!""#,
            id,
            purpose_name,
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
        Err(not_consumed(
            row.map(|r| UnconsumedRow { purpose: r.purpose, consumed: r.consumed_at.is_some() }),
            purpose,
        ))
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
