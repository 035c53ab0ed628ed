//! Stage 2, once per CRL: fetched and verified against the trust anchors, every entry hashed
//! with the CRL's root key id and the pepper (off the async workers), applied in batches, and
//! the verified CRL offered to the API's source.

use std::sync::Arc;

use honnin_core::RevokedCertificate;
use honnin_jpki::CrlOrigin;

use super::apply::{Origin, reason};
use super::{CrlReport, Cycle, Progress, RevocationSync, Stage, TARGET};
use crate::{Error, Result};

impl RevocationSync {
    /// Applies the CRL at `origin`. One that cannot be fetched or verified is a failed stage;
    /// the cycle goes on with the next CRL.
    pub(super) async fn crl(&self, origin: &CrlOrigin, cycle: &mut Cycle<'_>) -> Result<Stage> {
        let name = origin.to_string();
        let crl = match origin.fetch(&self.anchors).await {
            Ok(crl) => crl,
            Err(source) => {
                let error = Error::Crl { origin: name.clone(), source };
                cycle.fail(&self.metrics, "crl", error.to_string());
                return Ok(Stage::Finished);
            }
        };
        let now = honnin_core::time::now();
        let stale = crl.next_update().is_some_and(|next| next < now);
        cycle.progress(Progress::CrlFetched {
            origin: name.clone(),
            entries: crl.len(),
            this_update: crl.this_update(),
            next_update: crl.next_update(),
            stale,
        });
        if stale {
            tracing::warn!(target: TARGET, origin = %name, "the CRL is past its nextUpdate: the publisher is late");
        }
        cycle.oldest_crl =
            Some(cycle.oldest_crl.map_or(crl.this_update(), |o| o.min(crl.this_update())));
        self.metrics.crl_entries(crl.len() as u64);
        let mut report = CrlReport {
            origin: name.clone(),
            entries: crl.len() as u64,
            this_update: Some(crl.this_update()),
            stale,
            ..CrlReport::default()
        };
        // Hash every entry with the CRL's root (off the async workers: HMAC per entry), once
        // globally and once per registered scope, newest first, so the first batches hold the
        // revocations that matter now.
        let root = crl.root_key_id().to_vec();
        let pepper = self.pepper.clone();
        let scopes = cycle.scopes.clone();
        let crl = Arc::new(crl);
        let hashed = {
            let crl = crl.clone();
            tokio::task::spawn_blocking(move || {
                let mut hashed: Vec<RevokedCertificate> = crl
                    .entries()
                    .flat_map(|entry| {
                        pepper.cert_hashes(&scopes, &root, entry.serial).into_iter().map(
                            move |cert| RevokedCertificate {
                                cert,
                                reason: reason(entry.reason),
                                revoked_at: entry.revoked_at,
                            },
                        )
                    })
                    .collect();
                hashed.sort_by_key(|r| std::cmp::Reverse(r.revoked_at));
                hashed
            })
            .await
            .map_err(|e| Error::Task(e.to_string()))?
        };
        let total = hashed.len();
        let mut done = 0;
        for chunk in hashed.chunks(self.batch_size) {
            if cycle.stopping() {
                cycle.report.crls.push(report);
                return Ok(Stage::Interrupted);
            }
            let applied = self.apply(chunk, cycle.links_ok, Origin::Crl, &cycle.context).await?;
            report.known += applied.known;
            report.newly_revoked += applied.newly_revoked;
            report.attestations_revoked += applied.revoked;
            report.attestations_moved += applied.moved;
            report.deferred += applied.deferred;
            done += chunk.len();
            cycle.progress(Progress::CrlBatch { origin: name.clone(), done, total });
        }
        if let Some(source) = &self.offer_to {
            source.offer((*crl).clone());
        }
        cycle.report.crls.push(report);
        Ok(Stage::Finished)
    }
}
