//! Attestations: the attestation transaction, replays and reads.

use alloy_primitives::Address;
use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    Attestation, AttestationId, AttestationReceipt, AttestationStatus, AttestationWallet,
    ChallengeId, NewAttestation, Policy, RequestDigest, Scope, StoreError,
};

/// What [`AttestationStore::record_attestation`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The answer for the client.
    pub receipt: AttestationReceipt,
    /// `true` when this was a re-sent request and `receipt` is the original attestation.
    pub replayed: bool,
    /// Attestations the rotate policy revoked to make room (empty otherwise).
    pub rotated: Vec<AttestationWallet>,
}

impl Recorded {
    /// What recording `attestation` answers: it is pending, and `rotated` made room for it.
    pub fn new(attestation: &NewAttestation, rotated: Vec<AttestationWallet>) -> Self {
        Self {
            receipt: AttestationReceipt {
                attestation_id: attestation.id,
                wallet: attestation.wallet,
                scope: attestation.scope,
                status: AttestationStatus::Pending,
                expires_at: attestation.expires_at,
            },
            replayed: false,
            rotated,
        }
    }
}

/// Recording attestations and reading them back.
#[async_trait]
pub trait AttestationStore: Send + Sync + std::fmt::Debug {
    /// Records a verified attestation under the policy, in one transaction (see
    /// [the attestation transaction](super#the-attestation-transaction)).
    async fn record_attestation(
        &self,
        attestation: &NewAttestation,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<Recorded, StoreError>;

    /// The attestation that answered `challenge`, if its request digest is `digest`: the
    /// answer to a re-sent request whose challenge is already used. `None` when no
    /// attestation answers the challenge or another request did.
    async fn replay(
        &self,
        challenge: &ChallengeId,
        digest: &RequestDigest,
        now: OffsetDateTime,
    ) -> Result<Option<AttestationReceipt>, StoreError>;

    /// An attestation by id.
    async fn attestation(&self, id: &AttestationId) -> Result<Option<Attestation>, StoreError>;

    /// The wallet's most recent attestation in `scope` (`None`: its global record), live if
    /// it has one there.
    async fn attestation_by_wallet(
        &self,
        wallet: Address,
        scope: Option<&Scope>,
    ) -> Result<Option<Attestation>, StoreError>;
}
