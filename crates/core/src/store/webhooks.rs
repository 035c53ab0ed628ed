//! Webhook endpoints and their deliveries: a durable outbox the webhook worker works.
//!
//! Deliveries are queued by the database itself, in the transaction that changes an
//! attestation (a trigger on the attestations table, in both backends): a status change to
//! `active`, `revoked` or `expired`, or a live attestation moving to a renewed certificate,
//! inserts one pending delivery per endpoint subscribed to that event. Every path that changes
//! a status (the chain writer's confirmation, revocations, erasure, the expiry sweep, the
//! attestation transaction's rotation and lapsed expiry, the renewal carry-over) is covered
//! without knowing about webhooks, and a crash loses nothing: the change and its deliveries
//! commit together or not at all.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::LeaseStore;
use crate::{
    StoreError,
    webhook::{
        AttemptOutcome, DeliveryQuery, DueDelivery, NewWebhookEndpoint, WebhookDelivery,
        WebhookEndpoint, WebhookEndpointId, WebhookSecret,
    },
};

/// What the admin API and the webhook worker need: endpoints, deliveries, and a
/// [lease](LeaseStore) so one instance delivers at a time.
#[async_trait]
pub trait WebhookStore: LeaseStore {
    /// Records a new endpoint. Only changes recorded afterwards are delivered to it.
    async fn create_webhook_endpoint(
        &self,
        endpoint: &NewWebhookEndpoint,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Every endpoint, in registration order (with its secret: callers must not show it).
    async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError>;

    /// Deletes an endpoint and its deliveries; `false` when there is none with that id.
    async fn delete_webhook_endpoint(&self, id: &WebhookEndpointId) -> Result<bool, StoreError>;

    /// Replaces an endpoint's secret (pending deliveries are signed with the new one);
    /// `false` when there is no endpoint with that id.
    async fn rotate_webhook_secret(
        &self,
        id: &WebhookEndpointId,
        secret: &WebhookSecret,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Makes the endpoints declared in the configuration exactly `endpoints`, in one
    /// transaction: each is inserted or updated (URL, events, secret) by id, and configured
    /// endpoints no longer declared are deleted with their deliveries. Endpoints registered
    /// through the API are left alone.
    async fn sync_configured_webhooks(
        &self,
        endpoints: &[NewWebhookEndpoint],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Up to `limit` pending deliveries due at `now` (oldest due first), with their
    /// endpoint's URL and secret. Only the lease holder calls it, so nothing is claimed: a
    /// delivery stays pending until its attempt is recorded, and is sent again after a crash
    /// (at least once).
    async fn due_webhook_deliveries(
        &self,
        limit: u32,
        now: OffsetDateTime,
    ) -> Result<Vec<DueDelivery>, StoreError>;

    /// Records one attempt of a pending delivery: delivered, retry later, or dead. `false`
    /// when the delivery is no longer pending (deleted with its endpoint, or already settled).
    async fn record_webhook_attempt(
        &self,
        id: i64,
        outcome: &AttemptOutcome,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Deliveries in row-id order after the query's cursor, filtered by state and endpoint.
    async fn webhook_deliveries(
        &self,
        query: &DeliveryQuery,
    ) -> Result<Vec<WebhookDelivery>, StoreError>;

    /// Puts a dead delivery back in the queue, due at `now`, with its attempts reset (the
    /// same message id and body). `None` when there is no such delivery; `Some(false)` when it
    /// is not dead.
    async fn redeliver_webhook(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<bool>, StoreError>;

    /// Deletes the deliveries delivered before `before` and returns how many. Pending ones
    /// (still owed) and dead ones (the operator's dead-letter queue, until redelivered or the
    /// endpoint is deleted) stay.
    async fn purge_delivered_webhooks(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}
