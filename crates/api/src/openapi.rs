//! The OpenAPI description: paths and bodies generated from the handlers' annotations and the
//! body types; every error response generated from the problem table (`error::Kind::row`) and
//! each resource's `OPERATIONS` (which problems each operation can answer).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        ContentBuilder, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder,
        header::HeaderBuilder,
        path::{Parameter, ParameterBuilder, ParameterIn},
        schema::{AllOfBuilder, Schema, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::{
    admin, attestations, challenges, erasures,
    error::{EVERY_ROUTE, Kind, Method, Operation, PROBLEM_JSON, PUBLIC, Problem},
    operations, revocations, scopes, webhooks,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "honnin",
        description = "My Number card (JPKI) → privacy-preserving KYC attestation on an EVM chain. \
Errors are RFC 9457 application/problem+json with a stable `code`; the `type` is \
https://honnin.dev/problems/{code}. Public endpoints are rate limited per client (429 \
`rate_limited` with Retry-After); dApps may send an API key in `x-api-key` for their own limit. \
A client's `x-request-id` that could carry anything personal is replaced by a generated one \
(the answer then carries `x-request-id-replaced: true`). A response to a request whose body \
was not read says `Connection: close`.",
    ),
    paths(
        challenges::create_challenge,
        attestations::submit_attestation,
        attestations::get_attestation,
        revocations::submit_revocation,
        erasures::submit_erasure,
        admin::read_audit,
        admin::revoke,
        scopes::register_scope,
        scopes::list_scopes,
        webhooks::register,
        webhooks::list,
        webhooks::remove,
        webhooks::rotate,
        webhooks::deliveries,
        webhooks::redeliver,
        operations::health,
        operations::ready,
        operations::metrics,
        operations::openapi,
    ),
    components(schemas(
        challenges::ChallengeRequest,
        challenges::ChallengeResponse,
        attestations::AttestationRequest,
        attestations::AttestationAccepted,
        crate::claims::ClaimRefused,
        attestations::AttestationView,
        revocations::RevocationRequest,
        revocations::RevocationAccepted,
        erasures::ErasureRequest,
        erasures::ErasureAccepted,
        admin::AuditEventView,
        admin::AuditPage,
        admin::AdminRevocationRequest,
        scopes::ScopeRequest,
        scopes::ScopeView,
        scopes::ScopeList,
        webhooks::WebhookEndpointRequest,
        webhooks::WebhookEndpointView,
        webhooks::WebhookEndpointCreated,
        webhooks::WebhookEndpointList,
        webhooks::WebhookDeliveryView,
        webhooks::WebhookDeliveryPage,
        operations::Health,
        Problem,
    )),
    tags(
        (name = "attestation", description = "Challenges and attestations"),
        (name = "lifecycle", description = "Self-revocation and erasure"),
        (name = "admin", description = "Operator endpoints (bearer token)"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    ),
    modifiers(&AdminToken, &ErrorResponses),
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

/// Every operation of every resource, with the problems it can answer.
pub(crate) fn operations() -> impl Iterator<Item = &'static Operation> {
    [
        challenges::OPERATIONS,
        attestations::OPERATIONS,
        revocations::OPERATIONS,
        erasures::OPERATIONS,
        admin::OPERATIONS,
        scopes::OPERATIONS,
        webhooks::OPERATIONS,
        operations::OPERATIONS,
    ]
    .into_iter()
    .flatten()
}

/// The problems `operation` can answer, by status (each status's codes in table order).
pub(crate) fn problems_by_status(operation: &Operation) -> BTreeMap<StatusCode, Vec<Kind>> {
    let mut by_status: BTreeMap<StatusCode, Vec<Kind>> = BTreeMap::new();
    for &kind in operation.errors.iter().copied().flatten().chain(EVERY_ROUTE) {
        let kinds = by_status.entry(kind.row().status).or_default();
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    by_status
}

/// Adds each operation's error responses, generated from the problem table.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for operation in operations() {
            let Some(item) = openapi.paths.paths.get_mut(operation.path) else { continue };
            let op = match operation.method {
                Method::Get => item.get.as_mut(),
                Method::Post => item.post.as_mut(),
                Method::Delete => item.delete.as_mut(),
            };
            let Some(op) = op else { continue };
            let parameters = op.parameters.get_or_insert_with(Vec::new);
            parameters.push(header(
                "x-request-id",
                "The request's id, echoed and logged: 1 to 64 characters of A-Z a-z 0-9 - _ . \
                 holding no individual number, else replaced by a generated one (the answer \
                 then says x-request-id-replaced: true)",
            ));
            if operation.errors.contains(&PUBLIC) {
                parameters.push(header(
                    "x-api-key",
                    "A dApp's API key: its own rate limit; an unknown key is refused (401)",
                ));
            }
            for (status, kinds) in problems_by_status(operation) {
                op.responses
                    .responses
                    .insert(status.as_str().to_owned(), RefOr::T(response(status, &kinds)));
            }
        }
    }
}

/// An optional header parameter.
fn header(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

/// One error response: its codes and titles in the description, a schema that pins `status`
/// and enumerates `code`, and the headers that come with it.
fn response(status: StatusCode, kinds: &[Kind]) -> utoipa::openapi::Response {
    let codes: Vec<&str> = kinds.iter().flat_map(|kind| kind.row().codes.iter().copied()).collect();
    let description = kinds
        .iter()
        .map(|kind| format!("{} ({})", kind.row().codes.join(", "), kind.row().title))
        .collect::<Vec<_>>()
        .join("; ");
    let pinned = ObjectBuilder::new()
        .property("code", ObjectBuilder::new().schema_type(Type::String).enum_values(Some(codes)))
        .property(
            "status",
            ObjectBuilder::new().schema_type(Type::Integer).enum_values(Some([status.as_u16()])),
        );
    let schema = Schema::AllOf(
        AllOfBuilder::new().item(Ref::from_schema_name("Problem")).item(pinned).build(),
    );
    let mut builder = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(schema)).build());
    if status == StatusCode::TOO_MANY_REQUESTS {
        builder = builder.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)))
                .description(Some("Seconds to wait (at least 1)"))
                .build(),
        );
    }
    if status == StatusCode::UNAUTHORIZED {
        builder = builder.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("Bearer (admin routes) or ApiKey (an unknown x-api-key)"))
                .build(),
        );
    }
    builder.build()
}

/// The OpenAPI 3.1 document served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every documented operation has its row in some resource's `OPERATIONS`, and back.
    #[test]
    fn every_operation_has_its_problems() {
        let doc = serde_json::to_value(openapi()).unwrap();
        let mut documented = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.push((method.clone(), path.clone()));
            }
        }
        let mut listed: Vec<(String, String)> =
            operations().map(|op| (op.method.as_str().to_owned(), op.path.to_owned())).collect();
        documented.sort();
        listed.sort();
        assert_eq!(documented, listed);
        for op in operations() {
            let responses = &doc["paths"][op.path][op.method.as_str()]["responses"];
            for (status, kinds) in problems_by_status(op) {
                let codes = &responses[status.as_str()]["content"][PROBLEM_JSON]["schema"]["allOf"]
                    [1]["properties"]["code"]["enum"];
                for kind in kinds {
                    for code in kind.row().codes {
                        assert!(
                            codes.as_array().unwrap().iter().any(|c| c == code),
                            "{} {} {status}: {code}",
                            op.method.as_str(),
                            op.path
                        );
                    }
                }
            }
        }
    }
}
