//! Stage 3: the OCSP re-check of every certificate with a live attestation, in pages, with
//! its serial opened from the sealed column in memory only.

use futures::StreamExt as _;
use honnin_core::RevokedCertificate;
use honnin_jpki::{RevocationSource, RevocationStatus, revocation::cert_ref};

use super::apply::{Origin, reason};
use super::{Cycle, Progress, RecheckReport, RevocationSync, Stage, TARGET};
use crate::Result;

impl RevocationSync {
    /// Re-checks every certificate with a live attestation through `source`, a page at a
    /// time, and applies the revoked ones.
    pub(super) async fn recheck(
        &self,
        source: &dyn RevocationSource,
        cycle: &mut Cycle<'_>,
    ) -> Result<(RecheckReport, Stage)> {
        let mut report = RecheckReport::default();
        let mut after = None;
        loop {
            if cycle.stopping() {
                return Ok((report, Stage::Interrupted));
            }
            let page = self.store.live_certificates(after, self.page_size).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let full = page.len() as u32 >= self.page_size;
            let now = honnin_core::time::now();
            let answers: Vec<Answer> = futures::stream::iter(page)
                .map(|live| async move {
                    let Some((root, serial)) =
                        live.sealed.as_ref().and_then(|sealed| self.pepper.open_cert(sealed))
                    else {
                        return Answer::Unreadable;
                    };
                    let Some(cert) = cert_ref(&self.anchors, &root, &serial) else {
                        return Answer::Unreadable;
                    };
                    match source.status(&cert, now).await {
                        Ok(RevocationStatus::Good) => Answer::Good,
                        Ok(RevocationStatus::Unknown) => Answer::Unknown,
                        Ok(RevocationStatus::Revoked { reason: r, time }) => {
                            Answer::Revoked(RevokedCertificate {
                                cert: live.cert,
                                reason: reason(r),
                                revoked_at: time,
                            })
                        }
                        Err(error) => {
                            // The error names the responder, never the certificate.
                            tracing::warn!(target: TARGET, %error, "re-check: the source did not answer");
                            Answer::Error
                        }
                    }
                })
                .buffer_unordered(self.concurrency)
                .collect()
                .await;
            let mut revoked = Vec::new();
            for answer in answers {
                report.checked += 1;
                let label = match answer {
                    Answer::Good => {
                        report.good += 1;
                        "good"
                    }
                    Answer::Unknown => {
                        report.unknown += 1;
                        "unknown"
                    }
                    Answer::Error => {
                        report.errors += 1;
                        "error"
                    }
                    Answer::Unreadable => {
                        report.unreadable += 1;
                        "unreadable"
                    }
                    Answer::Revoked(cert) => {
                        report.revoked += 1;
                        revoked.push(cert);
                        "revoked"
                    }
                };
                self.metrics.checked(label);
            }
            if !revoked.is_empty() {
                let applied =
                    self.apply(&revoked, cycle.links_ok, Origin::Ocsp, &cycle.context).await?;
                report.attestations_revoked += applied.revoked;
                report.attestations_moved += applied.moved;
            }
            cycle.progress(Progress::RecheckPage {
                checked: report.checked,
                revoked: report.revoked,
            });
            if !full {
                break;
            }
        }
        if report.errors > 0 {
            self.metrics.failure("recheck");
        }
        Ok((report, Stage::Finished))
    }
}

/// One certificate's re-check answer.
enum Answer {
    Good,
    Unknown,
    Error,
    Unreadable,
    Revoked(RevokedCertificate),
}
