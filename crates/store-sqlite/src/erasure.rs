//! Erasing a person: the global record and every scoped one, in one transaction.

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
        identities: &[(CertHash, PersonPseudonym)],
        now_t: OffsetDateTime,
    ) -> Result<Vec<AttestationWallet>, StoreError> {
        let now = secs(now_t);
        let turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        // Each identity's person: through its certificate if that is known, else by pseudonym.
        let mut persons = Vec::with_capacity(identities.len());
        for (cert, pseudonym) in identities {
            let cert = cert.as_bytes().as_slice();
            let pseudonym = pseudonym.as_bytes().as_slice();
            let person = sqlx::query_scalar!(
                r#"SELECT COALESCE((SELECT person_id FROM certificates WHERE cert_hash = ?1),
                                   (SELECT id FROM persons WHERE pseudonym = ?2)) AS "id: i64""#,
                cert,
                pseudonym,
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            if let Some(person) = person
                && !persons.contains(&person)
            {
                persons.push(person);
            }
        }
        if persons.is_empty() {
            return Err(StoreError::PersonNotFound);
        }
        // The persons as the JSON array `json_each` reads.
        let persons = serde_json::Value::from(persons).to_string();
        let live = sqlx::query_scalar!(
            r#"SELECT id FROM attestations
               WHERE status IN ('pending', 'active')
                 AND (person_id IN (SELECT value FROM json_each(?1))
                      OR certificate_id IN (SELECT id FROM certificates
                                             WHERE person_id IN (SELECT value FROM json_each(?1))))
               ORDER BY rowid"#,
            persons,
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
        // Cut every link from the attestations (and so from the chain records) to the persons.
        // The scope stays: it is the chain record's, and identifies nobody.
        sqlx::query!(
            r#"UPDATE attestations
               SET person_id = NULL, certificate_id = NULL, request_digest = NULL, updated_at = ?2
               WHERE person_id IN (SELECT value FROM json_each(?1))
                  OR certificate_id IN (SELECT id FROM certificates
                                         WHERE person_id IN (SELECT value FROM json_each(?1)))"#,
            persons,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query!(
            r#"DELETE FROM certificates WHERE person_id IN (SELECT value FROM json_each(?1))"#,
            persons,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query!(
            r#"DELETE FROM persons WHERE id IN (SELECT value FROM json_each(?1))"#,
            persons
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        // The write-ahead log still holds the pages as they were before the erasure: copy it
        // into the database file (where `secure_delete` zeroed the deleted rows) and truncate
        // it. Best effort: a reader still inside an old snapshot keeps the checkpoint from
        // completing, and the frames are then overwritten as the log is reused.
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await
        {
            tracing::warn!(target: "honnin::store", %error, "checkpoint after an erasure failed");
        }
        drop(turn);
        Ok(revoked)
    }
}
