//! The API's audit events: who asked (request id, client address, API key or admin token id)
//! and what happened, with nothing personal.
//!
//! | request | events |
//! |---|---|
//! | `POST /v1/challenges` | `challenge_issued` (code: the purpose) |
//! | `POST /v1/attestations` | `verification_accepted` (code `attest`, or `replayed` for a re-sent request) and `attestation_queued`, plus `attestation_revoked` (code `rotated`) per wallet rotated out; or `verification_refused` (code: the problem code) |
//! | `POST /v1/revocations` | `verification_accepted` (code `revoke`) and `attestation_revoked` (code `holder`); or `verification_refused` |
//! | `POST /v1/erasures` | `verification_accepted` (code `erase`), `attestation_revoked` (code `erasure`) per attestation, `erasure`; or `verification_refused` |
//! | `GET /v1/admin/audit` | `admin_action` (code `audit_read`) |
//! | `POST /v1/admin/revocations` | `admin_action` (code `revoke_wallet`) and `attestation_revoked` (code: the reason) |
//! | any `/v1/admin/*` refused | `admin_action` (code `unauthorized`) |
//!
//! The events of a request are committed (one group commit) before its answer is sent. When
//! that fails after the work was done, the client gets 503 and retries (attestations answer a
//! re-sent request from the store); a refusal whose audit fails is still answered, the failure
//! logged.

use std::convert::Infallible;

use axum::{
    extract::{FromRequestParts, Request},
    http::request::Parts,
};
use honnin_core::{AttestationId, AuditContext, AuditEventKind, NewAuditEvent, time};

use crate::{Error, REQUEST_ID_HEADER, Result, Shared, auth::Admin, ratelimit::Client};

/// Who asked: the audit context of a request, taken from its request id header, the resolved
/// client and the admin token, if any.
#[derive(Debug, Clone, Default)]
pub(crate) struct Caller(pub(crate) AuditContext);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self(context(&parts.headers, &parts.extensions)))
    }
}

fn context(headers: &axum::http::HeaderMap, extensions: &axum::http::Extensions) -> AuditContext {
    // The request id was checked (or generated) by the outer middleware: safe to record.
    let request_id =
        headers.get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let client = extensions.get::<Client>();
    let admin = extensions.get::<Admin>();
    AuditContext {
        request_id,
        client: client.and_then(|c| c.address).map(|address| address.to_string()),
        api_key_id: admin
            .map(|a| a.id.to_string())
            .or_else(|| client.and_then(|c| c.api_key.as_ref()).map(|(id, _)| id.to_string())),
    }
}

impl Caller {
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
        attestation: AttestationId,
        reason: honnin_core::RevocationReason,
    ) -> NewAuditEvent {
        self.coded(AuditEventKind::AttestationRevoked, reason_name(reason))
            .with_attestation(attestation)
    }
}

/// The snake_case name of a revocation reason (as serde writes it).
pub(crate) fn reason_name(reason: honnin_core::RevocationReason) -> &'static str {
    reason.as_str()
}

/// Records events that must be durable before the answer: a failure is the request's failure
/// (503: the work is done or idempotent, the client retries).
pub(crate) async fn record(shared: &Shared, events: Vec<NewAuditEvent>) -> Result<()> {
    shared.state.audit.record(events).await.map_err(|error| {
        tracing::error!(target: "honnin_api::audit", %error, "audit events not recorded");
        Error::Unavailable(error)
    })
}

/// Records the outcome of a verification request: `accepted` events on success, else a
/// `verification_refused` with the problem code. A failure to record a refusal is logged and
/// the refusal answered; a failure to record success fails the request.
pub(crate) async fn outcome<T>(
    shared: &Shared,
    caller: &Caller,
    outcome: Result<T>,
    accepted: impl FnOnce(&T) -> Vec<NewAuditEvent>,
) -> Result<T> {
    match outcome {
        Ok(value) => {
            record(shared, accepted(&value)).await?;
            Ok(value)
        }
        Err(error) => {
            let refused = caller.coded(AuditEventKind::VerificationRefused, error.code());
            let _ = record(shared, vec![refused]).await;
            Err(error)
        }
    }
}

/// The event for a refused admin request (the admin middleware's 401), built before any await
/// (a request is not `Sync`).
pub(crate) fn admin_refused(request: &Request) -> NewAuditEvent {
    Caller(context(request.headers(), request.extensions()))
        .coded(AuditEventKind::AdminAction, "unauthorized")
}

#[cfg(test)]
mod tests {
    use honnin_core::RevocationReason;

    #[test]
    fn reason_names_are_the_api_names() {
        for code in 1..=6u8 {
            let reason = RevocationReason::try_from(code).unwrap();
            assert_eq!(serde_json::to_value(reason).unwrap(), super::reason_name(reason));
        }
    }
}
