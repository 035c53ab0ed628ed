//! Operator endpoints under `/v1/admin/`, behind an admin bearer token
//! ([`crate::auth::require_admin`]).

use std::sync::Arc;

use axum::{
    Json,
    extract::{Query, State},
    http::StatusCode,
};
use honnin_core::{AuditEventKind, AuditQuery, AuditRecord, RevocationReason};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    Error, Result, Shared,
    audit::{self, Caller},
    error::Problem,
    extract::JsonBody,
    lifecycle,
    routes::{RevocationAccepted, parse_wallet, revocation_accepted},
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
    from: Option<String>,
    /// Events before this time (RFC 3339).
    to: Option<String>,
    /// Only these kinds, comma separated (`challenge_issued`, `verification_accepted`,
    /// `verification_refused`, `attestation_queued`, `attestation_confirmed`,
    /// `attestation_revoked`, `revocation_confirmed`, `attestation_expired`, `renewal_linked`,
    /// `erasure`, `admin_action`).
    event: Option<String>,
    /// The cursor: only events after this sequence number (the previous page's `next`).
    after: Option<u64>,
    /// At most this many events (default 100, at most 1,000).
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
    pub wallet: String,
    /// Why: `operator` (default), `certificate_revoked` or `superseded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "operator")]
    pub reason: Option<String>,
}

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
    responses(
        (status = 200, description = "A page of events", body = AuditPage),
        (status = 400, description = "malformed_request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized (no or wrong bearer token)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited (refused requests count against the client)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "unavailable, timeout", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn read_audit(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>> {
    let Query(params) = params.map_err(|_| {
        Error::malformed("query: from, to (RFC 3339), event (comma-separated kinds), after, limit")
    })?;
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
    audit::record(&shared, vec![caller.coded(AuditEventKind::AdminAction, "audit_read")]).await?;
    Ok(Json(AuditPage { events: records.into_iter().map(AuditEventView::from).collect(), next }))
}

/// Revokes a wallet's live attestation (operator revocation); the on-chain `revoke` is queued.
#[utoipa::path(
    post,
    path = "/v1/admin/revocations",
    tag = "admin",
    request_body = AdminRevocationRequest,
    security(("admin_token" = [])),
    responses(
        (status = 202, description = "Revoked; the on-chain revoke is queued", body = RevocationAccepted),
        (status = 400, description = "malformed_request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized (no or wrong bearer token)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no_live_attestation", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited (refused requests count against the client)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "unavailable, timeout", body = Problem, content_type = "application/problem+json"),
    )
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
    let id = lifecycle::operator_revoke(&shared, wallet, reason).await?;
    audit::record(
        &shared,
        vec![
            caller.coded(AuditEventKind::AdminAction, "revoke_wallet").with_attestation(id),
            caller.revoked(id, reason),
        ],
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(revocation_accepted(id, wallet, reason))))
}
