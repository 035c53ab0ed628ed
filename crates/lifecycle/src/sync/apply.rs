//! Revoked certificates into the store, by reason: the store revokes their live attestations
//! (or moves them to a renewed card) and queues the on-chain `revoke`; here the audit events,
//! the metrics and the chain writer's wake-up follow.

use honnin_core::{
    AuditContext, AuditEventKind, CertRevocationOutcome, NewAuditEvent, RevocationReason,
    RevokedCertificate,
};
use honnin_jpki::revocation::RevocationReason as CardReason;

use super::RevocationSync;
use crate::Result;

/// Where a revocation was learnt: the `source` label of the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// A CRL entry.
    Crl,
    /// An OCSP answer of the re-check.
    Ocsp,
}

impl Origin {
    const fn label(self) -> &'static str {
        match self {
            Self::Crl => "crl",
            Self::Ocsp => "ocsp",
        }
    }
}

/// What one batch did in the store.
#[derive(Debug, Default)]
pub(super) struct Applied {
    /// Certificates the store knows.
    pub(super) known: u64,
    /// Known certificates newly marked revoked.
    pub(super) newly_revoked: u64,
    /// Attestations revoked.
    pub(super) revoked: u64,
    /// Attestations that followed a renewed certificate.
    pub(super) moved: u64,
    /// `superseded` entries left for the next cycle (the link feed failed).
    pub(super) deferred: u64,
}

impl RevocationSync {
    /// Sends one batch to the store (by reason, so the audit says which), records the audit
    /// events, metrics and wakes the writer. Without the links (`links_ok` false) the
    /// `superseded` entries are deferred.
    pub(super) async fn apply(
        &self,
        batch: &[RevokedCertificate],
        links_ok: bool,
        origin: Origin,
        context: &AuditContext,
    ) -> Result<Applied> {
        let mut applied = Applied::default();
        for reason in [RevocationReason::CertificateRevoked, RevocationReason::Superseded] {
            let part: Vec<RevokedCertificate> =
                batch.iter().filter(|r| r.reason == reason).copied().collect();
            if part.is_empty() {
                continue;
            }
            if reason == RevocationReason::Superseded && !links_ok {
                applied.deferred += part.len() as u64;
                continue;
            }
            let now = honnin_core::time::now();
            let outcome: CertRevocationOutcome = self.store.revoke_certificates(&part, now).await?;
            let mut events: Vec<NewAuditEvent> = outcome
                .revoked
                .iter()
                .map(|r| {
                    NewAuditEvent::new(AuditEventKind::AttestationRevoked, now)
                        .with_code(reason.as_str())
                        .with_attestation(r.attestation_id)
                        .with_context(context.clone())
                })
                .collect();
            events.extend(outcome.moved.iter().map(|id| {
                NewAuditEvent::new(AuditEventKind::RenewalLinked, now)
                    .with_code("attestation_moved")
                    .with_attestation(*id)
                    .with_context(context.clone())
            }));
            if !events.is_empty() {
                self.audit.record(events).await?;
            }
            if !outcome.revoked.is_empty() {
                // The newest revocation date of the batch: a lower bound of each delay (the
                // store does not say which entry revoked which attestation).
                let newest = part.iter().map(|r| r.revoked_at).max().unwrap_or(now);
                self.metrics.queue_delay(
                    origin.label(),
                    (now - newest).as_seconds_f64(),
                    outcome.revoked.len(),
                );
                self.metrics.revoked(origin.label(), outcome.revoked.len() as u64);
                if let Some(wake) = &self.on_queued {
                    wake();
                }
            }
            self.metrics.moved(outcome.moved.len() as u64);
            applied.known += outcome.known;
            applied.newly_revoked += outcome.newly_revoked;
            applied.revoked += outcome.revoked.len() as u64;
            applied.moved += outcome.moved.len() as u64;
        }
        Ok(applied)
    }
}

/// The registry's reason for a card revocation: `superseded` is a renewal (the attestation
/// may follow the new card), everything else (certificateHold included: fail closed) revokes.
pub(super) fn reason(card: CardReason) -> RevocationReason {
    if card.is_renewal() {
        RevocationReason::Superseded
    } else {
        RevocationReason::CertificateRevoked
    }
}
