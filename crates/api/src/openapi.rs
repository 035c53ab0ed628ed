//! The OpenAPI description, generated from the handlers' annotations and the body types.

use utoipa::OpenApi;

use crate::{error::Problem, routes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "honnin",
        description = "My Number card (JPKI) → privacy-preserving KYC attestation on an EVM chain. \
Errors are RFC 9457 application/problem+json with a stable `code`; the `type` is \
https://honnin.dev/problems/{code}.",
    ),
    paths(
        routes::create_challenge,
        routes::submit_attestation,
        routes::get_attestation,
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
        routes::Health,
        Problem,
    )),
    tags(
        (name = "attestation", description = "Challenges and attestations"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
struct ApiDoc;

/// The OpenAPI 3.1 document served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
