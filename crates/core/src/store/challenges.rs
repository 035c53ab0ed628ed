//! Challenges: issued by the API, consumed once, purged when long expired.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{Challenge, ChallengeId, Purpose, StoreError};

/// Where challenges are kept between issue and use.
#[async_trait]
pub trait ChallengeStore: Send + Sync + std::fmt::Debug {
    /// Stores a freshly issued challenge.
    async fn insert_challenge(&self, challenge: &Challenge) -> Result<(), StoreError>;

    /// Consumes a challenge atomically: exactly one caller, of any number racing, gets it,
    /// and only while `now < expires_at`. Errors: [`StoreError::ChallengeNotFound`],
    /// [`StoreError::ChallengeExpired`], [`StoreError::ChallengeUsed`],
    /// [`StoreError::ChallengePurposeMismatch`] (not consumed).
    async fn consume_challenge(
        &self,
        id: &ChallengeId,
        purpose: Purpose,
        now: OffsetDateTime,
    ) -> Result<Challenge, StoreError>;

    /// Deletes challenges that expired before `before`; returns how many.
    async fn purge_challenges(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}
