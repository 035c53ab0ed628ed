//! Rate-limit settings: a token-bucket [`Rate`] and the per-client [`RateLimits`]. A leaf
//! module: credentials (`auth`, an API key's own rate) and the limiter (`ratelimit`) both use it.

use std::net::IpAddr;

/// A token-bucket rate: `burst` requests at once, refilled at `per_minute` requests a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Sustained requests per minute (at least 1).
    pub per_minute: u32,
    /// Requests allowed at once (the bucket's size, at least 1).
    pub burst: u32,
}

impl Rate {
    /// Whether both numbers are at least 1.
    pub const fn is_valid(&self) -> bool {
        self.per_minute >= 1 && self.burst >= 1
    }

    pub(crate) fn per_second(self) -> f64 {
        f64::from(self.per_minute.max(1)) / 60.0
    }

    pub(crate) fn burst(self) -> f64 {
        f64::from(self.burst.max(1))
    }
}

/// Per-client rate limits on the public endpoints (`/v1/challenges`, `/v1/attestations*`,
/// `/v1/revocations`, `/v1/erasures`); not on `/health`, `/ready`, `/metrics`, `/openapi.json`.
/// Admin requests with a valid token are not limited; refused ones count against the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Whether to limit at all (default `true`).
    pub enabled: bool,
    /// Each anonymous client's rate, keyed by address (default 600/min, burst 100).
    pub anonymous: Rate,
    /// Each API key's rate unless the key sets its own (default 6,000/min, burst 1,000).
    pub api_key: Rate,
    /// Peers whose `X-Forwarded-For` is believed (your load balancer or reverse proxy).
    /// Empty by default: the peer address is the client. This also decides the client address
    /// recorded in the audit log.
    pub trusted_proxies: Vec<IpAddr>,
    /// The most buckets kept in memory (default 100,000, a few MiB).
    pub max_clients: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            anonymous: Rate { per_minute: 600, burst: 100 },
            api_key: Rate { per_minute: 6_000, burst: 1_000 },
            trusted_proxies: Vec::new(),
            max_clients: 100_000,
        }
    }
}

impl RateLimits {
    /// No rate limiting (the other settings keep their defaults).
    pub fn off() -> Self {
        Self { enabled: false, ..Self::default() }
    }
}
