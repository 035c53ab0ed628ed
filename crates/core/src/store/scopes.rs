//! Registered scopes: the dApps whose records honnin keeps apart.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{ScopeName, StoreError};

/// The registered scopes (the API's challenges and admin resource, the life cycle).
///
/// A scope is never deleted: its records must keep following the card (revocation, expiry,
/// renewal, erasure), and the life cycle reaches them only by computing the person's hashes in
/// every scope this store lists.
#[async_trait]
pub trait ScopeStore: Send + Sync + std::fmt::Debug {
    /// Registers `name` (its id is derived from it). `true` when it is new, `false` when it
    /// was registered already (nothing changes).
    async fn register_scope(
        &self,
        name: &ScopeName,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Every registered scope, in name order.
    async fn scopes(&self) -> Result<Vec<ScopeName>, StoreError>;
}
