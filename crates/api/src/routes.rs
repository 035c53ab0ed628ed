//! Handlers and the request/response bodies they exchange (also the OpenAPI schemas).

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use honnin_core::{
    Address, AttestationStatus, Audience, AuditEventKind, Purpose, RevocationReason, StoreError,
    time,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    Error, Result, Shared,
    attest::{
        self, CardEvidence, Submission, decode_base64, parse_challenge_id, parse_wallet_signature,
    },
    audit::{self, Caller},
    error::Problem,
    extract::JsonBody,
    lifecycle,
};

/// `POST /v1/challenges` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    /// The wallet to attest: `0x` and 40 hex digits (any case; the checksum is not required).
    #[schema(example = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")]
    pub wallet: String,
    /// Who the attestation is for (a dApp's host, origin or slug): 1 to 128 characters of
    /// `A-Z a-z 0-9 . _ : / @ -`. Shown in the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "app.example")]
    pub audience: Option<String>,
    /// What the challenge is for: `attest` (default), `revoke` (self-revocation, signed by the
    /// wallet) or `erase` (erasure, proved with the card). Part of the signed message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "attest")]
    pub purpose: Option<String>,
}

/// `POST /v1/challenges` answer (201).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChallengeResponse {
    /// The challenge id (`ch_` + 32 hex digits), to send back with the signatures.
    #[schema(example = "ch_0123456789abcdef0123456789abcdef")]
    pub id: String,
    /// The exact text to sign, with the card (RSASSA-PKCS1-v1_5 over SHA-256 of its UTF-8
    /// bytes) and with the wallet (EIP-191 `personal_sign`).
    pub message: String,
    /// When the challenge stops being usable (RFC 3339, UTC).
    #[schema(example = "2026-11-23T11:30:00Z")]
    pub expires_at: String,
}

/// `POST /v1/attestations` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttestationRequest {
    /// The id of the challenge whose message both keys signed.
    pub challenge_id: String,
    /// The card's JPKI user-authentication certificate: DER, standard base64.
    pub certificate: String,
    /// The card's signature over the message: standard base64.
    pub card_signature: String,
    /// The wallet's EIP-191 signature over the message (or an ERC-1271 signature for a
    /// contract wallet): `0x`-prefixed hex.
    pub wallet_signature: String,
}

/// `POST /v1/attestations` answer (202): recorded and queued for the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttestationAccepted {
    /// The attestation id (`at_` + 32 hex digits).
    pub attestation_id: String,
    /// The attested wallet (EIP-55 checksummed).
    pub wallet: String,
    /// `pending` for a new attestation (a re-sent request gets the current status).
    #[schema(value_type = String, example = "pending")]
    pub status: AttestationStatus,
    /// When the attestation expires (RFC 3339, UTC); never after the certificate's notAfter.
    pub expires_at: String,
}

/// `GET /v1/attestations/{wallet}` answer: the wallet's most recent attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttestationView {
    /// The attestation id.
    pub attestation_id: String,
    /// The wallet (EIP-55 checksummed).
    pub wallet: String,
    /// `pending` (recorded, not yet on chain), `active` (on chain), `revoked` or `expired`.
    #[schema(value_type = String, example = "active")]
    pub status: AttestationStatus,
    /// The attestation level (1: JPKI user-authentication certificate and card signature).
    pub level: u8,
    /// The claims bitmap (bit 0: unique person).
    pub claims: u32,
    /// When it was issued (RFC 3339, UTC).
    pub issued_at: String,
    /// When it expires (RFC 3339, UTC).
    pub expires_at: String,
    /// The transaction that wrote it to the chain, once sent.
    pub tx_hash: Option<String>,
    /// The block that included it, once confirmed.
    pub block_number: Option<u64>,
    /// Why it was revoked, when it was (`holder`, `operator`, `certificate_revoked`,
    /// `superseded`, `erasure`, `rotated`).
    #[schema(value_type = Option<String>)]
    pub revocation_reason: Option<RevocationReason>,
}

/// `POST /v1/revocations` body: the holder revokes their wallet's attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevocationRequest {
    /// The id of a challenge issued with purpose `revoke` for the wallet.
    pub challenge_id: String,
    /// The wallet's EIP-191 signature over the challenge's message (or an ERC-1271 signature
    /// for a contract wallet): `0x`-prefixed hex.
    pub wallet_signature: String,
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
    #[schema(value_type = String, example = "revoked")]
    pub status: AttestationStatus,
    /// Why (`holder` for self-revocation; the operator's reason otherwise).
    #[schema(value_type = String, example = "holder")]
    pub reason: RevocationReason,
}

/// `POST /v1/erasures` body: the person proves with the card that they want to be forgotten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// The id of a challenge issued with purpose `erase`.
    pub challenge_id: String,
    /// The card's JPKI user-authentication certificate: DER, standard base64.
    pub certificate: String,
    /// The card's signature over the challenge's message: standard base64.
    pub card_signature: String,
}

/// `POST /v1/erasures` answer (202).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErasureAccepted {
    /// Always `true`: the pseudonym, certificate hashes and every link from the person's
    /// attestations to them are deleted.
    pub erased: bool,
    /// How many live attestations were revoked (their on-chain `revoke` is queued).
    pub revoked: usize,
}

/// `/health` and `/ready` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` (the process serves) or `ready` (the database answers too).
    pub status: String,
}

pub(crate) fn parse_wallet(text: &str) -> Result<Address> {
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"));
    match digits {
        Some(d) if d.len() == 40 && d.bytes().all(|b| b.is_ascii_hexdigit()) => {
            text[2..].parse().map_err(|_| Error::malformed("`wallet` must be 0x and 40 hex digits"))
        }
        _ => Err(Error::malformed("`wallet` must be 0x and 40 hex digits")),
    }
}

/// Issues a challenge for a wallet.
#[utoipa::path(
    post,
    path = "/v1/challenges",
    tag = "attestation",
    request_body = ChallengeRequest,
    responses(
        (status = 201, description = "Challenge issued", body = ChallengeResponse),
        (status = 400, description = "malformed_request, individual_number_forbidden", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "body_too_large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported_media_type", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "invalid_api_key", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited (see Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "unavailable, timeout", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create_challenge(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    JsonBody(request): JsonBody<ChallengeRequest>,
) -> Result<(StatusCode, Json<ChallengeResponse>)> {
    let state = &shared.state;
    let wallet = parse_wallet(&request.wallet)?;
    let purpose = match request.purpose.as_deref() {
        None => Purpose::Attest,
        Some(name) => name
            .parse()
            .map_err(|_| Error::malformed("`purpose` must be `attest`, `revoke` or `erase`"))?,
    };
    let audience = request
        .audience
        .map(Audience::new)
        .transpose()
        .map_err(|error| Error::malformed(format!("`audience`: {error}")))?;
    // A random 128-bit id collides with negligible probability; one retry covers it.
    let mut attempts = 0;
    let challenge = loop {
        let challenge = state.challenges.issue(purpose, wallet, audience.clone(), time::now());
        match state.store.insert_challenge(&challenge).await {
            Ok(()) => break challenge,
            Err(StoreError::DuplicateChallenge) if attempts == 0 => attempts += 1,
            Err(other) => return Err(other.into()),
        }
    };
    audit::record(&shared, vec![caller.coded(AuditEventKind::ChallengeIssued, purpose.as_str())])
        .await?;
    state.metrics.challenge_issued();
    Ok((
        StatusCode::CREATED,
        Json(ChallengeResponse {
            id: challenge.id.to_string(),
            message: challenge.message(),
            expires_at: time::rfc3339(challenge.expires_at),
        }),
    ))
}

/// Submits the card and wallet signatures over a challenge's message.
///
/// The challenge is consumed first (single use, unexpired); then the certificate (chain, profile,
/// revocation) and the card signature (SHA-256 only) are checked, then the wallet signature
/// (EIP-191, or ERC-1271 for contract wallets). A re-sent identical request gets the same answer.
#[utoipa::path(
    post,
    path = "/v1/attestations",
    tag = "attestation",
    request_body = AttestationRequest,
    responses(
        (status = 202, description = "Verified, recorded and queued for the chain", body = AttestationAccepted),
        (status = 400, description = "malformed_request, individual_number_forbidden, challenge_purpose_mismatch", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "challenge_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "challenge_used, wallet_already_attested, wallet_limit_reached", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "challenge_expired", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "body_too_large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported_media_type", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "invalid_api_key", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited (see Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "wallet_mismatch, revoked, or a card refusal: malformed_certificate, untrusted_issuer, expired, not_yet_valid, wrong_key_usage, wrong_extended_key_usage, wrong_policy, unsupported_critical_extension, unsupported_key, unsupported_signature_algorithm, weak_hash, malformed_signature, bad_signature", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "revocation_unknown, stale_revocation_data, contract_wallet_unavailable, unavailable, timeout", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn submit_attestation(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    JsonBody(request): JsonBody<AttestationRequest>,
) -> Result<Response> {
    let submitted = async {
        let submission = Submission::parse(
            &request.challenge_id,
            &request.certificate,
            &request.card_signature,
            &request.wallet_signature,
        )?;
        drop(request);
        attest::submit(&shared, submission).await
    }
    .await;
    let answer = audit::outcome(&shared, &caller, submitted, |answer| {
        let id = answer.receipt.attestation_id;
        if answer.replayed {
            return vec![
                caller.coded(AuditEventKind::VerificationAccepted, "replayed").with_attestation(id),
            ];
        }
        let mut events = vec![
            caller.coded(AuditEventKind::VerificationAccepted, "attest").with_attestation(id),
            caller.event(AuditEventKind::AttestationQueued).with_attestation(id),
        ];
        events.extend(answer.rotated.iter().map(|r| caller.revoked(*r, RevocationReason::Rotated)));
        events
    })
    .await?;
    let receipt = answer.receipt;
    let wallet = receipt.wallet.to_checksum(None);
    let mut response = (
        StatusCode::ACCEPTED,
        Json(AttestationAccepted {
            attestation_id: receipt.attestation_id.to_string(),
            wallet: wallet.clone(),
            status: receipt.status,
            expires_at: time::rfc3339(receipt.expires_at),
        }),
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/attestations/{wallet}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

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
    responses(
        (status = 202, description = "Revoked; the on-chain revoke is queued", body = RevocationAccepted),
        (status = 400, description = "malformed_request, individual_number_forbidden, challenge_purpose_mismatch", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "invalid_api_key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "challenge_not_found, no_live_attestation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "challenge_used", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "challenge_expired", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "wallet_mismatch", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited (see Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "contract_wallet_unavailable, unavailable, timeout", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn submit_revocation(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    JsonBody(request): JsonBody<RevocationRequest>,
) -> Result<(StatusCode, Json<RevocationAccepted>)> {
    let revoked = async {
        let challenge_id = parse_challenge_id(&request.challenge_id)?;
        let signature = parse_wallet_signature(&request.wallet_signature)?;
        lifecycle::revoke(&shared, challenge_id, signature).await
    }
    .await;
    let (id, wallet) = audit::outcome(&shared, &caller, revoked, |(id, _)| {
        vec![
            caller.coded(AuditEventKind::VerificationAccepted, "revoke").with_attestation(*id),
            caller.revoked(*id, RevocationReason::Holder),
        ]
    })
    .await?;
    Ok((StatusCode::ACCEPTED, Json(revocation_accepted(id, wallet, RevocationReason::Holder))))
}

/// Revokes the person's attestations and erases what honnin keeps about their card.
///
/// Ask for a challenge with `purpose: "erase"` (any of the person's wallets), sign its message
/// with the card, and send the certificate and signature here. The card's evidence is checked
/// as for an attestation (chain, profile, SHA-256 signature, revocation). Then the person's
/// live attestations are revoked (on-chain `revoke` queued), and their pseudonym, certificate
/// hashes and every link from their attestations to them are deleted.
#[utoipa::path(
    post,
    path = "/v1/erasures",
    tag = "lifecycle",
    request_body = ErasureRequest,
    responses(
        (status = 202, description = "Erased; revocations queued", body = ErasureAccepted),
        (status = 400, description = "malformed_request, individual_number_forbidden, challenge_purpose_mismatch", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "invalid_api_key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "challenge_not_found, person_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "challenge_used", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "challenge_expired", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "revoked, or a card refusal (as for attestations)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited (see Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "revocation_unknown, stale_revocation_data, unavailable, timeout", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn submit_erasure(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    JsonBody(request): JsonBody<ErasureRequest>,
) -> Result<(StatusCode, Json<ErasureAccepted>)> {
    let erased = async {
        let challenge_id = parse_challenge_id(&request.challenge_id)?;
        let evidence = CardEvidence {
            certificate: decode_base64(&request.certificate, "certificate")?,
            card_signature: decode_base64(&request.card_signature, "card_signature")?,
        };
        drop(request);
        lifecycle::erase(&shared, challenge_id, evidence).await
    }
    .await;
    let revoked = audit::outcome(&shared, &caller, erased, |revoked| {
        let mut events = vec![caller.coded(AuditEventKind::VerificationAccepted, "erase")];
        events.extend(
            revoked.iter().map(|r| caller.revoked(r.attestation_id, RevocationReason::Erasure)),
        );
        events.push(caller.event(AuditEventKind::Erasure));
        events
    })
    .await?;
    Ok((StatusCode::ACCEPTED, Json(ErasureAccepted { erased: true, revoked: revoked.len() })))
}

pub(crate) fn revocation_accepted(
    id: honnin_core::AttestationId,
    wallet: Address,
    reason: RevocationReason,
) -> RevocationAccepted {
    RevocationAccepted {
        attestation_id: id.to_string(),
        wallet: wallet.to_checksum(None),
        status: AttestationStatus::Revoked,
        reason,
    }
}

/// The wallet's most recent attestation and its status.
#[utoipa::path(
    get,
    path = "/v1/attestations/{wallet}",
    tag = "attestation",
    params(("wallet" = String, Path, description = "The wallet: 0x and 40 hex digits")),
    responses(
        (status = 200, description = "The wallet's most recent attestation", body = AttestationView),
        (status = 400, description = "malformed_request", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "attestation_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "invalid_api_key", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited (see Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "unavailable, timeout", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_attestation(
    State(shared): State<Arc<Shared>>,
    Path(wallet): Path<String>,
) -> Result<Json<AttestationView>> {
    let wallet = parse_wallet(&wallet)?;
    let attestation = shared
        .state
        .store
        .attestation_by_wallet(wallet)
        .await?
        .ok_or(Error::AttestationNotFound)?;
    Ok(Json(AttestationView {
        attestation_id: attestation.id.to_string(),
        wallet: attestation.wallet.to_checksum(None),
        status: attestation.status_at(time::now()),
        level: attestation.level.0,
        claims: attestation.claims.0,
        issued_at: time::rfc3339(attestation.issued_at),
        expires_at: time::rfc3339(attestation.expires_at),
        tx_hash: attestation.tx_hash.map(|hash| hash.to_string()),
        block_number: attestation.block_number,
        revocation_reason: attestation.revocation_reason,
    }))
}

/// Liveness: the process serves requests.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "Serving", body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
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
