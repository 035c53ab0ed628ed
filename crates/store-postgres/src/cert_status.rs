//! Certificate revocations, renewal links and the live certificates of an OCSP re-check.

use async_trait::async_trait;
use honnin_core::{
    CertRevocationOutcome, LinkOutcome, LiveCertificate, RenewalLink, RevocationReason,
    RevokedCertificate, StoreError,
    store::CertStatusStore,
    stored::{LiveCertificateRow, attestation_id},
};
use time::OffsetDateTime;

use crate::{PgStore, error::db, revocations::revoke_attestations};

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
        let reports = RevokedCertificate::first_reports(revoked);
        let hashes: Vec<Vec<u8>> = reports.iter().map(|r| r.cert.as_bytes().to_vec()).collect();
        let reasons: Vec<i16> = reports.iter().map(|r| i16::from(r.reason.code())).collect();
        let times: Vec<OffsetDateTime> = reports.iter().map(|r| r.revoked_at).collect();
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
        outcome.known = known.len() as u64;
        outcome.unknown = reports.len() as u64 - outcome.known;
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
        outcome.moved =
            moved.iter().map(|id| attestation_id(id)).collect::<Result<_, StoreError>>()?;
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
                LiveCertificateRow { id: r.id, cert_hash: r.cert_hash, sealed: r.sealed }
                    .into_live()
            })
            .collect()
    }
}
