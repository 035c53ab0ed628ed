//! Operations: `/health`, `/ready`, `/metrics`, `/openapi.json`. Not rate limited.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    error::{Error, Kind, Method, Operation, Result},
    state::Shared,
};

/// `/health` and `/ready` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` (the process serves) or `ready` (the database answers too).
    pub status: String,
}

/// The routes of this resource.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

/// What this resource's operations can answer (the OpenAPI error responses).
pub(crate) const OPERATIONS: &[Operation] = &[
    Operation { method: Method::Get, path: "/health", errors: &[] },
    Operation { method: Method::Get, path: "/ready", errors: &[&[Kind::Unavailable]] },
    Operation { method: Method::Get, path: "/metrics", errors: &[] },
    Operation { method: Method::Get, path: "/openapi.json", errors: &[] },
];

/// Liveness: the process serves requests.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "Serving", body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, description = "Ready", body = Health)))]
pub(crate) async fn ready(State(shared): State<Arc<Shared>>) -> Result<Json<Health>> {
    shared.state.store.ping().await.map_err(Error::Unavailable)?;
    Ok(Json(Health { status: "ready".into() }))
}

/// Prometheus metrics in the OpenMetrics text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Metrics", body = String, content_type = "application/openmetrics-text")))]
pub(crate) async fn metrics(State(shared): State<Arc<Shared>>) -> Result<Response> {
    let text = shared.state.metrics.encode().map_err(Error::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        text,
    )
        .into_response())
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 description of this API", content_type = "application/json")))]
pub(crate) async fn openapi(State(shared): State<Arc<Shared>>) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], shared.openapi.clone())
        .into_response()
}

/// Any path no route matches.
pub(crate) async fn not_found() -> Error {
    Error::NotFound
}

/// A known path with a method it does not serve.
pub(crate) async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}
