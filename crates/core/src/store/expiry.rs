//! Expiring lapsed attestations (the expiry sweep).

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{AttestationWallet, StoreError};

/// What the expiry sweep needs.
#[async_trait]
pub trait ExpiryStore: Send + Sync + std::fmt::Debug {
    /// Marks up to `limit` live attestations whose `expires_at` is not after `now` expired,
    /// cancelling their unsent `attest` items (the chain derives expiry itself). Returns them.
    async fn expire_attestations(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<AttestationWallet>, StoreError>;
}
