//! Revoking one wallet's attestation, at the holder's or the operator's request.

use alloy_primitives::Address;
use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{AttestationId, RevocationReason, Scope, StoreError};

/// Wallet revocations (the API's revocation resource).
#[async_trait]
pub trait RevocationStore: Send + Sync + std::fmt::Debug {
    /// Revokes the wallet's live (unexpired) attestation in `scope` (`None`: its global record)
    /// for `reason` and queues its `revoke` (or cancels its unsent `attest`). `None` when the
    /// wallet has no live attestation there.
    async fn revoke_wallet(
        &self,
        wallet: Address,
        scope: Option<&Scope>,
        reason: RevocationReason,
        now: OffsetDateTime,
    ) -> Result<Option<AttestationId>, StoreError>;
}
