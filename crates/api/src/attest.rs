//! The attestation pipeline, in the order DESIGN.md fixes: consume the challenge → card
//! evidence → revocation → wallet → pseudonym → record under the policy; and the card and
//! wallet checks it shares with revocations and erasures (`crate::lifecycle`).

use base64::{
    Engine as _,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use honnin_core::{
    Address, AttestationId, AttestationReceipt, AttestationStatus, ChallengeId, EoaCheck,
    NewAttestation, Purpose, StoreError, VerifiedRequest, WalletProof, WalletSignature, time,
    wallet::eip191_hash,
};
use honnin_jpki::{Refusal, VerifiedCard, check_revocation};

use crate::{Error, Result, Revocation, Shared};

/// Standard base64, padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A parsed attestation request.
pub(crate) struct Submission {
    pub(crate) challenge_id: ChallengeId,
    pub(crate) certificate: Vec<u8>,
    pub(crate) card_signature: Vec<u8>,
    pub(crate) wallet_signature: WalletSignature,
}

impl Submission {
    /// Parses the request's fields; errors name the field, never its value.
    pub(crate) fn parse(
        challenge_id: &str,
        certificate: &str,
        card_signature: &str,
        wallet_signature: &str,
    ) -> Result<Self> {
        Ok(Self {
            challenge_id: parse_challenge_id(challenge_id)?,
            certificate: decode_base64(certificate, "certificate")?,
            card_signature: decode_base64(card_signature, "card_signature")?,
            wallet_signature: parse_wallet_signature(wallet_signature)?,
        })
    }
}

/// A challenge id field; the error names the field, never its value.
pub(crate) fn parse_challenge_id(text: &str) -> Result<ChallengeId> {
    text.parse().map_err(|_| {
        Error::malformed("`challenge_id` must be `ch_` followed by 32 lowercase hex digits")
    })
}

/// A wallet signature field; the error names the field, never its value.
pub(crate) fn parse_wallet_signature(text: &str) -> Result<WalletSignature> {
    text.parse().map_err(|_| {
        Error::malformed(format!(
            "`wallet_signature` must be 0x-prefixed hex of 1 to {} bytes",
            WalletSignature::MAX_LEN
        ))
    })
}

/// A standard-base64 field (padding optional, non-empty); the error names the field.
pub(crate) fn decode_base64(text: &str, field: &'static str) -> Result<Vec<u8>> {
    match BASE64.decode(text.trim()) {
        Ok(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(Error::malformed(format!("`{field}` must be non-empty standard base64"))),
    }
}

/// The answer: the receipt, whether it answers a re-sent request, and the attestations the
/// rotate policy revoked to make room.
pub(crate) struct Answer {
    pub(crate) receipt: AttestationReceipt,
    pub(crate) replayed: bool,
    pub(crate) rotated: Vec<AttestationId>,
}

/// Runs the pipeline and counts its outcome.
pub(crate) async fn submit(shared: &Shared, submission: Submission) -> Result<Answer> {
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
    let digest = state.pepper.request_digest(
        &submission.challenge_id,
        &submission.certificate,
        &submission.card_signature,
        submission.wallet_signature.as_bytes(),
    );
    let now = time::now();

    // 1. Consume the challenge: one caller of any number racing gets it. A re-sent identical
    //    request finds it used and gets the original answer.
    let challenge =
        match state.store.consume_challenge(&submission.challenge_id, Purpose::Attest, now).await {
            Ok(challenge) => challenge,
            Err(StoreError::ChallengeUsed) => {
                return match state.store.replay(&submission.challenge_id, &digest, now).await? {
                    Some(receipt) => Ok(Answer { receipt, replayed: true, rotated: Vec::new() }),
                    None => Err(Error::ChallengeUsed),
                };
            }
            Err(other) => return Err(other.into()),
        };
    let message = challenge.message();

    // 2–3. Card evidence and revocation, with the wallet's EIP-191 recovery in the same
    //    blocking task. The wallet outcome is acted on in step 4, so refusals keep their order.
    let (card, eoa) = verify_card(
        shared,
        CardEvidence {
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
    let wallet_proof =
        prove_wallet(shared, challenge.wallet, &message, &submission.wallet_signature, eoa).await?;

    // 5. Keyed hashes only from here on.
    let request = VerifiedRequest {
        challenge_id: challenge.id,
        request_digest: digest,
        wallet: challenge.wallet,
        wallet_proof,
        person: state.pepper.pseudonym(card.root_key_id(), card.serial()),
        cert: state.pepper.cert_hash(card.root_key_id(), card.serial()),
        cert_not_after: card.not_after(),
        sealed: state.pepper.seal_cert(card.root_key_id(), card.serial()),
    };
    drop(card);
    let attestation = NewAttestation::new(request, &state.policy, now);

    // 6. Record under the policy (one transaction) and queue it for the chain.
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
    })
}

/// The card's certificate and its signature over a challenge's message, decoded.
pub(crate) struct CardEvidence {
    pub(crate) certificate: Vec<u8>,
    pub(crate) card_signature: Vec<u8>,
}

/// The card path every card-proved request takes (attestations and erasures): the certificate
/// (chain, profile, validity) and the card signature (SHA-256 only) on the blocking pool under
/// the verification permits, then revocation. With `wallet`, the wallet signature's EIP-191
/// recovery runs in the same blocking task (both are public-key operations); its outcome is
/// returned for the caller to act on after the card's refusals.
pub(crate) async fn verify_card(
    shared: &Shared,
    evidence: CardEvidence,
    wallet: Option<(WalletSignature, Address)>,
    message: &str,
    now: ::time::OffsetDateTime,
) -> Result<(VerifiedCard, Option<EoaCheck>)> {
    let (card, eoa) = {
        let _permit = shared.verify_permits.acquire().await.map_err(Error::internal)?;
        let verifier = shared.state.verifier.clone();
        let message = message.to_owned();
        let CardEvidence { certificate, card_signature } = evidence;
        tokio::task::spawn_blocking(move || {
            let card =
                verifier.verify_card(&certificate, message.as_bytes(), &card_signature, now)?;
            let eoa = wallet.map(|(signature, wallet)| signature.check_eoa(&message, wallet));
            Ok::<_, Refusal>((card, eoa))
        })
        .await
        .map_err(Error::internal)?
        .map_err(Error::from_refusal)?
    };
    match &shared.state.revocation {
        Revocation::Check { source, allow_unknown } => {
            check_revocation(&card, source.as_ref(), now, *allow_unknown)
                .await
                .map_err(Error::from_refusal)?;
        }
        Revocation::Disabled => {
            tracing::debug!(target: "honnin_api::attest", "revocation check disabled (dev mode)");
        }
    }
    Ok((card, eoa))
}

/// Recovers the EIP-191 signer of `message` on the blocking pool (for requests without a card).
pub(crate) async fn check_eoa(
    shared: &Shared,
    signature: WalletSignature,
    message: &str,
    wallet: Address,
) -> Result<EoaCheck> {
    let _permit = shared.verify_permits.acquire().await.map_err(Error::internal)?;
    let message = message.to_owned();
    tokio::task::spawn_blocking(move || signature.check_eoa(&message, wallet))
        .await
        .map_err(Error::internal)
}

/// The wallet proof: the EIP-191 outcome when it recovered the wallet, else the contract
/// wallet's ERC-1271 answer (when a checker is configured).
pub(crate) async fn prove_wallet(
    shared: &Shared,
    wallet: Address,
    message: &str,
    signature: &WalletSignature,
    eoa: EoaCheck,
) -> Result<WalletProof> {
    match eoa {
        EoaCheck::Verified => Ok(WalletProof::Eoa),
        EoaCheck::Mismatch { .. } | EoaCheck::NotEoa => match &shared.state.contract_wallets {
            Some(checker) => {
                let accepted = checker
                    .is_valid_signature(wallet, eip191_hash(message), signature.as_bytes())
                    .await
                    .map_err(Error::ContractWalletUnavailable)?;
                if accepted { Ok(WalletProof::Erc1271) } else { Err(Error::WalletMismatch) }
            }
            None => Err(Error::WalletMismatch),
        },
    }
}
