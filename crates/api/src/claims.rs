//! Age claims from the card's signing certificate (署名用電子証明書), sent alongside the
//! user-authentication evidence: verified like it (chain, profile, SHA-256, revocation) under the
//! signature roots, over the same challenge message; the claims are computed at once and the
//! birth date dropped with the verified certificate, before anything is recorded.
//!
//! A signing certificate that does not verify refuses the claims, never the attestation: each
//! refused claim is answered with its code (`claims_refused`). The birth date is never logged,
//! stored, echoed or counted: only the claim bits and refusal codes leave this module.

use std::fmt;

use honnin_core::{AgeClaim, Claims};
use honnin_jpki::{Refusal, SigningVerifier};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    error::{Error, Result},
    state::{Revocation, Shared},
};

const TARGET: &str = "honnin_api::claims";

/// Signing-certificate evidence for age claims: the service's signature roots and the
/// revocation source for them (`AppState::signing`; `None`: age claims are not offered).
#[derive(Clone)]
pub struct SigningEvidence {
    /// The signature roots (J-LIS `sign_ca_*`) and the signing profile.
    pub verifier: SigningVerifier,
    /// Revocation for signing certificates (their CRLs or OCSP responder).
    pub revocation: Revocation,
}

impl fmt::Debug for SigningEvidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningEvidence")
            .field("roots", &self.verifier.anchors().len())
            .field("revocation", &self.revocation)
            .finish()
    }
}

/// One claim that was asked for (signing evidence was sent) and refused, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClaimRefused {
    /// The claim: `age_over_18` or `age_over_20`.
    #[schema(example = "age_over_18")]
    pub claim: String,
    /// Why: a card refusal code of the signing certificate (`untrusted_issuer`, `expired`,
    /// `not_yet_valid`, `revoked`, `revocation_unknown`, `stale_revocation_data`,
    /// `bad_signature`, `weak_hash`, `wrong_policy`, `malformed_birth_date`, … as for the
    /// user-authentication certificate), or `claims_not_offered` when the service has no
    /// signature roots configured.
    #[schema(example = "revoked")]
    pub code: String,
}

/// The code a claim is refused with when the service offers no age claims.
pub(crate) const NOT_OFFERED: &str = "claims_not_offered";

/// The signing certificate and its signature over the challenge message, decoded.
pub(crate) struct SigningSubmission {
    pub(crate) certificate: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

/// What the signing evidence proved: the claim bits, and the claims refused.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) claims: Claims,
    pub(crate) refused: Vec<ClaimRefused>,
}

impl Outcome {
    fn refused(code: &str) -> Self {
        tracing::debug!(target: TARGET, code, "age claims refused");
        Self {
            claims: Claims::default(),
            refused: AgeClaim::ALL
                .iter()
                .map(|claim| ClaimRefused { claim: claim.name().into(), code: code.into() })
                .collect(),
        }
    }
}

/// The age claims `submission` proves at `now` over `message` (no submission: none, nothing
/// refused). Fails only on an internal error; every refusal is in the outcome.
pub(crate) async fn age_claims(
    shared: &Shared,
    submission: Option<SigningSubmission>,
    message: &str,
    now: ::time::OffsetDateTime,
) -> Result<Outcome> {
    let Some(SigningSubmission { certificate, signature }) = submission else {
        return Ok(Outcome::default());
    };
    let Some(signing) = &shared.state.signing else {
        return Ok(Outcome::refused(NOT_OFFERED));
    };
    let verified = {
        let _permit = shared.verify_permits.acquire().await.map_err(Error::internal)?;
        let verifier = signing.verifier.clone();
        let message = message.to_owned();
        tokio::task::spawn_blocking(move || {
            let verified =
                verifier.verify_signing(&certificate, message.as_bytes(), &signature, now)?;
            // The claims are computed here, once; the birth date goes with `verified`.
            let mut malformed = false;
            let claims = AgeClaim::claims(|years| {
                verified.birth_date().has_reached(years, now).unwrap_or_else(|_| {
                    malformed = true;
                    false
                })
            });
            if malformed {
                return Err(Refusal::MalformedBirthDate);
            }
            Ok::<_, Refusal>((verified, claims))
        })
        .await
        .map_err(Error::internal)?
    };
    let (verified, claims) = match verified {
        Ok(verified) => verified,
        Err(refusal) => return Ok(Outcome::refused(refusal.code())),
    };
    let revocation = match &signing.revocation {
        Revocation::Check { source, allow_unknown } => {
            verified.check_revocation(source.as_ref(), now, *allow_unknown).await.map(drop)
        }
        Revocation::Disabled => {
            tracing::debug!(target: TARGET, "signing certificate revocation check disabled (dev mode)");
            Ok(())
        }
    };
    drop(verified);
    match revocation {
        Ok(()) => Ok(Outcome { claims, refused: Vec::new() }),
        Err(refusal) => Ok(Outcome::refused(refusal.code())),
    }
}
