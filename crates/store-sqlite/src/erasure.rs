//! Erasing a person.

use async_trait::async_trait;
use honnin_core::{
    AttestationWallet, CertHash, PersonPseudonym, RevocationReason, StoreError, store::ErasureStore,
};
use time::OffsetDateTime;

use crate::{SqliteStore, error::db, revocations::revoke_one, rows::secs};

#[async_trait]
impl ErasureStore for SqliteStore {
    async fn erase_person(
        &self,
        cert: &CertHash,
        pseudonym: &PersonPseudonym,
        now_t: OffsetDateTime,
    ) -> Result<Vec<AttestationWallet>, StoreError> {
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
