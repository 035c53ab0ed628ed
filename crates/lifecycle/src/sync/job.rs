//! The job loop: a cycle every interval under the [`SYNC_LEASE`], the re-check on its own
//! slower schedule; failures logged and counted, the next cycle tries again.

use std::time::Duration;

use honnin_core::LeaseName;
use tokio::sync::watch;

use super::{Progress, RevocationSync, TARGET};

/// The lease a sync loop holds while it runs a cycle: one instance at a time does the work
/// (every step is idempotent, so a second one would only repeat it).
pub const SYNC_LEASE: LeaseName = LeaseName("revocation-sync");

impl RevocationSync {
    /// Runs a cycle every `interval` (the re-check every `recheck_every`, on the first cycle
    /// and then whenever that much time has passed) until `stop` turns true (a running cycle
    /// stops at its next batch boundary). Only the instance
    /// holding the [`SYNC_LEASE`] works; the others skip the cycle. Failures are logged and
    /// counted, and the next cycle tries again.
    pub async fn run(
        self,
        interval: Duration,
        recheck_every: Duration,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_recheck: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                () = crate::stopped(&mut stop) => return,
            }
            let lease = match self.store.try_lease(SYNC_LEASE, honnin_core::time::now()).await {
                Ok(Some(lease)) => lease,
                Ok(None) => {
                    tracing::debug!(target: TARGET, "another instance runs the revocation sync");
                    continue;
                }
                Err(error) => {
                    tracing::warn!(target: TARGET, %error, "cannot take the revocation sync lease");
                    self.metrics.failure("store");
                    continue;
                }
            };
            let recheck = last_recheck.is_none_or(|t| t.elapsed() >= recheck_every);
            let started = std::time::Instant::now();
            let mut log = |p: Progress| tracing::debug!(target: TARGET, "{p}");
            // Not cancelled on stop: the cycle stops itself between batches, so every batch the
            // store applied is audited and counted too.
            let cycle = self.cycle_until(recheck, &mut log, Some(&stop)).await;
            if cycle.as_ref().is_ok_and(|report| report.interrupted) {
                let _ = lease.release().await;
                return;
            }
            match cycle {
                Ok(report) => {
                    if recheck && self.recheck.is_some() {
                        last_recheck = Some(tokio::time::Instant::now());
                    }
                    let elapsed_ms = started.elapsed().as_millis() as u64;
                    if report.is_success() {
                        tracing::info!(target: TARGET, elapsed_ms, "revocation sync: {report}");
                    } else {
                        tracing::warn!(target: TARGET, elapsed_ms, failures = ?report.failures, "revocation sync: {report}");
                    }
                }
                Err(error) => {
                    self.metrics.failure("store");
                    tracing::warn!(target: TARGET, %error, "revocation sync cycle failed");
                }
            }
            if let Err(error) = lease.release().await {
                tracing::debug!(target: TARGET, %error, "releasing the revocation sync lease");
            }
        }
    }
}
