//! `POST /v1/erasures`: the person proves with the card (an `erase` challenge) that they want
//! to be forgotten; their live attestations are revoked and what honnin keeps about the card
//! is deleted.

use std::sync::Arc;

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use honnin_core::{
    AttestationStatus, AttestationWallet, AuditEventKind, ChallengeId, Purpose, RevocationReason,
    time,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    audit,
    caller::Caller,
    error::{JSON_BODY, Kind, Method, Operation, PUBLIC, Result},
    evidence,
    fields::{decode_base64, parse_challenge_id},
    json::{Body, Field, JsonBody, Text},
    state::Shared,
};

/// `POST /v1/erasures` body: the person proves with the card that they want to be forgotten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// The id of a challenge issued with purpose `erase`.
    #[schema(pattern = "^ch_[0-9a-f]{32}$")]
    pub challenge_id: String,
    /// The card's JPKI user-authentication certificate: DER, standard base64.
    #[schema(pattern = "^\\s*[A-Za-z0-9+/]+={0,2}\\s*$")]
    pub certificate: String,
    /// The card's signature over the challenge's message: standard base64.
    #[schema(pattern = "^\\s*[A-Za-z0-9+/]+={0,2}\\s*$")]
    pub card_signature: String,
}

impl Body for ErasureRequest {
    const FIELDS: &'static [Field] = &[
        Field::required("challenge_id", Text::Short),
        Field::required("certificate", Text::Binary),
        Field::required("card_signature", Text::Binary),
    ];
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

/// The routes of this resource.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new().route("/v1/erasures", post(submit_erasure))
}

/// What this resource's operations can answer (the OpenAPI error responses).
pub(crate) const OPERATIONS: &[Operation] = &[Operation {
    method: Method::Post,
    path: "/v1/erasures",
    errors: &[
        JSON_BODY,
        PUBLIC,
        &[
            Kind::ChallengePurposeMismatch,
            Kind::ChallengeNotFound,
            Kind::PersonNotFound,
            Kind::ChallengeUsed,
            Kind::ChallengeExpired,
            Kind::CardRefused,
            Kind::CertificateRevoked,
            Kind::RevocationUnavailable,
            Kind::Unavailable,
        ],
    ],
}];

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
    responses((status = 202, description = "Erased; revocations queued", body = ErasureAccepted))
)]
pub(crate) async fn submit_erasure(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    JsonBody(request): JsonBody<ErasureRequest>,
) -> Result<(StatusCode, Json<ErasureAccepted>)> {
    let erased = async {
        let challenge_id = parse_challenge_id(&request.challenge_id)?;
        let evidence = evidence::CardEvidence {
            certificate: decode_base64(&request.certificate, "certificate")?,
            card_signature: decode_base64(&request.card_signature, "card_signature")?,
        };
        drop(request);
        erase(&shared, challenge_id, evidence).await
    }
    .await;
    let revoked = audit::outcome(&shared.state.audit, &caller, erased, |revoked| {
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

/// Erases the person behind a card: the challenge (purpose `erase`) is consumed, the card's
/// evidence goes through the attestation's card path (chain, profile, signature, revocation),
/// then the store revokes their live attestations (queued for the chain) and deletes their
/// pseudonym, certificates and every link from their attestations to them.
async fn erase(
    shared: &Shared,
    challenge_id: ChallengeId,
    evidence: evidence::CardEvidence,
) -> Result<Vec<AttestationWallet>> {
    let state = &shared.state;
    let now = time::now();
    let challenge = state.store.consume_challenge(&challenge_id, Purpose::Erase, now).await?;
    let (card, _) =
        evidence::verify_card(shared, evidence, None, &challenge.message(), now).await?;
    // The person under the global hashes and under every registered scope's: nothing stored
    // joins them, so each is computed here from the card.
    let scopes = state.store.scopes().await?;
    let identities: Vec<_> = std::iter::once(None)
        .chain(scopes.iter().map(|name| Some(name.id())))
        .map(|scope| {
            let (key_id, serial) = (card.root_key_id(), card.serial());
            (
                state.pepper.cert_hash_in(scope.as_ref(), key_id, serial),
                state.pepper.pseudonym_in(scope.as_ref(), key_id, serial),
            )
        })
        .collect();
    drop(card);
    // `StoreError::PersonNotFound` becomes 404 `person_not_found`.
    let revoked = state.store.erase_person(&identities, time::now()).await?;
    if !revoked.is_empty() {
        state.metrics.attestations(AttestationStatus::Revoked, revoked.len() as u64);
        state.queued();
    }
    Ok(revoked)
}
