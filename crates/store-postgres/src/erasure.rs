//! Erasing a person.

use async_trait::async_trait;
use honnin_core::{
    AttestationWallet, CertHash, PersonPseudonym, RevocationReason, StoreError, store::ErasureStore,
};
use time::OffsetDateTime;

use crate::{PgStore, error::db, revocations::revoke_attestations};

#[async_trait]
impl ErasureStore for PgStore {
    async fn erase_person(
        &self,
        cert: &CertHash,
        pseudonym: &PersonPseudonym,
        now: OffsetDateTime,
    ) -> Result<Vec<AttestationWallet>, StoreError> {
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
