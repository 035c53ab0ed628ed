//! Exclusive leases: one holder across every instance sharing the database.

use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::StoreError;

/// The name of an exclusive lease (one holder across every instance sharing the database).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseName(pub &'static str);

impl LeaseName {
    /// The chain writer's lease: one writer at a time sends transactions.
    pub const CHAIN_WRITER: Self = Self("chain-writer");
    /// The webhook worker's lease: one instance delivers webhooks at a time.
    pub const WEBHOOKS: Self = Self("webhooks");
}

impl fmt::Display for LeaseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// An exclusive lease, held until released or dropped.
///
/// Postgres: a session advisory lock on a dedicated connection (not from the pool); dropping
/// the lease closes the connection and the server releases the lock, also when the process
/// dies. SQLite: a row in a lease table with a holder token and an expiry, extended by
/// [`Lease::is_held`]; dropping it lets it lapse.
#[async_trait]
pub trait Lease: Send + Sync + fmt::Debug {
    /// The lease's name.
    fn name(&self) -> LeaseName;

    /// Whether the lease is still held (checks the connection, or extends a timed lease).
    /// Call it before each unit of exclusive work; stop when it answers `false`. A timed lease
    /// is extended from `now`.
    async fn is_held(&mut self, now: OffsetDateTime) -> Result<bool, StoreError>;

    /// Releases the lease now.
    async fn release(self: Box<Self>) -> Result<(), StoreError>;
}

/// Where leases are taken.
#[async_trait]
pub trait LeaseStore: Send + Sync + fmt::Debug {
    /// Tries to take the exclusive lease `name` at `now` (a timed lease lapsed before `now` is
    /// free); `None` when another holder has it.
    async fn try_lease(
        &self,
        name: LeaseName,
        now: OffsetDateTime,
    ) -> Result<Option<Box<dyn Lease>>, StoreError>;
}
