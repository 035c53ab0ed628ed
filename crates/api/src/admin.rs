//! Operator endpoints under `/v1/admin/`, behind an admin bearer token ([`require_admin`]):
//! reading the audit log, operator revocation.

use std::{sync::Arc, time::Instant};

use axum::{
    Json, Router,
    extract::{Query, Request, State, rejection::QueryRejection},
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse as _, Response},
    routing::{get, post},
};
use honnin_core::{
    AttestationId, AttestationStatus, AuditEventKind, AuditQuery, AuditRecord, RevocationReason,
    individual_number, time::now,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    audit,
    caller::{Admin, Caller, Client},
    error::{ADMIN, Error, JSON_BODY, Kind, Method, Operation, Result},
    fields::parse_wallet,
    json::{Body, Field, JsonBody, Text},
    revocations::{RevocationAccepted, revocation_accepted},
    scopes,
    state::Shared,
};

/// The default page size of `GET /v1/admin/audit`.
const DEFAULT_PAGE: u32 = 100;
/// The largest page size of `GET /v1/admin/audit`.
const MAX_PAGE: u32 = 1_000;

/// `GET /v1/admin/audit` query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditParams {
    /// Events at or after this time (RFC 3339).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Events before this time (RFC 3339).
    #[param(format = DateTime)]
    to: Option<String>,
    /// Only these kinds, comma separated (`challenge_issued`, `verification_accepted`,
    /// `verification_refused`, `attestation_queued`, `attestation_confirmed`,
    /// `attestation_revoked`, `revocation_confirmed`, `attestation_expired`, `renewal_linked`,
    /// `erasure`, `admin_action`).
    event: Option<String>,
    /// The cursor: only events after this sequence number (the previous page's `next`).
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    after: Option<u64>,
    /// At most this many events (default 100, at most 1,000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// One audit log row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditEventView {
    /// Its sequence number (1, 2, 3, … without gaps).
    pub seq: u64,
    /// When it happened (RFC 3339, UTC, microseconds).
    pub at: String,
    /// What happened (`challenge_issued`, `verification_refused`, …).
    pub kind: String,
    /// The refusal code, revocation reason, purpose or admin action, when there is one.
    pub code: Option<String>,
    /// The attestation concerned, when there is one.
    pub attestation_id: Option<String>,
    /// The request's `x-request-id`.
    pub request_id: Option<String>,
    /// The client's address.
    pub client: Option<String>,
    /// The API key or admin token id (never the key).
    pub api_key_id: Option<String>,
    /// The previous row's hash (`0x` hex; zero for the first row).
    pub prev_hash: String,
    /// This row's chain hash (`0x` hex).
    pub hash: String,
}

impl From<AuditRecord> for AuditEventView {
    fn from(record: AuditRecord) -> Self {
        let event = record.event;
        Self {
            seq: record.seq,
            at: event.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            kind: event.kind.as_str().to_owned(),
            code: event.code,
            attestation_id: event.attestation_id.map(|id| id.to_string()),
            request_id: event.context.request_id,
            client: event.context.client,
            api_key_id: event.context.api_key_id,
            prev_hash: record.prev_hash.to_string(),
            hash: record.hash.to_string(),
        }
    }
}

/// `GET /v1/admin/audit` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    /// The events, in sequence order.
    pub events: Vec<AuditEventView>,
    /// The cursor for the next page (pass it as `after`): set whenever the page is full (the
    /// page after a full last page is empty), `null` when this page came back short.
    pub next: Option<u64>,
}

/// `POST /v1/admin/revocations` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminRevocationRequest {
    /// The wallet whose live attestation to revoke: `0x` and 40 hex digits.
    #[schema(pattern = "^0[xX][0-9a-fA-F]{40}$")]
    pub wallet: String,
    /// Why: `operator` (default), `certificate_revoked` or `superseded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "operator", value_type = Option<OperatorReason>)]
    pub reason: Option<String>,
    /// The scope whose record to revoke (a registered name or `0x` id); absent: the wallet's
    /// global record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "kyc-drop")]
    pub scope: Option<String>,
}

impl Body for AdminRevocationRequest {
    const FIELDS: &'static [Field] = &[
        Field::required("wallet", Text::Binary),
        Field::optional("reason", Text::Short),
        Field::optional("scope", Text::Short),
    ];
}

/// The reasons an operator may give (the OpenAPI enum of `AdminRevocationRequest.reason`).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // only its schema is used
pub(crate) enum OperatorReason {
    /// The operator's decision (the default).
    Operator,
    /// The certificate was revoked.
    CertificateRevoked,
    /// Superseded.
    Superseded,
}

/// The routes of this resource, behind the admin gate.
pub(crate) fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/admin/audit", get(read_audit))
        .route("/v1/admin/revocations", post(revoke))
        .route_layer(middleware::from_fn_with_state(shared, require_admin))
}

/// What this resource's operations can answer (the OpenAPI error responses).
pub(crate) const OPERATIONS: &[Operation] = &[
    Operation {
        method: Method::Get,
        path: "/v1/admin/audit",
        errors: &[
            ADMIN,
            &[Kind::MalformedRequest, Kind::IndividualNumberForbidden, Kind::Unavailable],
        ],
    },
    Operation {
        method: Method::Post,
        path: "/v1/admin/revocations",
        errors: &[
            ADMIN,
            JSON_BODY,
            &[Kind::NoLiveAttestation, Kind::UnknownScope, Kind::Unavailable],
        ],
    },
];

fn parse_time(text: Option<&str>, field: &'static str) -> Result<Option<time::OffsetDateTime>> {
    text.map(|text| {
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .map_err(|_| Error::malformed(format!("`{field}` must be an RFC 3339 time")))
    })
    .transpose()
}

/// Reads the audit log: a time range, event kinds, cursor pagination.
#[utoipa::path(
    get,
    path = "/v1/admin/audit",
    tag = "admin",
    params(AuditParams),
    security(("admin_token" = [])),
    responses((status = 200, description = "A page of events", body = AuditPage))
)]
pub(crate) async fn read_audit(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Json<AuditPage>> {
    let Query(params) = params.map_err(|_| {
        Error::malformed("query: from, to (RFC 3339), event (comma-separated kinds), after, limit")
    })?;
    // Short text: an individual number anywhere in a parameter is refused as such.
    for text in [&params.from, &params.to, &params.event].into_iter().flatten() {
        individual_number::ensure_absent_in_short_text(text)?;
    }
    let kinds = params
        .event
        .as_deref()
        .map(|events| {
            events
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(|e| {
                    e.parse::<AuditEventKind>()
                        .map_err(|_| Error::malformed("`event`: unknown event kind"))
                })
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?
        .unwrap_or_default();
    // Sequence numbers are stored as signed 64-bit integers: a cursor beyond them is a bad
    // parameter, not a stored value the database cannot represent.
    if params.after.is_some_and(|after| i64::try_from(after).is_err()) {
        return Err(Error::malformed(format!("`after` must be 0 to {}", i64::MAX)));
    }
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::malformed(format!("`limit` must be 1 to {MAX_PAGE}")));
    }
    let query = AuditQuery {
        from: parse_time(params.from.as_deref(), "from")?,
        to: parse_time(params.to.as_deref(), "to")?,
        kinds,
        after_seq: params.after,
        limit,
    };
    let records = shared.state.store.audit_page(&query).await?;
    let next = (records.len() == limit as usize).then(|| records.last().map(|r| r.seq)).flatten();
    audit::record(
        &shared.state.audit,
        vec![caller.coded(AuditEventKind::AdminAction, "audit_read")],
    )
    .await?;
    Ok(Json(AuditPage { events: records.into_iter().map(AuditEventView::from).collect(), next }))
}

/// Revokes a wallet's live attestation (operator revocation); the on-chain `revoke` is queued.
#[utoipa::path(
    post,
    path = "/v1/admin/revocations",
    tag = "admin",
    request_body = AdminRevocationRequest,
    security(("admin_token" = [])),
    responses((status = 202, description = "Revoked; the on-chain revoke is queued", body = RevocationAccepted))
)]
pub(crate) async fn revoke(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    JsonBody(request): JsonBody<AdminRevocationRequest>,
) -> Result<(StatusCode, Json<RevocationAccepted>)> {
    let wallet = parse_wallet(&request.wallet)?;
    let reason = match request.reason.as_deref() {
        None | Some("operator") => RevocationReason::Operator,
        Some("certificate_revoked") => RevocationReason::CertificateRevoked,
        Some("superseded") => RevocationReason::Superseded,
        Some(_) => {
            return Err(Error::malformed(
                "`reason` must be `operator`, `certificate_revoked` or `superseded`",
            ));
        }
    };
    let scope = match request.scope.as_deref() {
        None => None,
        Some(text) => Some(scopes::registered_id(&shared.state, text).await?),
    };
    let id = operator_revoke(&shared, wallet, scope.as_ref(), reason).await?;
    audit::record(
        &shared.state.audit,
        vec![
            caller.coded(AuditEventKind::AdminAction, "revoke_wallet").with_attestation(id),
            caller.revoked(id, reason),
        ],
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(revocation_accepted(id, wallet, scope.as_ref(), reason))))
}

/// Revokes a wallet's live attestation for the operator.
async fn operator_revoke(
    shared: &Shared,
    wallet: honnin_core::Address,
    scope: Option<&honnin_core::Scope>,
    reason: RevocationReason,
) -> Result<AttestationId> {
    let state = &shared.state;
    let revoked = state
        .store
        .revoke_wallet(wallet, scope, reason, now())
        .await?
        .ok_or(Error::NoLiveAttestation)?;
    state.metrics.attestations(AttestationStatus::Revoked, 1);
    state.queued();
    Ok(revoked)
}

/// The `/v1/admin/*` gate: `Authorization: Bearer <token>` with a configured token, else 401
/// `unauthorized` with `WWW-Authenticate: Bearer`. A refused request counts against the client's
/// rate limit (so guessing is slow as well as hopeless) and is audited; an accepted one is not
/// rate limited.
pub(crate) async fn require_admin(
    State(shared): State<Arc<Shared>>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|token| !token.is_empty());
    let admin = token.and_then(|token| shared.state.auth.admin(token));
    let Some(admin) = admin else {
        let client = request.extensions().get::<Client>().cloned().unwrap_or_default();
        if let Err(limited) = shared.limiter.check(&client, Instant::now()) {
            return limited.into_response();
        }
        let event = audit::admin_refused(&request);
        drop(request);
        let _ = audit::record(&shared.state.audit, vec![event]).await;
        return Error::Unauthorized.into_response();
    };
    request.extensions_mut().insert(Admin { id: Arc::from(admin.id.as_str()) });
    next.run(request).await
}
