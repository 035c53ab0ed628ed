//! The schema: the embedded migrations and the liveness check.

use async_trait::async_trait;
use honnin_core::{StoreError, store::SchemaStore};

use crate::{SqliteStore, error::db};

/// The migrations, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[async_trait]
impl SchemaStore for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(|e| StoreError::Migrate(Box::new(e)))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query_scalar!(r#"SELECT 1 AS "one!: i64""#)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }
}
