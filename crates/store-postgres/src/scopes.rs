//! The registered scopes.

use async_trait::async_trait;
use honnin_core::{ScopeName, StoreError, store::ScopeStore, stored::corrupt};
use time::OffsetDateTime;

use crate::{PgStore, error::db};

#[async_trait]
impl ScopeStore for PgStore {
    async fn register_scope(
        &self,
        name: &ScopeName,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let id = name.id();
        let inserted = sqlx::query!(
            r#"INSERT INTO scopes (id, name, created_at) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING"#,
            id.as_bytes().as_slice(),
            name.as_str(),
            now,
        )
        .execute(&self.pool)
        .await
        .map_err(db)?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn scopes(&self) -> Result<Vec<ScopeName>, StoreError> {
        // Byte order (the "C" collation), as SQLite sorts: the same list on both backends
        // whatever the database's locale.
        let names = sqlx::query_scalar!(r#"SELECT name FROM scopes ORDER BY name COLLATE "C""#)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        names.into_iter().map(|n| ScopeName::new(n).map_err(|_| corrupt("scope name"))).collect()
    }
}
