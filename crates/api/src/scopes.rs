//! Scopes (per-dApp attestations): resolving the scope a request names, and the operator's
//! `POST /v1/admin/scopes` and `GET /v1/admin/scopes`.
//!
//! A scope is registered by name; its id is `keccak256("honnin/v1/scope" || 0x00 || name)`
//! ([`ScopeName::id`]). Challenges, attestation reads and revocations name a registered scope;
//! erasure reaches every registered scope.

use std::sync::Arc;

use axum::{Json, Router, extract::State, http::StatusCode, middleware, routing::get};
use honnin_core::{AuditEventKind, Scope, ScopeName, ScopeRef, time::now};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    admin::require_admin,
    audit,
    caller::Caller,
    error::{ADMIN, Error, JSON_BODY, Kind, Method, Operation, Result},
    json::{Body, Field, JsonBody, Text},
    state::{AppState, Shared},
};

/// A registered scope, by name; [`Error::UnknownScope`] when the operator never registered it.
pub(crate) async fn registered_name(state: &AppState, name: &str) -> Result<ScopeName> {
    let name =
        ScopeName::new(name).map_err(|error| Error::malformed(format!("`scope`: {error}")))?;
    if state.store.scopes().await?.contains(&name) { Ok(name) } else { Err(Error::UnknownScope) }
}

/// A registered scope's id, from its name or its `0x` id; [`Error::UnknownScope`] when none is
/// registered so.
pub(crate) async fn registered_id(state: &AppState, text: &str) -> Result<Scope> {
    let wanted = text
        .parse::<ScopeRef>()
        .map_err(|error| Error::malformed(format!("`scope`: a registered name or id: {error}")))?
        .id();
    let known = state.store.scopes().await?.iter().any(|name| name.id() == wanted);
    if known { Ok(wanted) } else { Err(Error::UnknownScope) }
}

/// A scope id as the API writes it: `0x` + 64 hex digits, `None` for the global record.
pub(crate) fn scope_text(scope: Option<&Scope>) -> Option<String> {
    scope.map(Scope::to_string)
}

/// `POST /v1/admin/scopes` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeRequest {
    /// The scope's name: 1 to 64 characters, the first `a-z 0-9`, the rest `a-z 0-9 . -`.
    #[schema(example = "kyc-drop", pattern = "^[a-z0-9][a-z0-9.-]{0,63}$")]
    pub name: String,
}

impl Body for ScopeRequest {
    const FIELDS: &'static [Field] = &[Field::required("name", Text::Short)];
}

/// A registered scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScopeView {
    /// Its name.
    #[schema(example = "kyc-drop")]
    pub name: String,
    /// Its id on chain (`bytes32`): `keccak256("honnin/v1/scope" || 0x00 || name)`.
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    pub id: String,
}

impl From<&ScopeName> for ScopeView {
    fn from(name: &ScopeName) -> Self {
        Self { name: name.to_string(), id: name.id().to_string() }
    }
}

/// `GET /v1/admin/scopes` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScopeList {
    /// Every registered scope, in name order.
    pub scopes: Vec<ScopeView>,
}

/// The routes of this resource, behind the admin gate.
pub(crate) fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/admin/scopes", get(list_scopes).post(register_scope))
        .route_layer(middleware::from_fn_with_state(shared, require_admin))
}

/// What this resource's operations can answer (the OpenAPI error responses).
pub(crate) const OPERATIONS: &[Operation] = &[
    Operation {
        method: Method::Get,
        path: "/v1/admin/scopes",
        errors: &[ADMIN, &[Kind::Unavailable]],
    },
    Operation {
        method: Method::Post,
        path: "/v1/admin/scopes",
        errors: &[ADMIN, JSON_BODY, &[Kind::Unavailable]],
    },
];

/// Registers a scope (a dApp whose records are kept apart). Registering it again changes
/// nothing and answers 200; a scope is never deleted.
#[utoipa::path(
    post,
    path = "/v1/admin/scopes",
    tag = "admin",
    request_body = ScopeRequest,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Registered", body = ScopeView),
        (status = 200, description = "Registered already", body = ScopeView)
    )
)]
pub(crate) async fn register_scope(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    JsonBody(request): JsonBody<ScopeRequest>,
) -> Result<(StatusCode, Json<ScopeView>)> {
    let name = ScopeName::new(request.name)
        .map_err(|error| Error::malformed(format!("`name`: {error}")))?;
    let created = shared.state.store.register_scope(&name, now()).await?;
    if created {
        audit::record(
            &shared.state.audit,
            vec![caller.coded(AuditEventKind::AdminAction, "register_scope")],
        )
        .await?;
    }
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(ScopeView::from(&name))))
}

/// Lists the registered scopes.
#[utoipa::path(
    get,
    path = "/v1/admin/scopes",
    tag = "admin",
    security(("admin_token" = [])),
    responses((status = 200, description = "The registered scopes", body = ScopeList))
)]
pub(crate) async fn list_scopes(State(shared): State<Arc<Shared>>) -> Result<Json<ScopeList>> {
    let scopes = shared.state.store.scopes().await?;
    Ok(Json(ScopeList { scopes: scopes.iter().map(ScopeView::from).collect() }))
}
