//! Who is asking: the request id, the client (address and API key) and the admin behind a
//! request. A leaf module: the middleware that resolves these (rate limits, the admin gate) and
//! the audit log that records them all import it, and it imports none of them.

use std::{convert::Infallible, net::IpAddr, sync::Arc};

use axum::{
    extract::FromRequestParts,
    http::{Extensions, HeaderMap, request::Parts},
};
use honnin_core::{AuditContext, AuditEventKind, NewAuditEvent, RevocationReason, time};

/// The request-id header: taken from the request when the client sent an acceptable one, else
/// a fresh UUID; echoed on the response and recorded on the request's tracing span.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Set on a response (`true`) when the client's `x-request-id` was refused (it could carry
/// something personal: it is logged) and replaced by a generated one.
pub const REQUEST_ID_REPLACED_HEADER: &str = "x-request-id-replaced";

/// The client of a request, resolved once by the rate-limit middleware and put in the request's
/// extensions: for rate limiting and the audit log.
#[derive(Debug, Clone, Default)]
pub(crate) struct Client {
    /// The client's address (after trusted proxies), when known.
    pub(crate) address: Option<IpAddr>,
    /// The matched API key's id.
    pub(crate) api_key: Option<Arc<str>>,
    /// An `x-api-key` was sent but matches no configured key.
    pub(crate) bad_api_key: bool,
}

/// The admin behind a request, put in its extensions by the admin gate.
#[derive(Debug, Clone)]
pub(crate) struct Admin {
    /// The token's id (the audit log's actor).
    pub(crate) id: Arc<str>,
}

/// Who asked: the audit context of a request, taken from its request id header, the resolved
/// client and the admin token, if any.
#[derive(Debug, Clone, Default)]
pub(crate) struct Caller(pub(crate) AuditContext);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self::of(&parts.headers, &parts.extensions))
    }
}

impl Caller {
    /// The caller of a request with these headers and extensions.
    pub(crate) fn of(headers: &HeaderMap, extensions: &Extensions) -> Self {
        // The request id was checked (or generated) by the outer middleware: safe to record.
        let request_id =
            headers.get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let client = extensions.get::<Client>();
        let admin = extensions.get::<Admin>();
        Self(AuditContext {
            request_id,
            client: client.and_then(|c| c.address).map(|address| address.to_string()),
            api_key_id: admin
                .map(|a| a.id.to_string())
                .or_else(|| client.and_then(|c| c.api_key.as_ref()).map(|id| id.to_string())),
        })
    }

    /// An event of `kind` at now, from this caller.
    pub(crate) fn event(&self, kind: AuditEventKind) -> NewAuditEvent {
        NewAuditEvent::new(kind, time::now()).with_context(self.0.clone())
    }

    /// An event of `kind` with `code`.
    pub(crate) fn coded(&self, kind: AuditEventKind, code: &str) -> NewAuditEvent {
        self.event(kind).with_code(code)
    }

    /// An `attestation_revoked` event for `attestation` with the reason's name.
    pub(crate) fn revoked(
        &self,
        attestation: honnin_core::AttestationId,
        reason: RevocationReason,
    ) -> NewAuditEvent {
        self.coded(AuditEventKind::AttestationRevoked, reason.as_str())
            .with_attestation(attestation)
    }
}
