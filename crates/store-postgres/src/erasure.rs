//! Erasing a person: the global record and every scoped one, in one transaction.

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
        identities: &[(CertHash, PersonPseudonym)],
        now: OffsetDateTime,
    ) -> Result<Vec<AttestationWallet>, StoreError> {
        let certs: Vec<Vec<u8>> = identities.iter().map(|(c, _)| c.as_bytes().to_vec()).collect();
        let pseudonyms: Vec<Vec<u8>> =
            identities.iter().map(|(_, p)| p.as_bytes().to_vec()).collect();
        let mut tx = self.pool.begin().await.map_err(db)?;
        // Each identity's person: through its certificate if that is known, else by pseudonym.
        // Locked in id order, so two erasures (or an erasure and an attestation, which locks
        // one person) cannot deadlock.
        let persons = sqlx::query_scalar!(
            r#"SELECT p.id FROM persons p
               WHERE p.id IN (SELECT COALESCE(
                                       (SELECT c.person_id FROM certificates c
                                         WHERE c.cert_hash = i.cert),
                                       (SELECT q.id FROM persons q
                                         WHERE q.pseudonym = i.pseudonym))
                              FROM UNNEST($1::bytea[], $2::bytea[]) AS i(cert, pseudonym))
               ORDER BY p.id
               FOR UPDATE"#,
            &certs,
            &pseudonyms,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        if persons.is_empty() {
            return Err(StoreError::PersonNotFound);
        }
        let live = sqlx::query_scalar!(
            r#"SELECT id FROM attestations
               WHERE status IN ('pending', 'active')
                 AND (person_id = ANY($1)
                      OR certificate_id IN (SELECT id FROM certificates
                                             WHERE person_id = ANY($1)))
               ORDER BY seq"#,
            &persons,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let reasons = vec![i16::from(RevocationReason::Erasure.code()); live.len()];
        let revoked = revoke_attestations(&mut tx, &live, &reasons, now).await?;
        // Cut every link from the attestations (and so from the chain records) to the persons.
        // The scope stays: it is the chain record's, and identifies nobody.
        sqlx::query!(
            r#"UPDATE attestations
               SET person_id = NULL, certificate_id = NULL, request_digest = NULL, updated_at = $2
               WHERE person_id = ANY($1)
                  OR certificate_id IN (SELECT id FROM certificates WHERE person_id = ANY($1))"#,
            &persons,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query!(r#"DELETE FROM certificates WHERE person_id = ANY($1)"#, &persons)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query!(r#"DELETE FROM persons WHERE id = ANY($1)"#, &persons)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(revoked)
    }
}
