//! The uniqueness policy and the attestation lifetime.

use std::{fmt, num::NonZeroU32, str::FromStr};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::{Error, Result, StoreError};

/// What happens when a person who already has the maximum number of live attestations
/// attests another wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AtLimit {
    /// Refuse the new attestation (the API answers 409 `wallet_limit_reached`).
    #[default]
    Refuse,
    /// Revoke the person's oldest live attestations (reason [`Rotated`]) in the same
    /// transaction, and queue their on-chain revocation with the new attestation.
    ///
    /// [`Rotated`]: crate::RevocationReason::Rotated
    Rotate,
}

impl AtLimit {
    /// The setting's name in configuration.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Refuse => "refuse",
            Self::Rotate => "rotate",
        }
    }
}

impl fmt::Display for AtLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AtLimit {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "refuse" => Ok(Self::Refuse),
            "rotate" => Ok(Self::Rotate),
            _ => Err(Error::InvalidPolicy { what: "at_limit must be refuse or rotate" }),
        }
    }
}

/// The uniqueness policy and lifetime of attestations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How many live (pending or active, unexpired) attestations one person may hold.
    pub max_active_wallets: NonZeroU32,
    /// What happens at that limit.
    pub at_limit: AtLimit,
    /// The longest an attestation lives; it also never outlives the certificate.
    max_age: Duration,
}

impl Default for Policy {
    /// [`DEFAULT_MAX_ACTIVE_WALLETS`](Self::DEFAULT_MAX_ACTIVE_WALLETS) per person, refuse at
    /// the limit, [`DEFAULT_MAX_AGE`](Self::DEFAULT_MAX_AGE) at most.
    fn default() -> Self {
        Self {
            max_active_wallets: Self::DEFAULT_MAX_ACTIVE_WALLETS,
            at_limit: AtLimit::Refuse,
            max_age: Self::DEFAULT_MAX_AGE,
        }
    }
}

impl Policy {
    /// The default number of live attestations per person: 1.
    pub const DEFAULT_MAX_ACTIVE_WALLETS: NonZeroU32 = NonZeroU32::MIN;

    /// The default maximum age: 365 days.
    pub const DEFAULT_MAX_AGE: Duration = Duration::days(365);

    /// A policy; `max_age` must be at least one minute.
    pub fn new(
        max_active_wallets: NonZeroU32,
        at_limit: AtLimit,
        max_age: Duration,
    ) -> Result<Self> {
        if max_age < Duration::minutes(1) {
            return Err(Error::InvalidPolicy { what: "max_age must be at least one minute" });
        }
        Ok(Self { max_active_wallets, at_limit, max_age })
    }

    /// How many of a person's `live` attestations (pending or active, unexpired) must go to
    /// make room for one more: none under the limit; at it, [`AtLimit::Refuse`] refuses
    /// ([`StoreError::WalletLimitReached`]) and [`AtLimit::Rotate`] names how many of the
    /// oldest are revoked. (Postgres applies the same rule inside `honnin_record_attestation`.)
    pub fn make_room(&self, live: usize) -> std::result::Result<usize, StoreError> {
        let limit = self.max_active_wallets.get();
        let limit_len = usize::try_from(limit).unwrap_or(usize::MAX);
        if live < limit_len {
            return Ok(0);
        }
        match self.at_limit {
            AtLimit::Refuse => Err(StoreError::WalletLimitReached { limit }),
            AtLimit::Rotate => Ok(live + 1 - limit_len),
        }
    }

    /// The maximum age of an attestation.
    pub const fn max_age(&self) -> Duration {
        self.max_age
    }

    /// When an attestation issued at `issued_at` for a certificate valid until `cert_not_after`
    /// expires: the earlier of `notAfter` and `issued_at + max_age`, in whole seconds (rounded
    /// down, so never after `notAfter`).
    pub fn expires_at(
        &self,
        issued_at: OffsetDateTime,
        cert_not_after: OffsetDateTime,
    ) -> OffsetDateTime {
        crate::time::truncate((issued_at + self.max_age).min(cert_not_after))
    }
}
