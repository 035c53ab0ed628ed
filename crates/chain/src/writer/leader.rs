//! The leader loop: take the lease, keep it, claim items (lingering to fill a batch) and hand
//! the planned batches to [`send`](super::send); put back what was claimed and not sent.

use std::time::{Duration, Instant};

use honnin_core::{Lease, LeaseName, OutboxId, OutboxItem, StoreError};
use tokio::sync::watch;

use super::plan::plan;
use super::{ChainWriter, TARGET, now, pause, stopping, to_offset};
use crate::Result;

/// What a step of the loop asks the loop to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    /// Go on.
    Continue,
    /// Something transient failed: wait this long, reconcile, go on.
    Backoff(Duration),
    /// The lease is gone.
    LostLease,
    /// Asked to stop.
    Stop,
}

impl ChainWriter {
    /// Runs the writer until `stop` turns `true` (or its sender is dropped). Errors only when
    /// the store cannot even be asked for the lease at start; later failures are retried.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) -> Result<()> {
        tracing::info!(target: TARGET, registry = %self.config.registry, from = %self.sender.from(), "chain writer started");
        loop {
            let Some(mut lease) = self.acquire(&mut stop).await else { break };
            self.metrics.leader(true);
            tracing::info!(target: TARGET, "chain writer holds the lease");
            let flow = self.lead(lease.as_mut(), &mut stop).await;
            self.metrics.leader(false);
            if let Err(e) = lease.release().await {
                tracing::warn!(target: TARGET, error = %e, "could not release the lease");
            }
            if flow == Flow::Stop {
                break;
            }
            tracing::warn!(target: TARGET, "chain writer lost the lease");
        }
        tracing::info!(target: TARGET, "chain writer stopped");
        Ok(())
    }

    /// Waits for the lease; `None` when asked to stop first.
    async fn acquire(&self, stop: &mut watch::Receiver<bool>) -> Option<Box<dyn Lease>> {
        loop {
            if stopping(stop) {
                return None;
            }
            match self.store.try_lease(LeaseName::CHAIN_WRITER, now()).await {
                Ok(Some(lease)) => return Some(lease),
                Ok(None) => tracing::debug!(target: TARGET, "another instance holds the lease"),
                Err(e) => tracing::warn!(target: TARGET, error = %e, "could not ask for the lease"),
            }
            if !pause(stop, self.config.lease_retry).await {
                return None;
            }
        }
    }

    /// Works while holding the lease.
    async fn lead(&mut self, lease: &mut dyn Lease, stop: &mut watch::Receiver<bool>) -> Flow {
        self.sender.forget_nonce();
        let mut reconcile = true;
        loop {
            if stopping(stop) {
                return Flow::Stop;
            }
            if !held(lease).await {
                return Flow::LostLease;
            }
            let flow =
                if reconcile { self.reconcile(stop).await } else { self.step(lease, stop).await };
            reconcile = false;
            match flow {
                Flow::Continue => {}
                Flow::Backoff(delay) => {
                    tracing::debug!(target: TARGET, ?delay, "backing off");
                    if !pause(stop, delay).await {
                        return Flow::Stop;
                    }
                    reconcile = true;
                }
                Flow::LostLease | Flow::Stop => return flow,
            }
        }
    }

    /// Claims a batch and sends it.
    async fn step(&mut self, lease: &mut dyn Lease, stop: &mut watch::Receiver<bool>) -> Flow {
        let items = match self.collect(stop).await {
            Ok(items) => items,
            Err(e) => return self.store_failed(&e),
        };
        if items.is_empty() {
            let idle = self.config.idle_poll;
            tokio::select! {
                () = tokio::time::sleep(idle) => {}
                () = self.waker.0.notified() => {}
                _ = stop.changed() => {}
            }
            return Flow::Continue;
        }
        let mut batches = plan(items).into_iter().flatten();
        while let Some(batch) = batches.next() {
            let flow = self.send(batch, lease, stop).await;
            if flow != Flow::Continue {
                // Put back what was claimed and not sent, in queue order, due now.
                let rest: Vec<OutboxItem> = batches.flat_map(|b| b.items).collect();
                if !rest.is_empty() {
                    let ids: Vec<OutboxId> = rest.iter().map(|i| i.id).collect();
                    let retry_at = match flow {
                        Flow::Backoff(delay) => now() + to_offset(delay),
                        Flow::Continue | Flow::LostLease | Flow::Stop => now(),
                    };
                    if let Err(e) = self
                        .store
                        .mark_retry(&ids, "not sent: writer interrupted", retry_at, now())
                        .await
                    {
                        tracing::warn!(target: TARGET, error = %e, "could not put back unsent items; they return when their claim runs out");
                    }
                }
                return flow;
            }
        }
        Flow::Continue
    }

    /// Claims up to `max_batch` items, lingering to fill the batch.
    async fn collect(
        &self,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let max = self.config.max_batch.max(1);
        let lease = to_offset(self.config.claim_lease);
        let mut items = self.store.claim_outbox(max, lease, now()).await?;
        if items.is_empty() || self.config.linger.is_zero() {
            return Ok(items);
        }
        let deadline = Instant::now() + self.config.linger;
        while (items.len() as u32) < max && Instant::now() < deadline && !stopping(stop) {
            let wait =
                self.config.idle_poll.min(deadline.saturating_duration_since(Instant::now()));
            // Wake-ups are not waited for here: under load every queued request wakes the
            // writer, and claiming after each would cost a query per request. The linger is
            // short; a wake-up left over is taken at the next idle wait.
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            let more = self.store.claim_outbox(max - items.len() as u32, lease, now()).await?;
            items.extend(more);
        }
        Ok(items)
    }
}

/// Whether the lease is still held; a failure to ask counts as lost.
pub(super) async fn held(lease: &mut dyn Lease) -> bool {
    match lease.is_held(now()).await {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(target: TARGET, error = %e, "could not check the lease");
            false
        }
    }
}
