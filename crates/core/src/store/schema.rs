//! The schema and the connection: what `honnin migrate` and `/ready` need.

use async_trait::async_trait;

use crate::StoreError;

/// Migrations and a liveness check.
#[async_trait]
pub trait SchemaStore: Send + Sync + std::fmt::Debug {
    /// Applies pending migrations. Safe to run from several instances at once.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Checks that the database answers (for `/ready`).
    async fn ping(&self) -> Result<(), StoreError>;
}
