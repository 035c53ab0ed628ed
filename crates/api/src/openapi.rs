//! The OpenAPI description, generated from the handlers' annotations and the body types.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::{admin, error::Problem, routes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "honnin",
        description = "My Number card (JPKI) → privacy-preserving KYC attestation on an EVM chain. \
Errors are RFC 9457 application/problem+json with a stable `code`; the `type` is \
https://honnin.dev/problems/{code}. Public endpoints are rate limited per client (429 \
`rate_limited` with Retry-After); dApps may send an API key in `x-api-key` for their own limit.",
    ),
    paths(
        routes::create_challenge,
        routes::submit_attestation,
        routes::get_attestation,
        routes::submit_revocation,
        routes::submit_erasure,
        admin::read_audit,
        admin::revoke,
        routes::health,
        routes::ready,
        routes::metrics,
        routes::openapi,
    ),
    components(schemas(
        routes::ChallengeRequest,
        routes::ChallengeResponse,
        routes::AttestationRequest,
        routes::AttestationAccepted,
        routes::AttestationView,
        routes::RevocationRequest,
        routes::RevocationAccepted,
        routes::ErasureRequest,
        routes::ErasureAccepted,
        admin::AuditEventView,
        admin::AuditPage,
        admin::AdminRevocationRequest,
        routes::Health,
        Problem,
    )),
    tags(
        (name = "attestation", description = "Challenges and attestations"),
        (name = "lifecycle", description = "Self-revocation and erasure"),
        (name = "admin", description = "Operator endpoints (bearer token)"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    ),
    modifiers(&AdminToken),
)]
struct ApiDoc;

/// The `admin_token` bearer scheme the admin endpoints require.
struct AdminToken;

impl Modify for AdminToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI 3.1 document served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
