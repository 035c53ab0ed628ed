//! Self-revocation (signed by the wallet) and erasure (proved with the card).

use honnin_core::{
    AttestationId, AttestationWallet, ChallengeId, Purpose, RevocationReason, WalletSignature, time,
};

use crate::{
    Error, Result, Shared,
    attest::{self, CardEvidence},
};

/// Revokes the wallet's live attestation at its holder's request: the challenge (purpose
/// `revoke`) is consumed, then its message's wallet signature is checked (EIP-191, else
/// ERC-1271), then the store revokes and queues the on-chain `revoke`.
pub(crate) async fn revoke(
    shared: &Shared,
    challenge_id: ChallengeId,
    signature: WalletSignature,
) -> Result<(AttestationId, honnin_core::Address)> {
    let state = &shared.state;
    let now = time::now();
    let challenge = state.store.consume_challenge(&challenge_id, Purpose::Revoke, now).await?;
    let message = challenge.message();
    let eoa = attest::check_eoa(shared, signature.clone(), &message, challenge.wallet).await?;
    attest::prove_wallet(shared, challenge.wallet, &message, &signature, eoa).await?;
    let revoked = state
        .store
        .revoke_wallet(challenge.wallet, RevocationReason::Holder, time::now())
        .await?
        .ok_or(Error::NoLiveAttestation)?;
    state.metrics.attestations(honnin_core::AttestationStatus::Revoked, 1);
    state.queued();
    Ok((revoked, challenge.wallet))
}

/// Erases the person behind a card: the challenge (purpose `erase`) is consumed, the card's
/// evidence goes through the attestation's card path (chain, profile, signature, revocation),
/// then the store revokes their live attestations (queued for the chain) and deletes their
/// pseudonym, certificates and every link from their attestations to them.
pub(crate) async fn erase(
    shared: &Shared,
    challenge_id: ChallengeId,
    evidence: CardEvidence,
) -> Result<Vec<AttestationWallet>> {
    let state = &shared.state;
    let now = time::now();
    let challenge = state.store.consume_challenge(&challenge_id, Purpose::Erase, now).await?;
    let (card, _) = attest::verify_card(shared, evidence, None, &challenge.message(), now).await?;
    let cert = state.pepper.cert_hash(card.root_key_id(), card.serial());
    let person = state.pepper.pseudonym(card.root_key_id(), card.serial());
    drop(card);
    // `StoreError::PersonNotFound` becomes 404 `person_not_found`.
    let revoked = state.store.erase_person(&cert, &person, time::now()).await?;
    if !revoked.is_empty() {
        state.metrics.attestations(honnin_core::AttestationStatus::Revoked, revoked.len() as u64);
        state.queued();
    }
    Ok(revoked)
}

/// Revokes a wallet's live attestation for the operator.
pub(crate) async fn operator_revoke(
    shared: &Shared,
    wallet: honnin_core::Address,
    reason: RevocationReason,
) -> Result<AttestationId> {
    let state = &shared.state;
    let revoked = state
        .store
        .revoke_wallet(wallet, reason, time::now())
        .await?
        .ok_or(Error::NoLiveAttestation)?;
    state.metrics.attestations(honnin_core::AttestationStatus::Revoked, 1);
    state.queued();
    Ok(revoked)
}
