//! Sending one batch: items the contract cannot take are failed first, then gas estimate (a
//! refusal is decoded: one record failed alone, or the whole batch retried), the lease check,
//! the hash recorded **before** the broadcast, and the outcome handed to
//! [`settle`](super::settle).

use std::time::Instant;

use alloy::eips::Encodable2718;
use alloy::transports::TransportError;
use honnin_core::Lease;
use tokio::sync::watch;

use super::leader::{Flow, held};
use super::plan::{Batch, record};
use super::sender::Lookup;
use super::{ChainWriter, TARGET, now};
use crate::bindings::KycRegistry;

impl ChainWriter {
    /// Sends one batch and settles it.
    pub(super) async fn send(
        &mut self,
        mut batch: Batch,
        lease: &mut dyn Lease,
        stop: &mut watch::Receiver<bool>,
    ) -> Flow {
        // Items whose times do not fit the contract can never be sent.
        if batch.kind.is_attest() {
            let (good, bad): (Vec<_>, Vec<_>) =
                batch.items.into_iter().partition(|i| record(i).is_some());
            batch.items = good;
            self.fail(bad, "timestamps out of the registry's range").await;
        }
        loop {
            if batch.items.is_empty() {
                return Flow::Continue;
            }
            let tx = self.sender.request(batch.calldata());
            let gas = match self.sender.estimate_gas(tx.clone()).await {
                Ok(gas) => gas,
                Err(e) => match self.refused(&mut batch, &e).await {
                    Some(flow) => return flow,
                    None => continue,
                },
            };
            if !held(lease).await {
                let ids = batch.ids();
                if let Err(e) =
                    self.store.mark_retry(&ids, "not sent: lease lost", now(), now()).await
                {
                    tracing::warn!(target: TARGET, error = %e, "could not put back unsent items");
                }
                return Flow::LostLease;
            }
            let envelope = match self.sender.sign(tx, gas).await {
                Ok(envelope) => envelope,
                Err(e) => {
                    tracing::warn!(target: TARGET, error = %e, "could not prepare the transaction");
                    return self.retry_backoff(&batch, "rpc error while preparing").await;
                }
            };
            let hash = *envelope.tx_hash();
            let ids = batch.ids();
            // The hash is recorded before the transaction leaves: a crash from here on leaves
            // `sent` items that the next writer reconciles by this hash.
            if let Err(e) = self.store.mark_sent(&ids, hash, now()).await {
                tracing::warn!(target: TARGET, error = %e, "could not record the transaction; not sending it");
                return self.store_failed(&e);
            }
            self.metrics.sent(batch.kind, batch.items.len());
            tracing::debug!(target: TARGET, tx = %hash, kind = batch.kind.label(), scope = ?batch.kind.scope(), records = batch.items.len(), "sending");
            let started = Instant::now();
            let lookup = self.sender.submit(&envelope.encoded_2718(), hash, stop).await;
            return match lookup {
                Lookup::Mined(receipt) => {
                    self.settle(&batch, hash, *receipt, Some(started), stop).await
                }
                Lookup::Unknown => {
                    let delay = self.delay_for(&batch);
                    self.retry(&batch, "transaction not accepted by the node", delay).await;
                    if delay.is_zero() { Flow::Continue } else { Flow::Backoff(delay) }
                }
                Lookup::TimedOut => {
                    self.retry_backoff(&batch, "no receipt before the timeout").await
                }
                // Left `sent`: the next writer reconciles it.
                Lookup::Stopped => Flow::Stop,
            };
        }
    }

    /// Handles a failed gas estimate: `None` to try again with what is left of the batch, or
    /// the flow to return.
    async fn refused(&mut self, batch: &mut Batch, e: &TransportError) -> Option<Flow> {
        use KycRegistry::KycRegistryErrors as E;
        let Some(payload) = e.as_error_resp() else {
            tracing::warn!(target: TARGET, error = %e, "gas estimate failed");
            return Some(self.retry_backoff(batch, "rpc error while estimating gas").await);
        };
        let (wallet, times, why) = match payload.as_decoded_interface_error::<E>() {
            Some(E::KycRegistryInvalidWallet(x)) => {
                (x.wallet, None, "registry refused the record: zero wallet")
            }
            Some(E::KycRegistryInvalidLevel(x)) => {
                (x.wallet, None, "registry refused the record: level 0")
            }
            Some(E::KycRegistryInvalidExpiry(x)) => (
                x.wallet,
                Some((x.issuedAt, x.expiresAt)),
                "registry refused the record: expired, or expiry not after issue",
            ),
            Some(E::KycRegistryInvalidRevocationReason(_)) => {
                let items = std::mem::take(&mut batch.items);
                self.fail(items, "registry refused the revocation reason").await;
                return Some(Flow::Continue);
            }
            Some(E::KycRegistryInvalidScope(_)) => {
                // Scope 0, which a `Scope` never is: the whole batch can never be sent.
                let items = std::mem::take(&mut batch.items);
                self.fail(items, "registry refused the scope").await;
                return Some(Flow::Continue);
            }
            Some(
                other @ (E::EnforcedPause(_)
                | E::AccessControlUnauthorizedAccount(_)
                | E::ExpectedPause(_)
                | E::AccessControlBadConfirmation(_)
                | E::KycRegistryEmptyBatch(_)
                | E::KycRegistryInvalidAccount(_)
                | E::KycRegistryUnknownRole(_)),
            ) => {
                // Batch-level: paused, missing role (the others cannot come from `attest` or
                // `revoke`, and say the same: an operator must act). Keep retrying.
                tracing::error!(target: TARGET, error = ?other, from = %self.sender.from(), "registry refused the batch");
                return Some(
                    self.retry_backoff(
                        batch,
                        "registry refused the batch (paused or missing role)",
                    )
                    .await,
                );
            }
            None => {
                tracing::warn!(target: TARGET, code = payload.code, message = %payload.message, "gas estimate failed");
                return Some(self.retry_backoff(batch, "gas estimate failed").await);
            }
        };
        let (bad, good): (Vec<_>, Vec<_>) =
            std::mem::take(&mut batch.items).into_iter().partition(|i| {
                i.action.wallet() == wallet
                    && times
                        .is_none_or(|t| record(i).is_some_and(|r| (r.issuedAt, r.expiresAt) == t))
            });
        batch.items = good;
        if bad.is_empty() {
            // Not a record of this batch (cannot happen with an honest node): retry it all later.
            return Some(self.retry_backoff(batch, why).await);
        }
        self.fail(bad, why).await;
        None
    }
}
