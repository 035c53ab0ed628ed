//! The expiry sweep: live attestations whose time is up become `expired`.

use std::{sync::Arc, time::Duration};

use honnin_core::{AuditEventKind, ExpiryStore, NewAuditEvent, audit::AuditLog};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::{LifecycleMetrics, Result};

const TARGET: &str = "honnin::lifecycle::expiry";

/// Marks live attestations expired once their `expires_at` (the earlier of the certificate's
/// notAfter and the policy's maximum age, fixed when they were recorded) has passed, and records
/// an `attestation_expired` audit event for each.
///
/// No chain write is needed: the registry derives expiry from the same `expires_at`, so the API
/// and the chain agree; an `attest` still unsent is cancelled by the store.
#[derive(Debug, Clone)]
pub struct ExpirySweep {
    store: Arc<dyn ExpiryStore>,
    audit: AuditLog,
    batch: u32,
    metrics: LifecycleMetrics,
}

impl ExpirySweep {
    /// Default of [`Self::with_batch`]: 1,000 attestations per store call.
    pub const DEFAULT_BATCH: u32 = 1_000;

    /// A sweep over `store`, auditing through `audit`.
    pub fn new(store: Arc<dyn ExpiryStore>, audit: AuditLog) -> Self {
        Self { store, audit, batch: Self::DEFAULT_BATCH, metrics: LifecycleMetrics::default() }
    }

    /// Records into `metrics`.
    pub fn with_metrics(mut self, metrics: LifecycleMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Attestations per store call (default [`Self::DEFAULT_BATCH`]).
    pub fn with_batch(mut self, batch: u32) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Expires every live attestation due at `now`, in batches; returns how many.
    pub async fn sweep(&self, now: OffsetDateTime) -> Result<u64> {
        let mut total = 0;
        loop {
            let expired = self.store.expire_attestations(now, self.batch).await?;
            if expired.is_empty() {
                break;
            }
            let events = expired
                .iter()
                .map(|e| {
                    NewAuditEvent::new(AuditEventKind::AttestationExpired, now)
                        .with_code("expired")
                        .with_attestation(e.attestation_id)
                })
                .collect();
            self.audit.record(events).await?;
            self.metrics.expired(expired.len() as u64);
            total += expired.len() as u64;
            if (expired.len() as u64) < u64::from(self.batch) {
                break;
            }
        }
        if total > 0 {
            tracing::info!(target: TARGET, expired = total, "attestations expired");
        }
        Ok(total)
    }

    /// Sweeps every `interval` (a minute in `honnin serve`) until `stop` turns true. Failures
    /// are logged; the next sweep tries again. Several instances may sweep at once: an
    /// attestation is expired by exactly one of them (the store's update decides).
    pub async fn run(self, interval: Duration, mut stop: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                () = crate::stopped(&mut stop) => return,
            }
            if let Err(error) = self.sweep(honnin_core::time::now()).await {
                self.metrics.failure("expiry");
                tracing::warn!(target: TARGET, %error, "expiry sweep failed");
            }
        }
    }
}
