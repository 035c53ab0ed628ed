//! Certificate revocations, renewal links and the live certificates of an OCSP re-check.

use async_trait::async_trait;
use honnin_core::{
    CertRevocationOutcome, LinkOutcome, LiveCertificate, RenewalLink, RevocationReason,
    RevokedCertificate, StoreError,
    store::CertStatusStore,
    stored::{LiveCertificateRow, attestation_id},
};
use time::OffsetDateTime;

use crate::{SqliteStore, error::db, revocations::revoke_one, rows::secs};

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
        let reports = RevokedCertificate::first_reports(revoked);
        let now = secs(now_t);
        let superseded = i64::from(RevocationReason::Superseded.code());
        let turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        for report in &reports {
            let hash = report.cert.as_bytes().as_slice();
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
                    outcome.moved.push(attestation_id(&id)?);
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
                LiveCertificateRow { id: r.id, cert_hash: r.cert_hash, sealed: r.sealed }
                    .into_live()
            })
            .collect()
    }
}
