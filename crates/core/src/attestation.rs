//! Attestations: what honnin records for a wallet, and its life cycle.
//!
//! ```text
//!            confirmed on chain               revoked (holder, operator, certificate,
//! pending ─────────────────────▶ active ────▶ superseded, erasure, rotation)
//!    │                              │
//!    └──── expires_at passes ───────┴──────▶ expired (derived from time)
//! ```
//!
//! `expired` is derived: an attestation stored as pending or active whose `expires_at` has
//! passed *is* expired ([`Attestation::status_at`]), whether or not a job has rewritten the row.

use std::{fmt, str::FromStr};

use alloy_primitives::{Address, B256};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    CertHash, ChallengeId, Error, PersonPseudonym, Policy, RequestDigest, Result, Scope,
    SealedCert, id::random_id, wallet::WalletProof,
};

random_id!(
    /// An attestation's id: 128 random bits, written `at_` + 32 lowercase hex digits.
    AttestationId,
    "at_",
    "attestation"
);

/// Where an attestation is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttestationStatus {
    /// Recorded and queued; not yet confirmed on chain.
    Pending,
    /// Confirmed on chain.
    Active,
    /// Revoked (see [`RevocationReason`]).
    Revoked,
    /// Past its `expires_at`.
    Expired,
}

impl AttestationStatus {
    /// The status name used by the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }

    /// Whether the status counts toward the person's wallet limit (pending or active).
    pub const fn is_live(self) -> bool {
        matches!(self, Self::Pending | Self::Active)
    }

    /// The status at `now` of an attestation stored with this status that expires at
    /// `expires_at`: a live (pending or active) one whose `expires_at` is not after `now` is
    /// [`Expired`](Self::Expired); any other keeps its stored status. The one rule for the
    /// API's answers, replays and every backend.
    pub fn at(self, expires_at: OffsetDateTime, now: OffsetDateTime) -> Self {
        if self.is_live() && expires_at <= now { Self::Expired } else { self }
    }
}

impl fmt::Display for AttestationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AttestationStatus {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(Self::Pending),
            "active" => Ok(Self::Active),
            "revoked" => Ok(Self::Revoked),
            "expired" => Ok(Self::Expired),
            _ => Err(Error::InvalidStatus),
        }
    }
}

/// Why an attestation was revoked. The codes are the registry contract's `uint8` reason codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum RevocationReason {
    /// 1: the holder revoked it, signing with the wallet.
    Holder = 1,
    /// 2: the operator revoked it.
    Operator = 2,
    /// 3: the card's certificate was revoked (CRL or OCSP).
    CertificateRevoked = 3,
    /// 4: superseded (for example by a renewed certificate's attestation).
    Superseded = 4,
    /// 5: the person asked to be forgotten.
    Erasure = 5,
    /// 6: rotated out by the uniqueness policy when the person attested a newer wallet.
    Rotated = 6,
}

impl RevocationReason {
    /// The contract's `uint8` code.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The snake_case name (as serde writes it): the API's, the audit log's and the
    /// metrics' word for the reason.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Holder => "holder",
            Self::Operator => "operator",
            Self::CertificateRevoked => "certificate_revoked",
            Self::Superseded => "superseded",
            Self::Erasure => "erasure",
            Self::Rotated => "rotated",
        }
    }
}

impl TryFrom<u8> for RevocationReason {
    type Error = Error;

    fn try_from(code: u8) -> Result<Self> {
        Ok(match code {
            1 => Self::Holder,
            2 => Self::Operator,
            3 => Self::CertificateRevoked,
            4 => Self::Superseded,
            5 => Self::Erasure,
            6 => Self::Rotated,
            _ => return Err(Error::InvalidRevocationReason { code }),
        })
    }
}

/// The attestation level: how the person was verified. Level 1 is a JPKI user-authentication
/// certificate with a card (or smartphone) signature, the only level honnin issues today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Level(pub u8);

impl Level {
    /// Verified with a JPKI user-authentication certificate and a card signature.
    pub const JPKI_USER_AUTH: Self = Self(1);
}

/// A bitmap of claims the attestation makes, written on chain as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Claims(pub u32);

impl Claims {
    /// Bit 0: a unique person (one person, at most `max_active_wallets` live wallets).
    pub const UNIQUE_PERSON: Self = Self(1);

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

/// A verified attestation request, ready to be recorded by [`crate::AttestationStore::record_attestation`].
///
/// Carries keyed hashes only: the pseudonym and certificate hash come from the [`Pepper`]; the
/// certificate itself never reaches the store.
///
/// [`Pepper`]: crate::Pepper
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttestation {
    /// The new attestation's id.
    pub id: AttestationId,
    /// The consumed challenge it answers (one attestation per challenge).
    pub challenge_id: ChallengeId,
    /// Keyed digest of the request, to recognise a re-sent request.
    pub request_digest: RequestDigest,
    /// The attested wallet.
    pub wallet: Address,
    /// How the wallet proved itself.
    pub wallet_proof: WalletProof,
    /// The scope of the record (the challenge's); `None` for the global record.
    pub scope: Option<Scope>,
    /// The person's pseudonym in the scope ([`Pepper::pseudonym_in`](crate::Pepper::pseudonym_in)).
    pub person: PersonPseudonym,
    /// The certificate's keyed hash in the scope ([`Pepper::cert_hash_in`](crate::Pepper::cert_hash_in)).
    pub cert: CertHash,
    /// The certificate's notAfter (stored with the certificate hash for expiry sweeps).
    pub cert_not_after: OffsetDateTime,
    /// The certificate's (root key id, serial), sealed under the pepper for OCSP re-checks.
    pub sealed: SealedCert,
    /// The attestation level.
    pub level: Level,
    /// The claims bitmap.
    pub claims: Claims,
    /// When it was issued (whole seconds).
    pub issued_at: OffsetDateTime,
    /// When it expires: [`Policy::expires_at`].
    pub expires_at: OffsetDateTime,
}

/// The verified facts [`NewAttestation::new`] needs, besides the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// The consumed challenge.
    pub challenge_id: ChallengeId,
    /// Keyed digest of the request.
    pub request_digest: RequestDigest,
    /// The wallet (the challenge's wallet, proved by the signature).
    pub wallet: Address,
    /// How the wallet proved itself.
    pub wallet_proof: WalletProof,
    /// The scope of the record (the challenge's); `None` for the global record.
    pub scope: Option<Scope>,
    /// The person's pseudonym in the scope.
    pub person: PersonPseudonym,
    /// The certificate's keyed hash in the scope.
    pub cert: CertHash,
    /// The certificate's notAfter.
    pub cert_not_after: OffsetDateTime,
    /// [`Pepper::seal_cert`](crate::Pepper::seal_cert) of the root key id and serial.
    pub sealed: SealedCert,
}

impl NewAttestation {
    /// A new level-1, unique-person attestation issued at `now` (truncated to whole seconds),
    /// expiring at [`Policy::expires_at`].
    pub fn new(request: VerifiedRequest, policy: &Policy, now: OffsetDateTime) -> Self {
        let issued_at = crate::time::truncate(now);
        Self {
            id: AttestationId::random(),
            challenge_id: request.challenge_id,
            request_digest: request.request_digest,
            wallet: request.wallet,
            wallet_proof: request.wallet_proof,
            scope: request.scope,
            person: request.person,
            cert: request.cert,
            cert_not_after: request.cert_not_after,
            sealed: request.sealed,
            level: Level::JPKI_USER_AUTH,
            claims: Claims::UNIQUE_PERSON,
            issued_at,
            expires_at: policy.expires_at(issued_at, request.cert_not_after),
        }
    }
}

impl NewAttestation {
    /// Adds `claims` (proven with extra evidence, e.g. [`Claims::AGE_OVER_18`]) to the
    /// attestation's unique-person claim.
    #[must_use]
    pub const fn with_claims(mut self, claims: Claims) -> Self {
        self.claims = self.claims.union(claims);
        self
    }
}

/// An attestation as the API shows it. Holds no pseudonym or certificate hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    /// Its id.
    pub id: AttestationId,
    /// The attested wallet.
    pub wallet: Address,
    /// The scope of the record; `None` for the global record.
    pub scope: Option<Scope>,
    /// The stored status; see [`status_at`](Self::status_at) for the status to show.
    pub status: AttestationStatus,
    /// The level.
    pub level: Level,
    /// The claims bitmap.
    pub claims: Claims,
    /// When it was issued.
    pub issued_at: OffsetDateTime,
    /// When it expires.
    pub expires_at: OffsetDateTime,
    /// The transaction that wrote it to the chain, once sent.
    pub tx_hash: Option<B256>,
    /// The block that included that transaction, once confirmed.
    pub block_number: Option<u64>,
    /// Why it was revoked, when it was.
    pub revocation_reason: Option<RevocationReason>,
    /// When it was revoked, when it was.
    pub revoked_at: Option<OffsetDateTime>,
}

impl Attestation {
    /// The status at `now`: the stored status, except that a pending or active attestation
    /// whose `expires_at` is not after `now` is [`Expired`](AttestationStatus::Expired).
    pub fn status_at(&self, now: OffsetDateTime) -> AttestationStatus {
        self.status.at(self.expires_at, now)
    }
}

/// An attestation and its wallet: what the store answers for the attestations a change ended
/// (rotated out, revoked, expired, erased), so the caller can audit each one and count it per
/// wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttestationWallet {
    /// The attestation's id.
    pub attestation_id: AttestationId,
    /// Its wallet.
    pub wallet: Address,
}

/// The answer to an attestation request (the API's 202 body), and to its re-sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationReceipt {
    /// The attestation's id.
    pub attestation_id: AttestationId,
    /// The attested wallet.
    pub wallet: Address,
    /// The scope of the record; `None` for the global record.
    pub scope: Option<Scope>,
    /// Its status at the time of the answer (pending for a new one).
    pub status: AttestationStatus,
    /// When it expires.
    pub expires_at: OffsetDateTime,
}
