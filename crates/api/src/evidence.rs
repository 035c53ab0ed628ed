//! The proofs card-proved and wallet-proved requests share (attestations, revocations,
//! erasures): the card's evidence (certificate, signature, revocation) on the blocking pool,
//! and the wallet's signature (EIP-191, else ERC-1271).

use honnin_core::{Address, EoaCheck, WalletProof, WalletSignature, wallet::eip191_hash};
use honnin_jpki::{Refusal, VerifiedCard, check_revocation};

use crate::{
    error::{Error, Result},
    state::{Revocation, Shared},
};

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
