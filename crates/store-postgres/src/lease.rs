//! Leases: session advisory locks on a dedicated connection outside the pool.

use async_trait::async_trait;
use honnin_core::{Lease, LeaseName, StoreError, store::LeaseStore};
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use crate::{PgStore, error::db};

/// The advisory-lock key for a lease name: the first 8 bytes of SHA-256("honnin lease " ‖ name).
pub(crate) fn lease_key(name: LeaseName) -> i64 {
    let digest = Sha256::digest(format!("honnin lease {name}").as_bytes());
    let mut key = [0u8; 8];
    key.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(key)
}

#[async_trait]
impl LeaseStore for PgStore {
    async fn try_lease(
        &self,
        name: LeaseName,
        _now: OffsetDateTime,
    ) -> Result<Option<Box<dyn Lease>>, StoreError> {
        // A dedicated connection: the lock lives as long as this session, never in the pool.
        let mut conn = PgConnection::connect_with(&self.connect_options).await.map_err(db)?;
        let key = lease_key(name);
        let got = sqlx::query_scalar!(r#"SELECT pg_try_advisory_lock($1) AS "got!""#, key)
            .fetch_one(&mut conn)
            .await
            .map_err(db)?;
        if got {
            tracing::info!(target: "honnin::store", lease = %name, "lease acquired");
            Ok(Some(Box::new(PgLease { name, key, conn: Some(conn) })))
        } else {
            conn.close().await.map_err(db)?;
            Ok(None)
        }
    }
}

/// A Postgres session advisory lock on a dedicated connection.
#[derive(Debug)]
pub(crate) struct PgLease {
    pub(crate) name: LeaseName,
    pub(crate) key: i64,
    pub(crate) conn: Option<PgConnection>,
}

#[async_trait]
impl Lease for PgLease {
    fn name(&self) -> LeaseName {
        self.name
    }

    async fn is_held(&mut self, _now: OffsetDateTime) -> Result<bool, StoreError> {
        let Some(conn) = self.conn.as_mut() else { return Ok(false) };
        // The lock lives exactly as long as the session: a live session still holds it.
        let held = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM pg_locks
                              WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                                AND ((classid::bigint << 32) | objid::bigint) = $1) AS "held!""#,
            self.key,
        )
        .fetch_one(conn)
        .await;
        match held {
            Ok(held) => Ok(held),
            Err(e) => {
                tracing::warn!(target: "honnin::store", lease = %self.name, error = %e, "lease connection lost");
                self.conn = None;
                Ok(false)
            }
        }
    }

    async fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        if let Some(mut conn) = self.conn.take() {
            sqlx::query_scalar!(r#"SELECT pg_advisory_unlock($1) AS "released!""#, self.key)
                .fetch_one(&mut conn)
                .await
                .map_err(db)?;
            conn.close().await.map_err(db)?;
            tracing::info!(target: "honnin::store", lease = %self.name, "lease released");
        }
        Ok(())
    }
}
