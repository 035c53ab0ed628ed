//! The registered scopes.

use async_trait::async_trait;
use honnin_core::{ScopeName, StoreError, store::ScopeStore, stored::corrupt};
use time::OffsetDateTime;

use crate::{SqliteStore, error::db, rows::secs};

#[async_trait]
impl ScopeStore for SqliteStore {
    async fn register_scope(
        &self,
        name: &ScopeName,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let id = name.id();
        let id = id.as_bytes().as_slice();
        let name = name.as_str();
        let now = secs(now);
        let turn = self.write_turn().await;
        let inserted = sqlx::query!(
            r#"INSERT INTO scopes (id, name, created_at) VALUES (?1, ?2, ?3)
               ON CONFLICT DO NOTHING"#,
            id,
            name,
            now,
        )
        .execute(&self.pool)
        .await
        .map_err(db)?
        .rows_affected();
        drop(turn);
        Ok(inserted == 1)
    }

    async fn scopes(&self) -> Result<Vec<ScopeName>, StoreError> {
        // SQLite compares text bytewise (BINARY), as Postgres's "C" collation does.
        let names = sqlx::query_scalar!(r#"SELECT name FROM scopes ORDER BY name"#)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        names.into_iter().map(|n| ScopeName::new(n).map_err(|_| corrupt("scope name"))).collect()
    }
}
