//! What lands: a mined transaction's confirmations, then the outbox marks (confirmed, back
//! for a retry, failed), the metrics and the audit events of what was confirmed.

use std::time::{Duration, Instant};

use alloy::primitives::B256;
use alloy::rpc::types::TransactionReceipt;
use honnin_core::{
    AuditContext, AuditEventKind, NewAuditEvent, OutboxAction, OutboxId, OutboxItem, StoreError,
};
use tokio::sync::watch;

use super::leader::Flow;
use super::plan::{Batch, BatchKind};
use super::{ChainWriter, TARGET, now, to_offset};
use crate::metrics::Outcome;

impl ChainWriter {
    /// A mined transaction: waits for the confirmations and records the outcome.
    pub(super) async fn settle(
        &mut self,
        batch: &Batch,
        hash: B256,
        mut receipt: TransactionReceipt,
        started: Option<Instant>,
        stop: &mut watch::Receiver<bool>,
    ) -> Flow {
        if !receipt.status() {
            tracing::error!(target: TARGET, tx = %hash, "transaction reverted");
            return self.retry_backoff(batch, "transaction reverted").await;
        }
        if self.config.confirmations > 1 {
            let Some(block) = receipt.block_number else {
                return self.retry_backoff(batch, "receipt without a block").await;
            };
            let target = block + self.config.confirmations - 1;
            if !self.sender.await_block(target, stop).await {
                return Flow::Stop;
            }
            // A reorg may have moved or dropped the transaction.
            match self.sender.receipt(hash).await {
                Ok(Some(again)) if again.status() => receipt = again,
                Ok(_) => {
                    self.retry(batch, "transaction dropped by a reorg", Duration::ZERO).await;
                    return Flow::Continue;
                }
                Err(e) => {
                    tracing::warn!(target: TARGET, error = %e, "receipt lookup failed");
                    return Flow::Backoff(self.config.backoff(1));
                }
            }
        }
        let Some(block) = receipt.block_number else {
            return self.retry_backoff(batch, "receipt without a block").await;
        };
        let ids = batch.ids();
        if let Err(e) = self.store.mark_confirmed(&ids, hash, block, now()).await {
            tracing::warn!(target: TARGET, tx = %hash, error = %e, "could not record the confirmation; will reconcile");
            return self.store_failed(&e);
        }
        let secs = started.map(|s| s.elapsed().as_secs_f64()).unwrap_or_default();
        self.metrics.confirmed(batch.kind, batch.items.len(), receipt.gas_used, secs);
        let now = now();
        for item in &batch.items {
            self.metrics.queued_to_confirmed(
                BatchKind::of(&item.action),
                (now - item.created_at).as_seconds_f64().max(0.0),
            );
        }
        tracing::info!(target: TARGET, tx = %hash, block, kind = batch.kind.label(), scope = ?batch.kind.scope(), records = batch.items.len(), gas = receipt.gas_used, "confirmed");
        self.audit_confirmed(batch, hash, now).await;
        Flow::Continue
    }

    /// Audits a confirmed batch. The confirmation is recorded already: a failure here is
    /// logged, not retried (the transaction hash in the outbox keeps the fact).
    async fn audit_confirmed(&self, batch: &Batch, hash: B256, at: time::OffsetDateTime) {
        let Some(audit) = &self.audit else { return };
        let context =
            AuditContext { request_id: Some(format!("tx:{hash}")), ..AuditContext::default() };
        let events = batch
            .items
            .iter()
            .map(|item| {
                let event = match &item.action {
                    OutboxAction::Attest { attestation, .. } => {
                        NewAuditEvent::new(AuditEventKind::AttestationConfirmed, at)
                            .with_attestation(*attestation)
                    }
                    OutboxAction::Revoke { attestation, reason, .. } => {
                        NewAuditEvent::new(AuditEventKind::RevocationConfirmed, at)
                            .with_attestation(*attestation)
                            .with_code(reason.as_str())
                    }
                };
                event.with_context(context.clone())
            })
            .collect();
        if let Err(e) = audit.record(events).await {
            tracing::warn!(target: TARGET, tx = %hash, error = %e, "could not audit confirmed items");
        }
    }

    /// Puts the batch back due after `delay`.
    pub(super) async fn retry(&self, batch: &Batch, why: &str, delay: Duration) {
        let ids = batch.ids();
        match self.store.mark_retry(&ids, why, now() + to_offset(delay), now()).await {
            Ok(()) => self.metrics.item_outcome(batch.kind, Outcome::Retried, ids.len() as u64),
            Err(e) => {
                tracing::warn!(target: TARGET, error = %e, "could not put items back; they return when their claim runs out")
            }
        }
    }

    /// Puts the batch back with the backoff its attempts call for, and backs the writer off.
    pub(super) async fn retry_backoff(&self, batch: &Batch, why: &str) -> Flow {
        let delay = self.config.backoff(batch.items.iter().map(|i| i.attempts).max().unwrap_or(1));
        self.retry(batch, why, delay).await;
        Flow::Backoff(delay)
    }

    /// No delay for a first attempt (a fresh nonce usually fixes it); backoff afterwards.
    pub(super) fn delay_for(&self, batch: &Batch) -> Duration {
        let attempts = batch.items.iter().map(|i| i.attempts).max().unwrap_or(1);
        if attempts <= 1 { Duration::ZERO } else { self.config.backoff(attempts - 1) }
    }

    /// Gives up on `items` for good (`mark_failed` with `why`).
    pub(super) async fn fail(&self, items: Vec<OutboxItem>, why: &str) {
        if items.is_empty() {
            return;
        }
        let ids: Vec<OutboxId> = items.iter().map(|i| i.id).collect();
        tracing::error!(target: TARGET, ?ids, why, "giving up on outbox items");
        match self.store.mark_failed(&ids, why, now()).await {
            Ok(()) => {
                for item in &items {
                    self.metrics.item_outcome(BatchKind::of(&item.action), Outcome::Failed, 1);
                }
            }
            Err(e) => tracing::warn!(target: TARGET, error = %e, "could not mark items failed"),
        }
    }

    /// A store call failed: log it and back off (the next turn reconciles).
    pub(super) fn store_failed(&self, e: &StoreError) -> Flow {
        tracing::warn!(target: TARGET, error = %e, "store failed");
        Flow::Backoff(self.config.backoff(1))
    }
}
