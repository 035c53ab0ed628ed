//! Signed webhooks for every status change of an attestation.
//!
//! Operators register endpoints for a dApp (a URL, the [events](WebhookEvent) it wants, a
//! [signing secret](WebhookSecret)). Each status change of an attestation queues one delivery
//! per subscribed endpoint in the database, in the same transaction as the change (the store's
//! triggers do it: see [`crate::store::WebhookStore`]); a worker delivers them, at least once,
//! with exponential backoff ([`retry_delay`]) up to a retry limit, then marks them
//! [`dead`](DeliveryState::Dead) for an operator to see and redeliver.
//!
//! | module | concern |
//! |---|---|
//! | [`payload`] | the JSON body a delivery carries (nothing personal) |
//! | [`signing`] | Standard Webhooks signatures, secrets and headers |
//! | [`address`] | which endpoint URLs and addresses may be called |
//! | [`stored`] | reading stored endpoints and deliveries back, for every backend |
//!
//! Deliveries follow [Standard Webhooks](https://www.standardwebhooks.com/): headers
//! `webhook-id` (the delivery's [`WebhookMessageId`], the same on every retry),
//! `webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature`
//! (`v1,` + base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}` under the secret's bytes).

pub mod address;
pub mod payload;
pub mod signing;
pub mod stored;

use std::{fmt, str::FromStr, time::Duration};

use alloy_primitives::Address;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{AttestationId, AttestationStatus, Error, RevocationReason, Scope, id::random_id};

pub use address::{AddressPolicy, UrlRefusal, WebhookUrl};
pub use payload::WebhookPayload;
pub use signing::{WebhookSecret, sign, verify};

random_id!(
    /// A webhook endpoint's id: 128 bits, written `whe_` + 32 lowercase hex digits.
    WebhookEndpointId,
    "whe_",
    "webhook endpoint"
);

random_id!(
    /// A delivery's message id (the `webhook-id` header): 128 random bits drawn by the
    /// database when the delivery is queued, written `msg_` + 32 lowercase hex digits. The
    /// same on every attempt, so receivers can drop duplicates.
    WebhookMessageId,
    "msg_",
    "webhook message"
);

impl WebhookEndpointId {
    /// The fixed id of the endpoint named `name` in the configuration: the first 16 bytes of
    /// SHA-256 over a label, the name and a counter, so it survives restarts (its deliveries
    /// keep their endpoint). The counter moves on while the hex would look like an individual
    /// number, as [`Self::random`] draws again.
    pub fn configured(name: &str) -> Self {
        let mut counter = 0u32;
        loop {
            let digest = Sha256::new()
                .chain_update(b"honnin webhook endpoint\0")
                .chain_update(name.as_bytes())
                .chain_update(counter.to_be_bytes())
                .finalize();
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&digest[..16]);
            if !crate::individual_number::contains_in_short_text(&hex::encode(bytes)) {
                return Self::from_bytes(bytes);
            }
            counter += 1;
        }
    }
}

/// What happened to an attestation, as a webhook event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WebhookEvent {
    /// `attestation.active`: confirmed on chain.
    Active,
    /// `attestation.revoked`: revoked (the payload says why).
    Revoked,
    /// `attestation.expired`: past its `expires_at`.
    Expired,
    /// `attestation.renewed`: the card's certificate was renewed and the attestation moved to
    /// the new certificate; it stays live, with no chain write.
    Renewed,
}

impl WebhookEvent {
    /// Every event, in bit order.
    pub const ALL: [Self; 4] = [Self::Active, Self::Revoked, Self::Expired, Self::Renewed];

    /// The event's name (the payload's `type`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "attestation.active",
            Self::Revoked => "attestation.revoked",
            Self::Expired => "attestation.expired",
            Self::Renewed => "attestation.renewed",
        }
    }

    /// The event's bit in an [`EventSet`] (the stores' triggers use the same bits).
    pub const fn bit(self) -> u8 {
        match self {
            Self::Active => 1,
            Self::Revoked => 2,
            Self::Expired => 4,
            Self::Renewed => 8,
        }
    }
}

impl fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WebhookEvent {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL.into_iter().find(|e| e.as_str() == s).ok_or(Error::InvalidWebhookEvent)
    }
}

/// The events an endpoint wants: a bit set (stored as an integer, 1 to 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EventSet(u8);

impl EventSet {
    /// Every event.
    pub const ALL: Self = Self(15);

    /// The set of `events`.
    pub fn of(events: impl IntoIterator<Item = WebhookEvent>) -> Self {
        Self(events.into_iter().fold(0, |bits, e| bits | e.bit()))
    }

    /// The set stored as `bits`; `None` when empty or with unknown bits.
    pub fn from_bits(bits: i64) -> Option<Self> {
        u8::try_from(bits).ok().filter(|b| (1..=15).contains(b)).map(Self)
    }

    /// The stored form.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether no event is in the set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `event` is in the set.
    pub const fn contains(self, event: WebhookEvent) -> bool {
        self.0 & event.bit() != 0
    }

    /// The events, in bit order.
    pub fn events(self) -> Vec<WebhookEvent> {
        WebhookEvent::ALL.into_iter().filter(|e| self.contains(*e)).collect()
    }
}

/// Where an endpoint came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointSource {
    /// Registered through the admin API.
    Api,
    /// Declared in the configuration (replaced at each start-up).
    Config,
}

impl EndpointSource {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Config => "config",
        }
    }
}

/// A webhook endpoint to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhookEndpoint {
    /// Its id ([`WebhookEndpointId::random`], or [`WebhookEndpointId::configured`]).
    pub id: WebhookEndpointId,
    /// Where deliveries go (checked by [`AddressPolicy::check_url`]).
    pub url: WebhookUrl,
    /// The events it wants (not empty).
    pub events: EventSet,
    /// The signing secret.
    pub secret: WebhookSecret,
    /// Where it came from.
    pub source: EndpointSource,
}

/// A webhook endpoint as stored. Its `Debug` hides the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Its id.
    pub id: WebhookEndpointId,
    /// Where deliveries go.
    pub url: String,
    /// The events it wants.
    pub events: EventSet,
    /// The signing secret.
    pub secret: WebhookSecret,
    /// Where it came from.
    pub source: EndpointSource,
    /// When it was registered.
    pub created_at: OffsetDateTime,
}

impl fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Waiting for its next attempt (due at `next_attempt_at`).
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt failed (the retry limit was reached): an operator may redeliver it.
    Dead,
}

impl DeliveryState {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }
}

impl FromStr for DeliveryState {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "pending" => Ok(Self::Pending),
            "delivered" => Ok(Self::Delivered),
            "dead" => Ok(Self::Dead),
            _ => Err(Error::InvalidDeliveryState),
        }
    }
}

/// What happened to an attestation, as queued for one endpoint: the facts its payload is
/// rendered from (nothing personal: no pseudonym, no certificate data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookChange {
    /// The event.
    pub event: WebhookEvent,
    /// The attestation.
    pub attestation_id: AttestationId,
    /// Its wallet.
    pub wallet: Address,
    /// Its scope; `None` for the global record.
    pub scope: Option<Scope>,
    /// Its status after the change.
    pub status: AttestationStatus,
    /// Why it was revoked (`attestation.revoked` only).
    pub reason: Option<RevocationReason>,
    /// When it was issued.
    pub issued_at: OffsetDateTime,
    /// When it expires.
    pub expires_at: OffsetDateTime,
    /// When the change was recorded.
    pub occurred_at: OffsetDateTime,
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Its row id (the admin API's handle and the listing's cursor).
    pub id: i64,
    /// The `webhook-id` it is sent with.
    pub message_id: WebhookMessageId,
    /// Its endpoint.
    pub endpoint_id: WebhookEndpointId,
    /// What it tells.
    pub change: WebhookChange,
    /// Where it is.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: OffsetDateTime,
    /// The last failed attempt's error (nothing personal: a status or a transport failure).
    pub last_error: Option<String>,
    /// The HTTP status of the last attempt that got an answer.
    pub last_status: Option<u16>,
    /// When it was delivered.
    pub delivered_at: Option<OffsetDateTime>,
    /// When it was queued.
    pub created_at: OffsetDateTime,
}

/// A delivery due now, with what sending it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    /// The delivery.
    pub delivery: WebhookDelivery,
    /// Its endpoint's URL.
    pub url: String,
    /// Its endpoint's current secret.
    pub secret: WebhookSecret,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The endpoint answered 2xx with this status.
    Delivered {
        /// The status.
        status: u16,
    },
    /// It failed; try again at `retry_at`.
    Retry {
        /// When.
        retry_at: OffsetDateTime,
        /// What went wrong (nothing personal).
        error: String,
        /// The endpoint's status, when it answered.
        status: Option<u16>,
    },
    /// It failed for the last time (the retry limit): the delivery is dead.
    Dead {
        /// What went wrong (nothing personal).
        error: String,
        /// The endpoint's status, when it answered.
        status: Option<u16>,
    },
}

/// Which deliveries a listing wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryQuery {
    /// Only this state.
    pub state: Option<DeliveryState>,
    /// Only this endpoint's.
    pub endpoint_id: Option<WebhookEndpointId>,
    /// Only deliveries with a larger row id (the previous page's last).
    pub after: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// The delay before the attempt after `attempts` failed ones: `base` doubled for each
/// earlier failure, at most `max`, then scaled into `[½, 1]` of itself by `jitter` (a uniform
/// random number in `[0, 1]` from the caller), so endpoints that failed together do not all
/// come back at once.
pub fn retry_delay(attempts: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let doublings = attempts.saturating_sub(1).min(32);
    let full = base.saturating_mul(1u32 << doublings.min(31)).min(max);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_and_sets_hold_them() {
        for event in WebhookEvent::ALL {
            assert_eq!(event.as_str().parse::<WebhookEvent>(), Ok(event));
        }
        assert!("attestation.pending".parse::<WebhookEvent>().is_err());
        let set = EventSet::of([WebhookEvent::Revoked, WebhookEvent::Renewed]);
        assert_eq!(set.bits(), 10);
        assert_eq!(set.events(), [WebhookEvent::Revoked, WebhookEvent::Renewed]);
        assert_eq!(EventSet::from_bits(10), Some(set));
        assert_eq!(EventSet::from_bits(0), None);
        assert_eq!(EventSet::from_bits(16), None);
    }

    #[test]
    fn retry_delays_double_up_to_the_cap_with_jitter() {
        let base = Duration::from_secs(5);
        let max = Duration::from_secs(3600);
        assert_eq!(retry_delay(1, base, max, 1.0), base);
        assert_eq!(retry_delay(2, base, max, 1.0), Duration::from_secs(10));
        assert_eq!(retry_delay(4, base, max, 1.0), Duration::from_secs(40));
        assert_eq!(retry_delay(4, base, max, 0.0), Duration::from_secs(20));
        assert_eq!(retry_delay(40, base, max, 1.0), max);
        let d = retry_delay(3, base, max, 0.3);
        assert!(d >= Duration::from_secs(10) && d <= Duration::from_secs(20), "{d:?}");
    }

    #[test]
    fn configured_ids_are_stable_per_name() {
        assert_eq!(WebhookEndpointId::configured("shop"), WebhookEndpointId::configured("shop"));
        assert_ne!(WebhookEndpointId::configured("shop"), WebhookEndpointId::configured("drop"));
    }
}
