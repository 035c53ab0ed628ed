//! Reading stored webhook rows back into domain values, once for every backend (as
//! [`crate::stored`] does for the rest of the store).

use time::OffsetDateTime;

use super::{
    DeliveryState, DueDelivery, EndpointSource, EventSet, WebhookChange, WebhookDelivery,
    WebhookEndpoint, WebhookEndpointId, WebhookMessageId, WebhookSecret,
};
use crate::{
    AttestationId, AttestationStatus, StoreError,
    stored::{address, corrupt, id16, reason, scope},
};

/// A row of `webhook_endpoints`, backend-neutral.
#[derive(Debug)]
pub struct EndpointRow {
    /// `id`.
    pub id: Vec<u8>,
    /// `url`.
    pub url: String,
    /// `events`.
    pub events: i64,
    /// `secret`.
    pub secret: String,
    /// `source`.
    pub source: String,
    /// `created_at`.
    pub created_at: OffsetDateTime,
}

impl EndpointRow {
    /// The endpoint.
    pub fn into_endpoint(self) -> Result<WebhookEndpoint, StoreError> {
        Ok(WebhookEndpoint {
            id: WebhookEndpointId::from_bytes(id16(&self.id, "webhook endpoint id")?),
            url: self.url,
            events: EventSet::from_bits(self.events).ok_or_else(|| corrupt("webhook events"))?,
            secret: WebhookSecret::parse(&self.secret).map_err(|_| corrupt("webhook secret"))?,
            source: match self.source.as_str() {
                "api" => EndpointSource::Api,
                "config" => EndpointSource::Config,
                _ => return Err(corrupt("webhook endpoint source")),
            },
            created_at: self.created_at,
        })
    }
}

/// A row of `webhook_deliveries`, backend-neutral.
#[derive(Debug)]
#[allow(missing_docs)] // the columns of the same names
pub struct DeliveryRow {
    pub id: i64,
    pub message_id: Vec<u8>,
    pub endpoint_id: Vec<u8>,
    pub event: String,
    pub attestation_id: Vec<u8>,
    pub wallet: Vec<u8>,
    pub scope: Option<Vec<u8>>,
    pub status: String,
    pub reason: Option<i64>,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub occurred_at: OffsetDateTime,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    pub last_status: Option<i64>,
    pub delivered_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

impl DeliveryRow {
    /// The delivery.
    pub fn into_delivery(self) -> Result<WebhookDelivery, StoreError> {
        Ok(WebhookDelivery {
            id: self.id,
            message_id: WebhookMessageId::from_bytes(id16(&self.message_id, "webhook message id")?),
            endpoint_id: WebhookEndpointId::from_bytes(id16(
                &self.endpoint_id,
                "webhook endpoint id",
            )?),
            change: WebhookChange {
                event: self.event.parse().map_err(|_| corrupt("webhook event"))?,
                attestation_id: AttestationId::from_bytes(id16(
                    &self.attestation_id,
                    "attestation id",
                )?),
                wallet: address(&self.wallet)?,
                scope: scope(self.scope.as_deref())?,
                status: self
                    .status
                    .parse::<AttestationStatus>()
                    .map_err(|_| corrupt("attestation status"))?,
                reason: reason(self.reason)?,
                issued_at: self.issued_at,
                expires_at: self.expires_at,
                occurred_at: self.occurred_at,
            },
            state: self.state.parse::<DeliveryState>().map_err(|_| corrupt("delivery state"))?,
            attempts: u32::try_from(self.attempts).map_err(|_| corrupt("delivery attempts"))?,
            next_attempt_at: self.next_attempt_at,
            last_error: self.last_error,
            last_status: self
                .last_status
                .map(|s| u16::try_from(s).map_err(|_| corrupt("delivery status")))
                .transpose()?,
            delivered_at: self.delivered_at,
            created_at: self.created_at,
        })
    }

    /// The delivery with its endpoint's URL and secret.
    pub fn into_due(self, url: String, secret: &str) -> Result<DueDelivery, StoreError> {
        Ok(DueDelivery {
            delivery: self.into_delivery()?,
            url,
            secret: WebhookSecret::parse(secret).map_err(|_| corrupt("webhook secret"))?,
        })
    }
}
