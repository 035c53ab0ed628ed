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

use axum::extract::Request;
use honnin_core::{AuditEventKind, NewAuditEvent, audit::AuditLog};

use crate::{
    caller::Caller,
    error::{Error, Result},
};

/// Records events that must be durable before the answer: a failure is the request's failure
/// (503: the work is done or idempotent, the client retries).
pub(crate) async fn record(audit: &AuditLog, events: Vec<NewAuditEvent>) -> Result<()> {
    audit.record(events).await.map_err(|error| {
        tracing::error!(target: "honnin_api::audit", %error, "audit events not recorded");
        Error::Unavailable(error)
    })
}

/// Records the outcome of a verification request: `accepted` events on success, else a
/// `verification_refused` with the problem code. A failure to record a refusal is logged and
/// the refusal answered; a failure to record success fails the request.
pub(crate) async fn outcome<T>(
    audit: &AuditLog,
    caller: &Caller,
    outcome: Result<T>,
    accepted: impl FnOnce(&T) -> Vec<NewAuditEvent>,
) -> Result<T> {
    match outcome {
        Ok(value) => {
            record(audit, accepted(&value)).await?;
            Ok(value)
        }
        Err(error) => {
            let refused = caller.coded(AuditEventKind::VerificationRefused, error.code());
            let _ = record(audit, vec![refused]).await;
            Err(error)
        }
    }
}

/// The event for a refused admin request (the admin middleware's 401), built before any await
/// (a request is not `Sync`).
pub(crate) fn admin_refused(request: &Request) -> NewAuditEvent {
    Caller::of(request.headers(), request.extensions())
        .coded(AuditEventKind::AdminAction, "unauthorized")
}

#[cfg(test)]
mod tests {
    use honnin_core::RevocationReason;

    #[test]
    fn reason_names_are_the_api_names() {
        for code in 1..=6u8 {
            let reason = RevocationReason::try_from(code).unwrap();
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        }
    }
}
