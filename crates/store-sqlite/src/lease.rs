//! Leases: rows with a holder token and an expiry that `Lease::is_held` extends.

use async_trait::async_trait;
use honnin_core::{Lease, LeaseName, StoreError, store::LeaseStore};
use sqlx::SqlitePool;
use time::{Duration, OffsetDateTime};

use crate::{SqliteStore, error::db, rows::secs};

/// How long a SQLite lease lasts without [`Lease::is_held`] extending it.
pub const LEASE_TTL: Duration = Duration::seconds(30);

#[async_trait]
impl LeaseStore for SqliteStore {
    async fn try_lease(
        &self,
        name: LeaseName,
        now: OffsetDateTime,
    ) -> Result<Option<Box<dyn Lease>>, StoreError> {
        let mut holder = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut holder);
        let lease = SqliteLease { name, holder, pool: self.pool.clone(), released: false };
        if lease.take_or_extend(true, now).await? {
            tracing::info!(target: "honnin::store", lease = %name, "lease acquired");
            Ok(Some(Box::new(lease)))
        } else {
            Ok(None)
        }
    }
}

/// A lease row: held while `expires_at` is in the future and `holder` is ours.
#[derive(Debug)]
pub(crate) struct SqliteLease {
    pub(crate) name: LeaseName,
    pub(crate) holder: [u8; 16],
    pub(crate) pool: SqlitePool,
    pub(crate) released: bool,
}

impl SqliteLease {
    /// Takes the lease (if free or lapsed, when `take`) or extends it (if ours).
    async fn take_or_extend(&self, take: bool, now: OffsetDateTime) -> Result<bool, StoreError> {
        let until = secs(now + LEASE_TTL);
        let now = secs(now);
        let name = self.name.0;
        let holder = self.holder.as_slice();
        let affected = if take {
            sqlx::query!(
                r#"INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
                   ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                                                    expires_at = excluded.expires_at
                   WHERE leases.expires_at <= ?4 OR leases.holder = excluded.holder"#,
                name,
                holder,
                until,
                now,
            )
            .execute(&self.pool)
            .await
        } else {
            sqlx::query!(
                r#"UPDATE leases SET expires_at = ?3
                   WHERE name = ?1 AND holder = ?2 AND expires_at > ?4"#,
                name,
                holder,
                until,
                now,
            )
            .execute(&self.pool)
            .await
        }
        .map_err(db)?
        .rows_affected();
        Ok(affected == 1)
    }

    async fn delete(pool: &SqlitePool, name: &str, holder: &[u8]) -> Result<(), StoreError> {
        sqlx::query!(r#"DELETE FROM leases WHERE name = ?1 AND holder = ?2"#, name, holder)
            .execute(pool)
            .await
            .map_err(db)?;
        Ok(())
    }
}

#[async_trait]
impl Lease for SqliteLease {
    fn name(&self) -> LeaseName {
        self.name
    }

    async fn is_held(&mut self, now: OffsetDateTime) -> Result<bool, StoreError> {
        if self.released {
            return Ok(false);
        }
        self.take_or_extend(false, now).await
    }

    async fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        self.released = true;
        Self::delete(&self.pool, self.name.0, &self.holder).await?;
        tracing::info!(target: "honnin::store", lease = %self.name, "lease released");
        Ok(())
    }
}

impl Drop for SqliteLease {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        // Free the lease now rather than after its TTL, when a runtime is there to do it.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let (pool, name, holder) = (self.pool.clone(), self.name.0, self.holder);
            handle.spawn(async move {
                if let Err(e) = Self::delete(&pool, name, &holder).await {
                    tracing::warn!(target: "honnin::store", lease = name, error = %e, "could not free lease");
                }
            });
        }
    }
}
