//! Webhook endpoints and deliveries under `/v1/admin/`, behind the admin bearer token:
//! registering an endpoint (its secret shown once), listing, deleting, rotating its secret;
//! listing deliveries (dead ones included) and redelivering a dead one.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{
        Path, Query, State,
        rejection::{PathRejection, QueryRejection},
    },
    http::StatusCode,
    middleware,
    routing::{delete, get, post},
};
use honnin_core::{
    AuditEventKind, individual_number,
    time::{now, rfc3339},
    webhook::{
        DeliveryQuery, DeliveryState, EndpointSource, EventSet, NewWebhookEndpoint,
        WebhookDelivery, WebhookEndpoint, WebhookEndpointId, WebhookEvent, WebhookSecret,
    },
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    admin::require_admin,
    audit,
    caller::Caller,
    error::{ADMIN, Error, JSON_BODY, Kind, Method, Operation, Result},
    json::{Body, Field, JsonBody, Text},
    state::Shared,
};

/// The default page size of `GET /v1/admin/webhook-deliveries`.
const DEFAULT_PAGE: u32 = 100;
/// The largest page size.
const MAX_PAGE: u32 = 1_000;

/// `POST /v1/admin/webhooks` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointRequest {
    /// Where deliveries go: `https://…` (`http://` only in dev mode); loopback, private and
    /// link-local addresses are refused unless the operator allows them.
    #[schema(example = "https://dapp.example/honnin-webhooks", max_length = 2048)]
    pub url: String,
    /// The events wanted, comma separated (`attestation.active`, `attestation.revoked`,
    /// `attestation.expired`, `attestation.renewed`); default: all four.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "attestation.active,attestation.revoked")]
    pub events: Option<String>,
}

impl Body for WebhookEndpointRequest {
    const FIELDS: &'static [Field] =
        &[Field::required("url", Text::Short), Field::optional("events", Text::Short)];
}

/// A webhook endpoint (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookEndpointView {
    /// Its id: `whe_` and 32 hex digits.
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// The events it gets.
    pub events: Vec<String>,
    /// `api` (registered here) or `config` (declared in the configuration: it comes back at
    /// the next start-up unless removed there).
    pub source: String,
    /// When it was registered (RFC 3339).
    pub created_at: String,
}

impl From<&WebhookEndpoint> for WebhookEndpointView {
    fn from(endpoint: &WebhookEndpoint) -> Self {
        Self {
            id: endpoint.id.to_string(),
            url: endpoint.url.clone(),
            events: endpoint.events.events().iter().map(|e| e.as_str().to_owned()).collect(),
            source: endpoint.source.as_str().to_owned(),
            created_at: rfc3339(endpoint.created_at),
        }
    }
}

/// A new endpoint, or a rotated secret: the only answers that carry the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookEndpointCreated {
    /// The endpoint.
    pub endpoint: WebhookEndpointView,
    /// The signing secret, `whsec_` and base64 of 32 random bytes: shown this once.
    pub secret: String,
}

/// `GET /v1/admin/webhooks` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookEndpointList {
    /// Every endpoint, in registration order.
    pub endpoints: Vec<WebhookEndpointView>,
}

/// `GET /v1/admin/webhook-deliveries` query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveryParams {
    /// Only deliveries in this state: `pending`, `delivered` or `dead`.
    state: Option<String>,
    /// Only this endpoint's deliveries (`whe_…`).
    endpoint: Option<String>,
    /// The cursor: only deliveries after this id (the previous page's `next`).
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    after: Option<u64>,
    /// At most this many deliveries (default 100, at most 1,000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// One delivery: what it tells (nothing personal) and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveryView {
    /// Its id (the handle to redeliver it).
    pub id: i64,
    /// The `webhook-id` it is sent with (the same on every attempt).
    pub message_id: String,
    /// Its endpoint.
    pub endpoint_id: String,
    /// The event.
    pub event: String,
    /// The attestation.
    pub attestation_id: String,
    /// Its wallet (EIP-55).
    pub wallet: String,
    /// Its status after the change.
    pub status: String,
    /// The revocation reason (`attestation.revoked`).
    pub reason: Option<String>,
    /// When the change was recorded (RFC 3339).
    pub occurred_at: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<String>,
    /// The last failed attempt's error.
    pub last_error: Option<String>,
    /// The endpoint's status at the last attempt it answered.
    pub last_status: Option<u16>,
    /// When it was delivered.
    pub delivered_at: Option<String>,
    /// When it was queued.
    pub created_at: String,
}

impl From<WebhookDelivery> for WebhookDeliveryView {
    fn from(d: WebhookDelivery) -> Self {
        Self {
            id: d.id,
            message_id: d.message_id.to_string(),
            endpoint_id: d.endpoint_id.to_string(),
            event: d.change.event.as_str().to_owned(),
            attestation_id: d.change.attestation_id.to_string(),
            wallet: d.change.wallet.to_checksum(None),
            status: d.change.status.as_str().to_owned(),
            reason: d.change.reason.map(|r| r.as_str().to_owned()),
            occurred_at: rfc3339(d.change.occurred_at),
            state: d.state.as_str().to_owned(),
            attempts: d.attempts,
            next_attempt_at: (d.state == DeliveryState::Pending)
                .then(|| rfc3339(d.next_attempt_at)),
            last_error: d.last_error,
            last_status: d.last_status,
            delivered_at: d.delivered_at.map(rfc3339),
            created_at: rfc3339(d.created_at),
        }
    }
}

/// `GET /v1/admin/webhook-deliveries` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveryPage {
    /// The deliveries, in id order.
    pub deliveries: Vec<WebhookDeliveryView>,
    /// The cursor for the next page (pass it as `after`) when this page is full, else `null`.
    pub next: Option<i64>,
}

/// The routes of this resource, behind the admin gate.
pub(crate) fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/admin/webhooks", post(register).get(list))
        .route("/v1/admin/webhooks/{id}", delete(remove))
        .route("/v1/admin/webhooks/{id}/secret", post(rotate))
        .route("/v1/admin/webhook-deliveries", get(deliveries))
        .route("/v1/admin/webhook-deliveries/{id}/redeliver", post(redeliver))
        .route_layer(middleware::from_fn_with_state(shared, require_admin))
}

/// What this resource's operations can answer (the OpenAPI error responses). A path whose id
/// holds a `/` matches no route: `not_found`.
pub(crate) const OPERATIONS: &[Operation] = &[
    Operation {
        method: Method::Post,
        path: "/v1/admin/webhooks",
        errors: &[ADMIN, JSON_BODY, &[Kind::WebhookUrlRefused, Kind::Unavailable]],
    },
    Operation {
        method: Method::Get,
        path: "/v1/admin/webhooks",
        errors: &[ADMIN, &[Kind::Unavailable]],
    },
    Operation {
        method: Method::Delete,
        path: "/v1/admin/webhooks/{id}",
        errors: &[
            ADMIN,
            &[
                Kind::MalformedRequest,
                Kind::WebhookEndpointNotFound,
                Kind::NotFound,
                Kind::Unavailable,
            ],
        ],
    },
    Operation {
        method: Method::Post,
        path: "/v1/admin/webhooks/{id}/secret",
        errors: &[
            ADMIN,
            &[
                Kind::MalformedRequest,
                Kind::WebhookEndpointNotFound,
                Kind::NotFound,
                Kind::Unavailable,
            ],
        ],
    },
    Operation {
        method: Method::Get,
        path: "/v1/admin/webhook-deliveries",
        errors: &[
            ADMIN,
            &[Kind::MalformedRequest, Kind::IndividualNumberForbidden, Kind::Unavailable],
        ],
    },
    Operation {
        method: Method::Post,
        path: "/v1/admin/webhook-deliveries/{id}/redeliver",
        errors: &[
            ADMIN,
            &[
                Kind::MalformedRequest,
                Kind::WebhookDeliveryNotFound,
                Kind::WebhookDeliveryNotDead,
                Kind::NotFound,
                Kind::Unavailable,
            ],
        ],
    },
];

fn parse_events(text: Option<&str>) -> Result<EventSet> {
    let Some(text) = text else { return Ok(EventSet::ALL) };
    let events = text
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| e.parse::<WebhookEvent>().map_err(|_| Error::malformed("`events`: unknown event")))
        .collect::<Result<Vec<_>>>()?;
    let events = EventSet::of(events);
    if events.is_empty() {
        return Err(Error::malformed("`events` names no event"));
    }
    Ok(events)
}

fn endpoint_id(id: Result<Path<String>, PathRejection>) -> Result<WebhookEndpointId> {
    let malformed = || Error::malformed("`id` must be whe_ and 32 hex digits");
    id.map_err(|_| malformed())?.0.parse().map_err(|_| malformed())
}

fn delivery_id(id: Result<Path<String>, PathRejection>) -> Result<i64> {
    let malformed = || Error::malformed(format!("`id` must be 1 to {}", i64::MAX));
    let id: i64 = id.map_err(|_| malformed())?.0.parse().map_err(|_| malformed())?;
    if id < 1 {
        return Err(malformed());
    }
    Ok(id)
}

/// Registers a webhook endpoint; its signing secret is in this answer only.
#[utoipa::path(
    post,
    path = "/v1/admin/webhooks",
    tag = "admin",
    request_body = WebhookEndpointRequest,
    security(("admin_token" = [])),
    responses((status = 201, description = "Registered; the secret is shown this once", body = WebhookEndpointCreated))
)]
pub(crate) async fn register(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    JsonBody(request): JsonBody<WebhookEndpointRequest>,
) -> Result<(StatusCode, Json<WebhookEndpointCreated>)> {
    let url =
        shared.state.webhook_policy.check_url(&request.url).map_err(Error::WebhookUrlRefused)?;
    let events = parse_events(request.events.as_deref())?;
    let secret = WebhookSecret::generate();
    let endpoint = NewWebhookEndpoint {
        id: WebhookEndpointId::random(),
        url,
        events,
        secret: secret.clone(),
        source: EndpointSource::Api,
    };
    let at = now();
    shared.state.store.create_webhook_endpoint(&endpoint, at).await?;
    audit::record(
        &shared.state.audit,
        vec![caller.coded(AuditEventKind::AdminAction, "webhook_registered")],
    )
    .await?;
    let view = WebhookEndpointView {
        id: endpoint.id.to_string(),
        url: endpoint.url.as_str().to_owned(),
        events: events.events().iter().map(|e| e.as_str().to_owned()).collect(),
        source: EndpointSource::Api.as_str().to_owned(),
        created_at: rfc3339(at),
    };
    Ok((
        StatusCode::CREATED,
        Json(WebhookEndpointCreated { endpoint: view, secret: secret.expose() }),
    ))
}

/// Lists the webhook endpoints (without their secrets).
#[utoipa::path(
    get,
    path = "/v1/admin/webhooks",
    tag = "admin",
    security(("admin_token" = [])),
    responses((status = 200, description = "Every endpoint", body = WebhookEndpointList))
)]
pub(crate) async fn list(State(shared): State<Arc<Shared>>) -> Result<Json<WebhookEndpointList>> {
    let endpoints = shared.state.store.webhook_endpoints().await?;
    Ok(Json(WebhookEndpointList {
        endpoints: endpoints.iter().map(WebhookEndpointView::from).collect(),
    }))
}

/// Deletes a webhook endpoint and its deliveries.
#[utoipa::path(
    delete,
    path = "/v1/admin/webhooks/{id}",
    tag = "admin",
    params(("id" = String, Path, description = "The endpoint: whe_ and 32 hex digits", pattern = "^whe_[0-9a-f]{32}$")),
    security(("admin_token" = [])),
    responses((status = 204, description = "Deleted"))
)]
pub(crate) async fn remove(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode> {
    let id = endpoint_id(id)?;
    if !shared.state.store.delete_webhook_endpoint(&id).await? {
        return Err(Error::WebhookEndpointNotFound);
    }
    audit::record(
        &shared.state.audit,
        vec![caller.coded(AuditEventKind::AdminAction, "webhook_deleted")],
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces an endpoint's signing secret; the new one is in this answer only (pending
/// deliveries are signed with it from now on).
#[utoipa::path(
    post,
    path = "/v1/admin/webhooks/{id}/secret",
    tag = "admin",
    params(("id" = String, Path, description = "The endpoint: whe_ and 32 hex digits", pattern = "^whe_[0-9a-f]{32}$")),
    security(("admin_token" = [])),
    responses((status = 200, description = "The new secret, shown this once", body = WebhookEndpointCreated))
)]
pub(crate) async fn rotate(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<WebhookEndpointCreated>> {
    let id = endpoint_id(id)?;
    let secret = WebhookSecret::generate();
    let store = &shared.state.store;
    if !store.rotate_webhook_secret(&id, &secret, now()).await? {
        return Err(Error::WebhookEndpointNotFound);
    }
    let endpoints = store.webhook_endpoints().await?;
    let endpoint = endpoints.iter().find(|e| e.id == id).ok_or(Error::WebhookEndpointNotFound)?;
    audit::record(
        &shared.state.audit,
        vec![caller.coded(AuditEventKind::AdminAction, "webhook_secret_rotated")],
    )
    .await?;
    Ok(Json(WebhookEndpointCreated { endpoint: endpoint.into(), secret: secret.expose() }))
}

/// Lists webhook deliveries (dead ones included), filtered by state and endpoint, a page at a
/// time.
#[utoipa::path(
    get,
    path = "/v1/admin/webhook-deliveries",
    tag = "admin",
    params(DeliveryParams),
    security(("admin_token" = [])),
    responses((status = 200, description = "A page of deliveries", body = WebhookDeliveryPage))
)]
pub(crate) async fn deliveries(
    State(shared): State<Arc<Shared>>,
    params: Result<Query<DeliveryParams>, QueryRejection>,
) -> Result<Json<WebhookDeliveryPage>> {
    let Query(params) = params.map_err(|_| {
        Error::malformed("query: state (pending, delivered, dead), endpoint, after, limit")
    })?;
    for text in [&params.state, &params.endpoint].into_iter().flatten() {
        individual_number::ensure_absent_in_short_text(text)?;
    }
    let state = params
        .state
        .as_deref()
        .map(|s| {
            s.parse::<DeliveryState>()
                .map_err(|_| Error::malformed("`state` must be pending, delivered or dead"))
        })
        .transpose()?;
    let endpoint_id = params
        .endpoint
        .as_deref()
        .map(|e| {
            e.parse::<WebhookEndpointId>()
                .map_err(|_| Error::malformed("`endpoint` must be whe_ and 32 hex digits"))
        })
        .transpose()?;
    let after = params
        .after
        .map(|after| {
            i64::try_from(after)
                .map_err(|_| Error::malformed(format!("`after` must be 0 to {}", i64::MAX)))
        })
        .transpose()?;
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::malformed(format!("`limit` must be 1 to {MAX_PAGE}")));
    }
    let query = DeliveryQuery { state, endpoint_id, after, limit };
    let found = shared.state.store.webhook_deliveries(&query).await?;
    let next = (found.len() == limit as usize).then(|| found.last().map(|d| d.id)).flatten();
    Ok(Json(WebhookDeliveryPage { deliveries: found.into_iter().map(Into::into).collect(), next }))
}

/// Puts a dead delivery back in the queue (the same message id and body, attempts reset).
#[utoipa::path(
    post,
    path = "/v1/admin/webhook-deliveries/{id}/redeliver",
    tag = "admin",
    params(("id" = i64, Path, description = "The delivery's id", minimum = 1)),
    security(("admin_token" = [])),
    responses((status = 202, description = "Queued again", body = WebhookDeliveryView))
)]
pub(crate) async fn redeliver(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<(StatusCode, Json<WebhookDeliveryView>)> {
    let id = delivery_id(id)?;
    let store = &shared.state.store;
    match store.redeliver_webhook(id, now()).await? {
        None => return Err(Error::WebhookDeliveryNotFound),
        Some(false) => return Err(Error::WebhookDeliveryNotDead),
        Some(true) => {}
    }
    let query = DeliveryQuery { after: Some(id - 1), limit: 1, ..DeliveryQuery::default() };
    let delivery = store
        .webhook_deliveries(&query)
        .await?
        .into_iter()
        .next()
        .filter(|d| d.id == id)
        .ok_or(Error::WebhookDeliveryNotFound)?;
    audit::record(
        &shared.state.audit,
        vec![caller.coded(AuditEventKind::AdminAction, "webhook_redelivered")],
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(delivery.into())))
}
