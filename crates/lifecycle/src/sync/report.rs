//! What a cycle did: the [`CycleReport`] and its parts, one per stage.

use std::fmt;

use honnin_core::LinkOutcome;
use time::OffsetDateTime;

/// What one CRL did in a cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrlReport {
    /// Its file or URL.
    pub origin: String,
    /// Entries it lists.
    pub entries: u64,
    /// Certificate rows the store knows among the entries: each entry is looked up globally
    /// and in every registered scope, so one entry counts once per scope its certificate was
    /// used in.
    pub known: u64,
    /// Known certificate rows newly marked revoked (counted as `known`).
    pub newly_revoked: u64,
    /// Attestations revoked (their `revoke` queued).
    pub attestations_revoked: u64,
    /// Attestations that followed a renewed certificate.
    pub attestations_moved: u64,
    /// `superseded` entries left for the next cycle because the link feed could not be read
    /// (applying them without their links would revoke what should follow the new card).
    pub deferred: u64,
    /// Its `thisUpdate`.
    pub this_update: Option<OffsetDateTime>,
    /// Whether it was past its `nextUpdate`.
    pub stale: bool,
}

/// What the OCSP re-check did in a cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecheckReport {
    /// Certificates asked about.
    pub checked: u64,
    /// Answered good.
    pub good: u64,
    /// Answered revoked.
    pub revoked: u64,
    /// Answered unknown.
    pub unknown: u64,
    /// The source failed to answer (network, bad signature, stale).
    pub errors: u64,
    /// Certificates without a readable sealed serial (recorded before sealing, a root no longer
    /// configured, or another pepper): only a CRL can cover them.
    pub unreadable: u64,
    /// Attestations revoked.
    pub attestations_revoked: u64,
    /// Attestations that followed a renewed certificate.
    pub attestations_moved: u64,
}

/// What the link feed did in a cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkReport {
    /// Links hashed from the feed: one per line globally and one per line in every registered
    /// scope.
    pub read: u64,
    /// What the store did with them.
    pub outcome: LinkOutcome,
}

/// What one cycle did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleReport {
    /// The renewal links (`None` without a feed, or when it failed).
    pub links: Option<LinkReport>,
    /// Each CRL (those that failed are in `failures`).
    pub crls: Vec<CrlReport>,
    /// The re-check (`None` when none was configured or due).
    pub recheck: Option<RecheckReport>,
    /// Each failure, `stage: message` (nothing personal).
    pub failures: Vec<String>,
    /// The cycle stopped early, between two batches, because it was asked to (shutdown).
    pub interrupted: bool,
}

impl CycleReport {
    /// Whether every stage succeeded. Individual re-check errors (one certificate the source did
    /// not answer for) count as a failure too: the certificate was not checked.
    pub fn is_success(&self) -> bool {
        !self.interrupted
            && self.failures.is_empty()
            && self.recheck.as_ref().is_none_or(|r| r.errors == 0)
    }

    /// Attestations revoked by CRLs and the re-check together.
    pub fn attestations_revoked(&self) -> u64 {
        self.crls.iter().map(|c| c.attestations_revoked).sum::<u64>()
            + self.recheck.as_ref().map_or(0, |r| r.attestations_revoked)
    }

    /// Attestations that followed a renewed certificate.
    pub fn attestations_moved(&self) -> u64 {
        self.crls.iter().map(|c| c.attestations_moved).sum::<u64>()
            + self.recheck.as_ref().map_or(0, |r| r.attestations_moved)
    }
}

impl fmt::Display for CycleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} attestation(s) revoked, {} moved to a renewed certificate",
            self.attestations_revoked(),
            self.attestations_moved()
        )?;
        if let Some(links) = &self.links {
            write!(f, ", {} new renewal link(s)", links.outcome.linked)?;
        }
        let entries: u64 = self.crls.iter().map(|c| c.entries).sum();
        write!(f, ", {} CRL(s) with {entries} entries", self.crls.len())?;
        if let Some(r) = &self.recheck {
            write!(f, ", {} certificate(s) re-checked ({} errors)", r.checked, r.errors)?;
        }
        if !self.failures.is_empty() {
            write!(f, "; {} failure(s)", self.failures.len())?;
        }
        if self.interrupted {
            f.write_str("; interrupted")?;
        }
        Ok(())
    }
}
