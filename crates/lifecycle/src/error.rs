//! The crate's error type.

use honnin_core::StoreError;

/// Errors of the `honnin-lifecycle` crate. Messages name origins (paths, URLs) and line
/// numbers, never a serial or anything else read from the data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed (or the audit log's writer is not running).
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A CRL could not be read or did not verify.
    #[error("crl {origin}: {source}")]
    Crl {
        /// The CRL's file or URL.
        origin: String,
        /// What honnin-jpki said.
        #[source]
        source: honnin_jpki::Error,
    },
    /// The renewal link feed could not be read.
    #[error("renewal link feed {origin}: {reason}")]
    LinkFeed {
        /// The feed's file or URL.
        origin: String,
        /// What went wrong (I/O or HTTP; nothing from the feed's content).
        reason: String,
    },
    /// A line of the renewal link feed is not a valid link. The line is never echoed: it
    /// holds serials.
    #[error("renewal link feed {origin}, line {line}: {reason}")]
    MalformedLink {
        /// The feed's file or URL.
        origin: String,
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it, from a fixed vocabulary.
        reason: &'static str,
    },
    /// A renewal link feed URL that is neither https nor plain http to a loopback address.
    #[error("renewal link feed {origin}: only https:// URLs (or http:// to localhost) are allowed")]
    InsecureLinkFeed {
        /// The URL.
        origin: String,
    },
    /// A background task panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(String),
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
