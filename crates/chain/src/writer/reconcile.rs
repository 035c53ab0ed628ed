//! Reconciling: settling the items a previous writer (or this one, before an error) left
//! `sent`, by asking the node about their transaction hash.

use std::time::Duration;

use alloy::primitives::B256;
use honnin_core::OutboxItem;
use tokio::sync::watch;

use super::leader::Flow;
use super::plan::Batch;
use super::sender::Lookup;
use super::{ChainWriter, TARGET};

impl ChainWriter {
    /// Settles the items left `sent`: mined → confirmed, unknown to the node → retried at
    /// once, still pending at the timeout → back off and ask again.
    pub(super) async fn reconcile(&mut self, stop: &mut watch::Receiver<bool>) -> Flow {
        let in_flight = match self.store.outbox_in_flight().await {
            Ok(items) => items,
            Err(e) => return self.store_failed(&e),
        };
        if in_flight.is_empty() {
            return Flow::Continue;
        }
        tracing::info!(target: TARGET, items = in_flight.len(), "reconciling sent items with the chain");
        let mut by_hash: Vec<(Option<B256>, Vec<OutboxItem>)> = Vec::new();
        for item in in_flight {
            match by_hash.iter_mut().find(|(h, _)| *h == item.tx_hash) {
                Some((_, items)) => items.push(item),
                None => by_hash.push((item.tx_hash, vec![item])),
            }
        }
        for (hash, items) in by_hash {
            // One hash is one transaction, so its items share one kind (and reason); items
            // without a hash are only put back.
            let Some(batch) = Batch::of_sent(items) else { continue };
            let Some(hash) = hash else {
                self.retry(&batch, "sent without a transaction hash", Duration::ZERO).await;
                continue;
            };
            let flow = match self.sender.await_receipt(hash, stop).await {
                Lookup::Mined(receipt) => self.settle(&batch, hash, *receipt, None, stop).await,
                Lookup::Unknown => {
                    tracing::info!(target: TARGET, tx = %hash, "sent transaction unknown to the node: resending its items");
                    self.retry(&batch, "transaction unknown to the node", Duration::ZERO).await;
                    Flow::Continue
                }
                Lookup::TimedOut => {
                    let delay = self.config.backoff(1);
                    return Flow::Backoff(delay);
                }
                Lookup::Stopped => return Flow::Stop,
            };
            if flow != Flow::Continue {
                return flow;
            }
        }
        Flow::Continue
    }
}
