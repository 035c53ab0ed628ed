//! Webhook endpoints and the delivery outbox (queued by the triggers of migration 0003, which
//! migration 0004 gave the scope).
//!
//! Runtime-bound queries (`sqlx::query`), not the compile-checked macros: they need no
//! offline data for the new tables.

use async_trait::async_trait;
use honnin_core::{
    StoreError,
    store::WebhookStore,
    webhook::{
        AttemptOutcome, DeliveryQuery, DueDelivery, EndpointSource, NewWebhookEndpoint,
        WebhookDelivery, WebhookEndpoint, WebhookEndpointId, WebhookSecret,
        stored::{DeliveryRow, EndpointRow},
    },
};
use sqlx::{Row, sqlite::SqliteRow};
use time::OffsetDateTime;

use crate::{
    SqliteStore,
    error::db,
    rows::{secs, time_of},
};

/// The delivery columns [`delivery_row`] reads (a macro, so queries stay static strings).
macro_rules! delivery_columns {
    () => {
        "d.id, d.message_id, d.endpoint_id, d.event, d.attestation_id, d.wallet, d.scope, \
         d.status, d.reason, d.issued_at, d.expires_at, d.occurred_at, d.state, d.attempts, \
         d.next_attempt_at, d.last_error, d.last_status, d.delivered_at, d.created_at"
    };
}

fn delivery_row(row: &SqliteRow) -> Result<DeliveryRow, StoreError> {
    let opt_time = |v: Option<i64>| v.map(time_of).transpose();
    Ok(DeliveryRow {
        id: row.try_get("id").map_err(db)?,
        message_id: row.try_get("message_id").map_err(db)?,
        endpoint_id: row.try_get("endpoint_id").map_err(db)?,
        event: row.try_get("event").map_err(db)?,
        attestation_id: row.try_get("attestation_id").map_err(db)?,
        wallet: row.try_get("wallet").map_err(db)?,
        scope: row.try_get("scope").map_err(db)?,
        status: row.try_get("status").map_err(db)?,
        reason: row.try_get("reason").map_err(db)?,
        issued_at: time_of(row.try_get("issued_at").map_err(db)?)?,
        expires_at: time_of(row.try_get("expires_at").map_err(db)?)?,
        occurred_at: time_of(row.try_get("occurred_at").map_err(db)?)?,
        state: row.try_get("state").map_err(db)?,
        attempts: row.try_get("attempts").map_err(db)?,
        next_attempt_at: time_of(row.try_get("next_attempt_at").map_err(db)?)?,
        last_error: row.try_get("last_error").map_err(db)?,
        last_status: row.try_get("last_status").map_err(db)?,
        delivered_at: opt_time(row.try_get("delivered_at").map_err(db)?)?,
        created_at: time_of(row.try_get("created_at").map_err(db)?)?,
    })
}

fn endpoint(row: &SqliteRow) -> Result<WebhookEndpoint, StoreError> {
    EndpointRow {
        id: row.try_get("id").map_err(db)?,
        url: row.try_get("url").map_err(db)?,
        events: row.try_get("events").map_err(db)?,
        secret: row.try_get("secret").map_err(db)?,
        source: row.try_get("source").map_err(db)?,
        created_at: time_of(row.try_get("created_at").map_err(db)?)?,
    }
    .into_endpoint()
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_webhook_endpoint(
        &self,
        endpoint: &NewWebhookEndpoint,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let now = secs(now);
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, url, events, secret, source, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        )
        .bind(endpoint.id.as_bytes().as_slice())
        .bind(endpoint.url.as_str())
        .bind(i64::from(endpoint.events.bits()))
        .bind(endpoint.secret.expose())
        .bind(endpoint.source.as_str())
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, url, events, secret, source, created_at FROM webhook_endpoints
             ORDER BY rowid",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(endpoint).collect()
    }

    async fn delete_webhook_endpoint(&self, id: &WebhookEndpointId) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let deleted = sqlx::query("DELETE FROM webhook_endpoints WHERE id = ?1")
            .bind(id.as_bytes().as_slice())
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected();
        Ok(deleted > 0)
    }

    async fn rotate_webhook_secret(
        &self,
        id: &WebhookEndpointId,
        secret: &WebhookSecret,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let updated =
            sqlx::query("UPDATE webhook_endpoints SET secret = ?2, updated_at = ?3 WHERE id = ?1")
                .bind(id.as_bytes().as_slice())
                .bind(secret.expose())
                .bind(secs(now))
                .execute(&self.pool)
                .await
                .map_err(db)?
                .rows_affected();
        Ok(updated > 0)
    }

    async fn sync_configured_webhooks(
        &self,
        endpoints: &[NewWebhookEndpoint],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let now = secs(now);
        let keep = serde_json::Value::from(
            endpoints.iter().map(|e| hex::encode(e.id.as_bytes())).collect::<Vec<_>>(),
        )
        .to_string();
        let turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM webhook_endpoints
             WHERE source = 'config' AND lower(hex(id)) NOT IN (SELECT value FROM json_each(?1))",
        )
        .bind(&keep)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        for endpoint in endpoints {
            sqlx::query(
                "INSERT INTO webhook_endpoints
                   (id, url, events, secret, source, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                 ON CONFLICT (id) DO UPDATE SET url = excluded.url, events = excluded.events,
                   secret = excluded.secret, source = excluded.source,
                   updated_at = excluded.updated_at",
            )
            .bind(endpoint.id.as_bytes().as_slice())
            .bind(endpoint.url.as_str())
            .bind(i64::from(endpoint.events.bits()))
            .bind(endpoint.secret.expose())
            .bind(EndpointSource::Config.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        drop(turn);
        Ok(())
    }

    async fn due_webhook_deliveries(
        &self,
        limit: u32,
        now: OffsetDateTime,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            delivery_columns!(),
            ", e.url AS url, e.secret AS secret
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
             WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
             ORDER BY d.next_attempt_at, d.id
             LIMIT ?2"
        ))
        .bind(secs(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|row| {
                let url: String = row.try_get("url").map_err(db)?;
                let secret: String = row.try_get("secret").map_err(db)?;
                delivery_row(row)?.into_due(url, &secret)
            })
            .collect()
    }

    async fn record_webhook_attempt(
        &self,
        id: i64,
        outcome: &AttemptOutcome,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let now = secs(now);
        let (state, next, error, status, delivered) = match outcome {
            AttemptOutcome::Delivered { status } => {
                ("delivered", None, None, Some(*status), Some(now))
            }
            AttemptOutcome::Retry { retry_at, error, status } => {
                ("pending", Some(secs(*retry_at)), Some(error.as_str()), *status, None)
            }
            AttemptOutcome::Dead { error, status } => {
                ("dead", None, Some(error.as_str()), *status, None)
            }
        };
        let _turn = self.write_turn().await;
        let updated = sqlx::query(
            "UPDATE webhook_deliveries
             SET state = ?2, attempts = attempts + 1,
                 next_attempt_at = coalesce(?3, next_attempt_at),
                 last_error = coalesce(?4, last_error), last_status = coalesce(?5, last_status),
                 delivered_at = ?6, updated_at = ?7
             WHERE id = ?1 AND state = 'pending'",
        )
        .bind(id)
        .bind(state)
        .bind(next)
        .bind(error)
        .bind(status.map(i64::from))
        .bind(delivered)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db)?
        .rows_affected();
        Ok(updated > 0)
    }

    async fn webhook_deliveries(
        &self,
        query: &DeliveryQuery,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM webhook_deliveries d
             WHERE d.id > ?1 AND (?2 IS NULL OR d.state = ?2)
               AND (?3 IS NULL OR d.endpoint_id = ?3)
             ORDER BY d.id
             LIMIT ?4"
        ))
        .bind(query.after.unwrap_or(0))
        .bind(query.state.map(|s| s.as_str()))
        .bind(query.endpoint_id.map(|id| id.as_bytes().to_vec()))
        .bind(i64::from(query.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(|row| delivery_row(row)?.into_delivery()).collect()
    }

    async fn redeliver_webhook(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<bool>, StoreError> {
        let now = secs(now);
        let _turn = self.write_turn().await;
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM webhook_deliveries WHERE id = ?1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        let Some(_) = state else { return Ok(None) };
        let updated = sqlx::query(
            "UPDATE webhook_deliveries
             SET state = 'pending', attempts = 0, next_attempt_at = ?2, updated_at = ?2
             WHERE id = ?1 AND state = 'dead'",
        )
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db)?
        .rows_affected();
        Ok(Some(updated > 0))
    }

    async fn purge_delivered_webhooks(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "DELETE FROM webhook_deliveries WHERE state = 'delivered' AND delivered_at < ?1",
        )
        .bind(secs(before))
        .execute(&self.pool)
        .await
        .map_err(db)?
        .rows_affected())
    }
}
