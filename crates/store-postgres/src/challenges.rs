//! Challenges: insert, consume with one conditional `UPDATE … RETURNING`, purge.

use async_trait::async_trait;
use honnin_core::{
    Challenge, ChallengeId, Purpose, ScopeName, StoreError,
    challenge::Audience,
    store::ChallengeStore,
    stored::{self, UnconsumedRow, not_consumed, to_i64},
};
use time::OffsetDateTime;

use crate::{PgStore, error::db};

#[async_trait]
impl ChallengeStore for PgStore {
    async fn insert_challenge(&self, c: &Challenge) -> Result<(), StoreError> {
        let result = sqlx::query!(
            r#"INSERT INTO challenges
                 (id, purpose, wallet, audience, scope, nonce, issued_at, expires_at, chain_id,
                  registry, domain)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
            c.id.as_bytes().as_slice(),
            c.purpose.as_str(),
            c.wallet.as_slice(),
            c.audience.as_ref().map(Audience::as_str),
            c.scope.as_ref().map(ScopeName::as_str),
            c.nonce.as_bytes().as_slice(),
            c.issued_at,
            c.expires_at,
            to_i64(c.chain_id, "chain id above 2^63")?,
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
               RETURNING id, purpose, wallet, audience, scope, nonce, issued_at, expires_at,
                         chain_id, registry, domain"#,
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
        Err(not_consumed(
            row.map(|r| UnconsumedRow { purpose: r.purpose, consumed: r.consumed_at.is_some() }),
            purpose,
        ))
    }

    async fn purge_challenges(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        Ok(sqlx::query!(r#"DELETE FROM challenges WHERE expires_at < $1"#, before)
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected())
    }
}
