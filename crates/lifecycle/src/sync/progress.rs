//! What a cycle says while it runs ([`Progress`]: the CLI prints it, the loop logs it).

use std::fmt;

use honnin_core::LinkOutcome;
use time::OffsetDateTime;

/// What a cycle reports while it runs (the CLI prints these; the loop logs them).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Progress {
    /// The renewal link feed was read and hashed.
    LinksRead {
        /// The feed.
        origin: String,
        /// Links in it.
        links: usize,
    },
    /// The renewal links were recorded.
    LinksApplied(LinkOutcome),
    /// A CRL was fetched and verified.
    CrlFetched {
        /// Its file or URL.
        origin: String,
        /// Entries it lists.
        entries: usize,
        /// Its `thisUpdate`.
        this_update: OffsetDateTime,
        /// Its `nextUpdate`.
        next_update: Option<OffsetDateTime>,
        /// Whether it is past its `nextUpdate` (its entries are applied all the same).
        stale: bool,
    },
    /// A batch of a CRL's entries was applied.
    CrlBatch {
        /// The CRL's file or URL.
        origin: String,
        /// Entries applied so far.
        done: usize,
        /// Entries in the CRL.
        total: usize,
    },
    /// A page of live certificates was re-checked.
    RecheckPage {
        /// Certificates re-checked so far.
        checked: u64,
        /// Of those, reported revoked.
        revoked: u64,
    },
    /// A stage failed; the cycle goes on with the next one.
    Failed {
        /// `links`, `crl`, `recheck` or `store`.
        stage: &'static str,
        /// What went wrong (nothing personal).
        error: String,
    },
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LinksRead { origin, links } => {
                write!(f, "renewal links: read {links} from {origin}")
            }
            Self::LinksApplied(o) => write!(
                f,
                "renewal links: {} new, {} already known, {} with an unknown old certificate, {} conflicts",
                o.linked, o.already, o.unknown_old, o.conflicts
            ),
            Self::CrlFetched { origin, entries, this_update, next_update, stale } => {
                write!(
                    f,
                    "crl {origin}: verified, {entries} entries, thisUpdate {}",
                    rfc3339(*this_update)
                )?;
                if let Some(next) = next_update {
                    write!(f, ", nextUpdate {}", rfc3339(*next))?;
                }
                if *stale {
                    f.write_str(" (STALE: past nextUpdate)")?;
                }
                Ok(())
            }
            Self::CrlBatch { origin, done, total } => {
                write!(f, "crl {origin}: applied {done}/{total}")
            }
            Self::RecheckPage { checked, revoked } => {
                write!(f, "re-check: {checked} certificates checked, {revoked} revoked")
            }
            Self::Failed { stage, error } => write!(f, "FAILED ({stage}): {error}"),
        }
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| at.to_string())
}
