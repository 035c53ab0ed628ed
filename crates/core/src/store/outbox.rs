//! The chain outbox as the chain writer works it (see [`crate::outbox`] for its states).

use alloy_primitives::B256;
use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::LeaseStore;
use crate::{OutboxId, OutboxItem, StoreError};

/// What the chain writer needs: the outbox, and its [lease](LeaseStore) (one writer sends at a
/// time).
#[async_trait]
pub trait OutboxStore: LeaseStore {
    /// Claims up to `limit` items in queue order for `lease` (pending items due at `now`, and
    /// claimed items whose lease ran out). On Postgres concurrent claimers skip each other's
    /// rows (`FOR UPDATE SKIP LOCKED`); no item is handed to two claimers.
    ///
    /// Per-wallet order: an item is not handed out while an earlier item for the same wallet
    /// is still open (pending, claimed or sent), so a `revoke` never overtakes the `attest`
    /// it undoes, even in another writer's batch. The order holds across the wallet's scopes
    /// too: only the items of one (wallet, scope) record need it, but ordering the others as
    /// well only delays an item behind another scope's open one.
    async fn claim_outbox(
        &self,
        limit: u32,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxItem>, StoreError>;

    /// Items sent but not confirmed, in queue order: what a restarted writer reconciles.
    async fn outbox_in_flight(&self) -> Result<Vec<OutboxItem>, StoreError>;

    /// Records that claimed items were sent in transaction `tx_hash`; their attestations get
    /// the hash too.
    async fn mark_sent(
        &self,
        ids: &[OutboxId],
        tx_hash: B256,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Records that claimed or sent items were included in `block_number` by transaction
    /// `tx_hash`: `attest` items make their attestation active (unless it was revoked or
    /// expired meanwhile).
    async fn mark_confirmed(
        &self,
        ids: &[OutboxId],
        tx_hash: B256,
        block_number: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Puts claimed or sent items back in the queue, due at `retry_at`, noting `error` (a short
    /// description with nothing personal in it). Clears the transaction hash.
    async fn mark_retry(
        &self,
        ids: &[OutboxId],
        error: &str,
        retry_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Gives up on items (an operator must look), noting `error`.
    async fn mark_failed(
        &self,
        ids: &[OutboxId],
        error: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
}
