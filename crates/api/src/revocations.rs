//! `POST /v1/revocations`: the holder revokes their wallet's attestation with a `revoke`
//! challenge signed by the wallet (EIP-191, else ERC-1271).

use std::sync::Arc;

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use honnin_core::{
    Address, AttestationId, AttestationStatus, AuditEventKind, ChallengeId, Purpose,
    RevocationReason, Scope, ScopeName, WalletSignature, time,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    attestations::{ReasonName, StatusName},
    audit,
    caller::Caller,
    error::{Error, JSON_BODY, Kind, Method, Operation, PUBLIC, Result},
    evidence,
    fields::{parse_challenge_id, parse_wallet_signature},
    json::{Body, Field, JsonBody, Text},
    scopes,
    state::Shared,
};

/// `POST /v1/revocations` body: the holder revokes their wallet's attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevocationRequest {
    /// The id of a challenge issued with purpose `revoke` for the wallet.
    #[schema(pattern = "^ch_[0-9a-f]{32}$")]
    pub challenge_id: String,
    /// The wallet's EIP-191 signature over the challenge's message (or an ERC-1271 signature
    /// for a contract wallet): `0x`-prefixed hex.
    #[schema(pattern = "^0x([0-9a-fA-F]{2}){1,4096}$")]
    pub wallet_signature: String,
}

impl Body for RevocationRequest {
    const FIELDS: &'static [Field] = &[
        Field::required("challenge_id", Text::Short),
        Field::required("wallet_signature", Text::Binary),
    ];
}

/// `POST /v1/revocations` and `POST /v1/admin/revocations` answer (202): revoked, and the
/// on-chain `revoke` queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevocationAccepted {
    /// The revoked attestation's id.
    pub attestation_id: String,
    /// The wallet (EIP-55 checksummed).
    pub wallet: String,
    /// Always `revoked`.
    #[schema(value_type = StatusName, example = "revoked")]
    pub status: AttestationStatus,
    /// Why (`holder` for self-revocation; the operator's reason otherwise).
    #[schema(value_type = ReasonName, example = "holder")]
    pub reason: RevocationReason,
    /// The scope id of the revoked record (`0x` + 64 hex digits), `null` for the global record.
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    pub scope: Option<String>,
}

/// The routes of this resource.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new().route("/v1/revocations", post(submit_revocation))
}

/// What this resource's operations can answer (the OpenAPI error responses).
pub(crate) const OPERATIONS: &[Operation] = &[Operation {
    method: Method::Post,
    path: "/v1/revocations",
    errors: &[
        JSON_BODY,
        PUBLIC,
        &[
            Kind::ChallengePurposeMismatch,
            Kind::ChallengeNotFound,
            Kind::NoLiveAttestation,
            Kind::ChallengeUsed,
            Kind::ChallengeExpired,
            Kind::WalletMismatch,
            Kind::ContractWalletUnavailable,
            Kind::Unavailable,
        ],
    ],
}];

/// Revokes the wallet's attestation at its holder's request.
///
/// Ask for a challenge with `purpose: "revoke"`, sign its message with the wallet (EIP-191
/// `personal_sign`, or an ERC-1271 contract wallet's signature), and send it here. The
/// attestation is revoked at once (the API says `revoked`) and the on-chain `revoke` is queued.
#[utoipa::path(
    post,
    path = "/v1/revocations",
    tag = "lifecycle",
    request_body = RevocationRequest,
    responses((status = 202, description = "Revoked; the on-chain revoke is queued", body = RevocationAccepted))
)]
pub(crate) async fn submit_revocation(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    JsonBody(request): JsonBody<RevocationRequest>,
) -> Result<(StatusCode, Json<RevocationAccepted>)> {
    let revoked = async {
        let challenge_id = parse_challenge_id(&request.challenge_id)?;
        let signature = parse_wallet_signature(&request.wallet_signature)?;
        revoke(&shared, challenge_id, signature).await
    }
    .await;
    let (id, wallet, scope) = audit::outcome(&shared.state.audit, &caller, revoked, |(id, ..)| {
        vec![
            caller.coded(AuditEventKind::VerificationAccepted, "revoke").with_attestation(*id),
            caller.revoked(*id, RevocationReason::Holder),
        ]
    })
    .await?;
    let accepted = revocation_accepted(id, wallet, scope.as_ref(), RevocationReason::Holder);
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// The answer to a revocation (self or operator).
pub(crate) fn revocation_accepted(
    id: AttestationId,
    wallet: Address,
    scope: Option<&Scope>,
    reason: RevocationReason,
) -> RevocationAccepted {
    RevocationAccepted {
        attestation_id: id.to_string(),
        wallet: wallet.to_checksum(None),
        status: AttestationStatus::Revoked,
        reason,
        scope: scopes::scope_text(scope),
    }
}

/// Revokes the wallet's live attestation at its holder's request: the challenge (purpose
/// `revoke`) is consumed, then its message's wallet signature is checked (EIP-191, else
/// ERC-1271), then the store revokes and queues the on-chain `revoke`.
async fn revoke(
    shared: &Shared,
    challenge_id: ChallengeId,
    signature: WalletSignature,
) -> Result<(AttestationId, Address, Option<Scope>)> {
    let state = &shared.state;
    let now = time::now();
    let challenge = state.store.consume_challenge(&challenge_id, Purpose::Revoke, now).await?;
    let message = challenge.message();
    let eoa = evidence::check_eoa(shared, signature.clone(), &message, challenge.wallet).await?;
    evidence::prove_wallet(shared, challenge.wallet, &message, &signature, eoa).await?;
    // The challenge's scope: a self-revocation ends the wallet's record there only.
    let scope = challenge.scope.as_ref().map(ScopeName::id);
    let revoked = state
        .store
        .revoke_wallet(challenge.wallet, scope.as_ref(), RevocationReason::Holder, time::now())
        .await?
        .ok_or(Error::NoLiveAttestation)?;
    state.metrics.attestations(AttestationStatus::Revoked, 1);
    state.queued();
    Ok((revoked, challenge.wallet, scope))
}
