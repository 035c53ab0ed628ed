//! `POST /v1/attestations` and `GET /v1/attestations/{wallet}`: the attestation pipeline, in
//! the order DESIGN.md fixes (consume the challenge → card evidence → revocation → wallet →
//! age claims from the signing certificate, when sent → pseudonym → record under the policy),
//! and the wallet's status.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{
        Path, Query, State,
        rejection::{PathRejection, QueryRejection},
    },
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use honnin_core::{
    AttestationId, AttestationReceipt, AttestationStatus, AuditEventKind, ChallengeId, Claims,
    EoaCheck, NewAttestation, Purpose, RevocationReason, ScopeName, StoreError, VerifiedRequest,
    WalletSignature, individual_number, time,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    audit,
    caller::Caller,
    claims::{self, ClaimRefused, SigningSubmission},
    error::{Error, JSON_BODY, Kind, Method, Operation, PUBLIC, Result},
    evidence,
    fields::{decode_base64, parse_challenge_id, parse_wallet, parse_wallet_signature},
    json::{Body, Field, JsonBody, Text},
    scopes,
    state::Shared,
};

/// `POST /v1/attestations` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttestationRequest {
    /// The id of the challenge whose message both keys signed.
    #[schema(pattern = "^ch_[0-9a-f]{32}$")]
    pub challenge_id: String,
    /// The card's JPKI user-authentication certificate: DER, standard base64.
    #[schema(pattern = "^\\s*[A-Za-z0-9+/]+={0,2}\\s*$")]
    pub certificate: String,
    /// The card's signature over the message: standard base64.
    #[schema(pattern = "^\\s*[A-Za-z0-9+/]+={0,2}\\s*$")]
    pub card_signature: String,
    /// The wallet's EIP-191 signature over the message (or an ERC-1271 signature for a
    /// contract wallet): `0x`-prefixed hex.
    #[schema(pattern = "^0x([0-9a-fA-F]{2}){1,4096}$")]
    pub wallet_signature: String,
    /// Optional, for age claims: the card's JPKI signing certificate (署名用電子証明書): DER,
    /// standard base64. Sent together with `signing_signature`. Its birth date is read to
    /// compute `age_over_18` / `age_over_20` and dropped at once: never stored, logged or
    /// echoed. If it does not verify, the claims are refused (`claims_refused`), not the
    /// attestation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^\\s*[A-Za-z0-9+/]+={0,2}\\s*$")]
    pub signing_certificate: Option<String>,
    /// Optional, with `signing_certificate`: the signature made with the card's signing key over
    /// the same message: standard base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^\\s*[A-Za-z0-9+/]+={0,2}\\s*$")]
    pub signing_signature: Option<String>,
}

impl Body for AttestationRequest {
    const FIELDS: &'static [Field] = &[
        Field::required("challenge_id", Text::Short),
        Field::required("certificate", Text::Binary),
        Field::required("card_signature", Text::Binary),
        Field::required("wallet_signature", Text::Binary),
        Field::optional("signing_certificate", Text::Binary),
        Field::optional("signing_signature", Text::Binary),
    ];
}

/// `POST /v1/attestations` answer (202): recorded and queued for the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttestationAccepted {
    /// The attestation id (`at_` + 32 hex digits).
    pub attestation_id: String,
    /// The attested wallet (EIP-55 checksummed).
    pub wallet: String,
    /// `pending` for a new attestation (a re-sent request gets the current status).
    #[schema(value_type = StatusName, example = "pending")]
    pub status: AttestationStatus,
    /// When the attestation expires (RFC 3339, UTC); never after the certificate's notAfter.
    pub expires_at: String,
    /// The claims bitmap recorded (bit 0 = 1: unique person; bit 1 = 2: age over 18; bit 2 =
    /// 4: age over 20, both at the moment of verification).
    pub claims: u32,
    /// The claims asked for (a signing certificate was sent) and refused, with why; empty when
    /// none was refused. Said in the first answer only: a re-sent request gets `claims` and an
    /// empty list.
    pub claims_refused: Vec<ClaimRefused>,
    /// The scope id of the record (`0x` + 64 hex digits: the challenge's scope), `null` for
    /// the global record.
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    pub scope: Option<String>,
}

/// `GET /v1/attestations/{wallet}` answer: the wallet's most recent attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttestationView {
    /// The attestation id.
    pub attestation_id: String,
    /// The wallet (EIP-55 checksummed).
    pub wallet: String,
    /// `pending` (recorded, not yet on chain), `active` (on chain), `revoked` or `expired`.
    #[schema(value_type = StatusName, example = "active")]
    pub status: AttestationStatus,
    /// The attestation level (1: JPKI user-authentication certificate and card signature).
    pub level: u8,
    /// The claims bitmap (bit 0 = 1: unique person; bit 1 = 2: age over 18; bit 2 = 4: age
    /// over 20, at the moment of verification).
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
    #[schema(value_type = Option<ReasonName>)]
    pub revocation_reason: Option<RevocationReason>,
    /// The scope id of the record (`0x` + 64 hex digits), `null` for the global record.
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    pub scope: Option<String>,
}

/// `GET /v1/attestations/{wallet}` query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AttestationParams {
    /// The scope whose record to read, by registered name (`kyc-drop`) or id (`0x` + 64 hex
    /// digits); absent: the wallet's global record. An unregistered scope is refused
    /// (`unknown_scope`).
    scope: Option<String>,
}

/// An attestation's status (the OpenAPI enum).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // only its schema is used
pub(crate) enum StatusName {
    /// Recorded, not yet on chain.
    Pending,
    /// On chain.
    Active,
    /// Revoked.
    Revoked,
    /// Expired.
    Expired,
}

/// Why an attestation was revoked (the OpenAPI enum).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // only its schema is used
pub(crate) enum ReasonName {
    /// By its holder.
    Holder,
    /// By the operator.
    Operator,
    /// The certificate was revoked.
    CertificateRevoked,
    /// Superseded.
    Superseded,
    /// The person asked to be erased.
    Erasure,
    /// Rotated out by a newer attestation of the same person.
    Rotated,
}

/// The routes of this resource.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/attestations", post(submit_attestation))
        .route("/v1/attestations/{wallet}", get(get_attestation))
}

/// What this resource's operations can answer (the OpenAPI error responses).
pub(crate) const OPERATIONS: &[Operation] = &[
    Operation {
        method: Method::Post,
        path: "/v1/attestations",
        errors: &[
            JSON_BODY,
            PUBLIC,
            &[
                Kind::ChallengePurposeMismatch,
                Kind::ChallengeNotFound,
                Kind::ChallengeUsed,
                Kind::WalletAlreadyAttested,
                Kind::WalletLimitReached,
                Kind::ChallengeExpired,
                Kind::CardRefused,
                Kind::CertificateRevoked,
                Kind::WalletMismatch,
                Kind::RevocationUnavailable,
                Kind::ContractWalletUnavailable,
                Kind::Unavailable,
            ],
        ],
    },
    Operation {
        method: Method::Get,
        path: "/v1/attestations/{wallet}",
        // `not_found`: a "wallet" with a `/` in it matches no route.
        errors: &[
            PUBLIC,
            &[
                Kind::MalformedRequest,
                Kind::IndividualNumberForbidden,
                Kind::AttestationNotFound,
                Kind::UnknownScope,
                Kind::NotFound,
                Kind::Unavailable,
            ],
        ],
    },
];

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
    responses((status = 202, description = "Verified, recorded and queued for the chain", body = AttestationAccepted))
)]
pub(crate) async fn submit_attestation(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    JsonBody(request): JsonBody<AttestationRequest>,
) -> Result<Response> {
    let submitted = async {
        let submission = Submission::parse(&request)?;
        drop(request);
        submit(&shared, submission).await
    }
    .await;
    let answer = audit::outcome(&shared.state.audit, &caller, submitted, |answer| {
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
            claims: answer.claims.0,
            claims_refused: answer.claims_refused,
            scope: scopes::scope_text(receipt.scope.as_ref()),
        }),
    )
        .into_response();
    let location = match &receipt.scope {
        None => format!("/v1/attestations/{wallet}"),
        Some(scope) => format!("/v1/attestations/{wallet}?scope={scope}"),
    };
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The wallet's most recent attestation and its status, globally or in a scope.
#[utoipa::path(
    get,
    path = "/v1/attestations/{wallet}",
    tag = "attestation",
    params(
        ("wallet" = String, Path, description = "The wallet: 0x and 40 hex digits", pattern = "^0[xX][0-9a-fA-F]{40}$"),
        AttestationParams,
    ),
    responses((status = 200, description = "The wallet's most recent attestation", body = AttestationView))
)]
pub(crate) async fn get_attestation(
    State(shared): State<Arc<Shared>>,
    wallet: Result<Path<String>, PathRejection>,
    params: Result<Query<AttestationParams>, QueryRejection>,
) -> Result<Json<AttestationView>> {
    // A path that is not UTF-8 once percent-decoded (`%FF`): the same problem as a bad wallet,
    // and axum's rejection (which would log the path) is never rendered.
    let wallet = wallet.map_err(|_| Error::malformed("`wallet` must be 0x and 40 hex digits"))?;
    let wallet = parse_wallet(&wallet.0)?;
    let Query(params) =
        params.map_err(|_| Error::malformed("query: only `scope` (a registered name or id)"))?;
    let scope = match params.scope.as_deref() {
        None => None,
        Some(text) => {
            // Short text: an individual number in the parameter is refused as such.
            individual_number::ensure_absent_in_short_text(text)?;
            Some(scopes::registered_id(&shared.state, text).await?)
        }
    };
    let attestation = shared
        .state
        .store
        .attestation_by_wallet(wallet, scope.as_ref())
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
        scope: scopes::scope_text(attestation.scope.as_ref()),
    }))
}

/// A parsed attestation request.
struct Submission {
    challenge_id: ChallengeId,
    certificate: Vec<u8>,
    card_signature: Vec<u8>,
    wallet_signature: WalletSignature,
    signing: Option<SigningSubmission>,
}

impl Submission {
    /// Parses the request's fields; errors name the field, never its value.
    fn parse(request: &AttestationRequest) -> Result<Self> {
        let signing = match (&request.signing_certificate, &request.signing_signature) {
            (None, None) => None,
            (Some(certificate), Some(signature)) => Some(SigningSubmission {
                certificate: decode_base64(certificate, "signing_certificate")?,
                signature: decode_base64(signature, "signing_signature")?,
            }),
            _ => {
                return Err(Error::malformed(
                    "`signing_certificate` and `signing_signature` go together: send both or neither",
                ));
            }
        };
        Ok(Self {
            challenge_id: parse_challenge_id(&request.challenge_id)?,
            certificate: decode_base64(&request.certificate, "certificate")?,
            card_signature: decode_base64(&request.card_signature, "card_signature")?,
            wallet_signature: parse_wallet_signature(&request.wallet_signature)?,
            signing,
        })
    }
}

/// The answer: the receipt, whether it answers a re-sent request, the attestations the rotate
/// policy revoked to make room, the claims recorded and those refused.
struct Answer {
    receipt: AttestationReceipt,
    replayed: bool,
    rotated: Vec<AttestationId>,
    claims: Claims,
    claims_refused: Vec<ClaimRefused>,
}

/// Runs the pipeline and counts its outcome.
async fn submit(shared: &Shared, submission: Submission) -> Result<Answer> {
    let outcome = run(shared, submission).await;
    let metrics = &shared.state.metrics;
    match &outcome {
        Ok(answer) if answer.replayed => metrics.verification("replayed"),
        Ok(_) => metrics.verification("verified"),
        Err(error) => metrics.verification(error.code()),
    }
    outcome
}

async fn run(shared: &Shared, submission: Submission) -> Result<Answer> {
    let state = &shared.state;
    let signing_fields: Vec<&[u8]> = submission
        .signing
        .as_ref()
        .map(|s| vec![s.certificate.as_slice(), s.signature.as_slice()])
        .unwrap_or_default();
    let digest = state.pepper.request_digest_with(
        &submission.challenge_id,
        &submission.certificate,
        &submission.card_signature,
        submission.wallet_signature.as_bytes(),
        &signing_fields,
    );
    drop(signing_fields);
    let now = time::now();

    // 1. Consume the challenge: one caller of any number racing gets it. A re-sent identical
    //    request finds it used and gets the original answer.
    let challenge =
        match state.store.consume_challenge(&submission.challenge_id, Purpose::Attest, now).await {
            Ok(challenge) => challenge,
            Err(StoreError::ChallengeUsed) => {
                let Some(receipt) =
                    state.store.replay(&submission.challenge_id, &digest, now).await?
                else {
                    return Err(Error::ChallengeUsed);
                };
                let claims = state
                    .store
                    .attestation(&receipt.attestation_id)
                    .await?
                    .map_or(Claims::UNIQUE_PERSON, |a| a.claims);
                return Ok(Answer {
                    receipt,
                    replayed: true,
                    rotated: Vec::new(),
                    claims,
                    claims_refused: Vec::new(),
                });
            }
            Err(other) => return Err(other.into()),
        };
    let message = challenge.message();

    // 2–3. Card evidence and revocation, with the wallet's EIP-191 recovery in the same
    //    blocking task. The wallet outcome is acted on in step 4, so refusals keep their order.
    let (card, eoa) = evidence::verify_card(
        shared,
        evidence::CardEvidence {
            certificate: submission.certificate,
            card_signature: submission.card_signature,
        },
        Some((submission.wallet_signature.clone(), challenge.wallet)),
        &message,
        now,
    )
    .await?;

    // 4. The wallet: EIP-191 first, ERC-1271 when the signature does not recover to it.
    let eoa = eoa.unwrap_or(EoaCheck::NotEoa);
    let wallet_proof = evidence::prove_wallet(
        shared,
        challenge.wallet,
        &message,
        &submission.wallet_signature,
        eoa,
    )
    .await?;

    // 5. Age claims from the signing certificate, when sent: verified over the same message;
    //    a refusal refuses the claims only. The birth date is dropped inside.
    let age = claims::age_claims(shared, submission.signing, &message, now).await?;

    // 6. Keyed hashes only from here on: the person's and the certificate's in the challenge's
    //    scope (the global ones for an unscoped challenge), so no two scopes share a value.
    let scope = challenge.scope.as_ref().map(ScopeName::id);
    let request = VerifiedRequest {
        challenge_id: challenge.id,
        request_digest: digest,
        wallet: challenge.wallet,
        wallet_proof,
        scope,
        person: state.pepper.pseudonym_in(scope.as_ref(), card.root_key_id(), card.serial()),
        cert: state.pepper.cert_hash_in(scope.as_ref(), card.root_key_id(), card.serial()),
        cert_not_after: card.not_after(),
        sealed: state.pepper.seal_cert(card.root_key_id(), card.serial()),
    };
    drop(card);
    let attestation = NewAttestation::new(request, &state.policy, now).with_claims(age.claims);

    // 7. Record under the policy (one transaction) and queue it for the chain.
    let recorded = state.store.record_attestation(&attestation, &state.policy, now).await?;
    if !recorded.replayed {
        state.metrics.attestations(AttestationStatus::Pending, 1);
        state.queued();
    }
    if !recorded.rotated.is_empty() {
        state.metrics.attestations(AttestationStatus::Revoked, recorded.rotated.len() as u64);
    }
    Ok(Answer {
        receipt: recorded.receipt,
        replayed: recorded.replayed,
        rotated: recorded.rotated.iter().map(|r| r.attestation_id).collect(),
        claims: attestation.claims,
        claims_refused: age.refused,
    })
}
