//! Time helpers: honnin's timestamps are UTC with whole seconds.
//!
//! The chain stores seconds, SQLite stores seconds, and the challenge message prints seconds, so
//! every timestamp the domain creates is truncated to a whole second. A value then survives a
//! round trip through either database unchanged and renders the same message again.

use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};

/// The current time in UTC, truncated to a whole second.
pub fn now() -> OffsetDateTime {
    truncate(OffsetDateTime::now_utc())
}

/// `t` in UTC, truncated to a whole second.
pub fn truncate(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    t.replace_nanosecond(0).unwrap_or(t)
}

/// `t` as a UTC, whole-second timestamp from its Unix time in seconds. `None` when out of range.
pub fn from_unix(secs: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).ok()
}

/// RFC 3339 rendering used in messages: `2026-11-23T11:20:00Z` (UTC, whole seconds).
pub fn rfc3339(t: OffsetDateTime) -> String {
    // Formatting a whole-second UTC time as RFC 3339 cannot fail for years 0..=9999; fall back to
    // the unix time rather than panic for anything stranger.
    truncate(t).format(&Rfc3339).unwrap_or_else(|_| t.unix_timestamp().to_string())
}
