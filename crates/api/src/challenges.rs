//! `POST /v1/challenges`: a challenge for a wallet, the message both keys sign.

use std::sync::Arc;

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use honnin_core::{Audience, AuditEventKind, Purpose, ScopeName, StoreError, time};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    audit,
    caller::Caller,
    error::{Error, JSON_BODY, Kind, Method, Operation, PUBLIC, Result},
    fields::parse_wallet,
    json::{Body, Field, JsonBody, Text},
    scopes,
    state::Shared,
};

/// `POST /v1/challenges` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    /// The wallet to attest: `0x` and 40 hex digits (any case; the checksum is not required).
    #[schema(
        example = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        pattern = "^0[xX][0-9a-fA-F]{40}$"
    )]
    pub wallet: String,
    /// Who the attestation is for (a dApp's host, origin or slug): 1 to 128 characters of
    /// `A-Z a-z 0-9 . _ : / @ -`, with no individual number anywhere in it. Shown in the
    /// message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "app.example", pattern = "^[A-Za-z0-9._:/@-]{1,128}$")]
    pub audience: Option<String>,
    /// What the challenge is for: `attest` (default), `revoke` (self-revocation, signed by the
    /// wallet) or `erase` (erasure, proved with the card). Part of the signed message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "attest", value_type = Option<PurposeName>)]
    pub purpose: Option<String>,
    /// The scope (a dApp the operator registered, by name) whose record the challenge is for,
    /// for `attest` and `revoke`; absent for the global record. A person may attest a
    /// different wallet in each scope, and no two scopes' records can be joined. Part of the
    /// signed message (`Scope: {name} ({id})`). `erase` takes none: erasure reaches every
    /// scope. An unregistered name is refused (`unknown_scope`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "kyc-drop", pattern = "^[a-z0-9][a-z0-9.-]{0,63}$")]
    pub scope: Option<String>,
}

impl Body for ChallengeRequest {
    const FIELDS: &'static [Field] = &[
        // An address is a hash: its hex holds random digit runs (see `Text::Binary`).
        Field::required("wallet", Text::Binary),
        Field::optional("audience", Text::Short),
        Field::optional("purpose", Text::Short),
        Field::optional("scope", Text::Short),
    ];
}

/// A challenge's purpose (the OpenAPI enum of `ChallengeRequest.purpose`).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // only its schema is used
pub(crate) enum PurposeName {
    /// An attestation.
    Attest,
    /// Self-revocation.
    Revoke,
    /// Erasure.
    Erase,
}

/// `POST /v1/challenges` answer (201).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChallengeResponse {
    /// The challenge id (`ch_` + 32 hex digits), to send back with the signatures.
    #[schema(example = "ch_0123456789abcdef0123456789abcdef", pattern = "^ch_[0-9a-f]{32}$")]
    pub id: String,
    /// The exact text to sign, with the card (RSASSA-PKCS1-v1_5 over SHA-256 of its UTF-8
    /// bytes) and with the wallet (EIP-191 `personal_sign`).
    pub message: String,
    /// When the challenge stops being usable (RFC 3339, UTC).
    #[schema(example = "2026-11-23T11:30:00Z", format = DateTime)]
    pub expires_at: String,
    /// The scope's id (`bytes32` on chain, `0x` + 64 hex digits) when the challenge names a
    /// scope; `null` for the global record.
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    pub scope_id: Option<String>,
}

/// The routes of this resource.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new().route("/v1/challenges", post(create_challenge))
}

/// What this resource's operations can answer (the OpenAPI error responses).
pub(crate) const OPERATIONS: &[Operation] = &[Operation {
    method: Method::Post,
    path: "/v1/challenges",
    errors: &[JSON_BODY, PUBLIC, &[Kind::UnknownScope, Kind::Unavailable]],
}];

/// Issues a challenge for a wallet.
#[utoipa::path(
    post,
    path = "/v1/challenges",
    tag = "attestation",
    request_body = ChallengeRequest,
    responses((status = 201, description = "Challenge issued", body = ChallengeResponse))
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
    let scope = match (request.scope.as_deref(), purpose) {
        (None, _) => None,
        (Some(_), Purpose::Erase) => {
            return Err(Error::malformed(
                "`scope`: erasure reaches every scope; ask for an erase challenge without one",
            ));
        }
        (Some(name), _) => Some(scopes::registered_name(state, name).await?),
    };
    let scope_id = scopes::scope_text(scope.as_ref().map(ScopeName::id).as_ref());
    // A random 128-bit id collides with negligible probability; one retry covers it.
    let mut attempts = 0;
    let challenge = loop {
        let challenge = state.challenges.issue_in(
            purpose,
            wallet,
            audience.clone(),
            scope.clone(),
            time::now(),
        );
        match state.store.insert_challenge(&challenge).await {
            Ok(()) => break challenge,
            Err(StoreError::DuplicateChallenge) if attempts == 0 => attempts += 1,
            Err(other) => return Err(other.into()),
        }
    };
    audit::record(
        &state.audit,
        vec![caller.coded(AuditEventKind::ChallengeIssued, purpose.as_str())],
    )
    .await?;
    state.metrics.challenge_issued();
    Ok((
        StatusCode::CREATED,
        Json(ChallengeResponse {
            id: challenge.id.to_string(),
            message: challenge.message(),
            expires_at: time::rfc3339(challenge.expires_at),
            scope_id,
        }),
    ))
}
