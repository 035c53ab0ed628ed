//! Who the client is, and per-client rate limits on the public endpoints.
//!
//! **Identity.** A request with a valid `x-api-key` is the API key's client; otherwise the
//! client is the peer address (IPv6 addresses grouped by /64, which one host usually holds
//! whole). The peer address comes from axum's `ConnectInfo<SocketAddr>`: serve the router with
//! `into_make_service_with_connect_info::<SocketAddr>()`. Without it (in-process tests) every
//! anonymous request shares one `unknown` client. `X-Forwarded-For` is believed only when the
//! peer is one of [`RateLimits::trusted_proxies`]: then the client is the right-most address in
//! it that is not itself a trusted proxy.
//!
//! **Limits.** A token bucket per client: `burst` requests at once, refilled at `per_minute`.
//! An empty bucket answers `429 rate_limited` with `Retry-After` (whole seconds, at least 1).
//! The buckets live **in memory, per instance**: with N instances behind a load balancer a
//! client may get up to N times the rate. Memory is bounded: at [`RateLimits::max_clients`]
//! buckets, idle ones (refilled to full, so forgetting them changes nothing) are dropped; if
//! every bucket is busy, new clients share one overflow bucket until some go idle.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::{IntoResponse as _, Response},
};

use crate::{Error, Shared, auth::Auth};

/// The header a dApp sends its API key in.
pub const API_KEY_HEADER: &str = "x-api-key";

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

    fn per_second(self) -> f64 {
        f64::from(self.per_minute.max(1)) / 60.0
    }

    fn burst(self) -> f64 {
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

/// The client of a request, resolved once by the client middleware and put in the request's
/// extensions: for rate limiting and the audit log.
#[derive(Debug, Clone, Default)]
pub(crate) struct Client {
    /// The client's address (after trusted proxies), when known.
    pub(crate) address: Option<IpAddr>,
    /// The matched API key's id and rate.
    pub(crate) api_key: Option<(Arc<str>, Rate)>,
    /// An `x-api-key` was sent but matches no configured key.
    pub(crate) bad_api_key: bool,
}

impl Client {
    /// The rate-limit bucket and rate for this client.
    fn bucket(&self, limits: &RateLimits) -> (BucketKey, Rate) {
        match (&self.api_key, self.address) {
            (Some((id, rate)), _) => (BucketKey::Key(id.clone()), *rate),
            (None, Some(address)) => (BucketKey::Address(group(address)), limits.anonymous),
            (None, None) => (BucketKey::Unknown, limits.anonymous),
        }
    }
}

/// IPv6 addresses by /64 (one host's usual allocation), IPv4 as is; mapped IPv4 unwrapped.
fn group(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The client address: the peer, or, behind a trusted proxy, the right-most `X-Forwarded-For`
/// entry that is not a trusted proxy.
fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer.map(|p| match p {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(p, IpAddr::V4),
        v4 => v4,
    })?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let mut forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    while let Some(hop) = forwarded.pop() {
        match hop.parse::<IpAddr>() {
            Ok(address) if trusted.contains(&address) => continue,
            Ok(address) => return Some(address),
            // An unparsable hop: stop believing the header there.
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

/// Resolves the [`Client`] of every request (all routes) and puts it in the extensions.
pub(crate) async fn identify(
    State(shared): State<Arc<Shared>>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = resolve(&shared.state.auth, &shared.state.rate_limits, &request);
    request.extensions_mut().insert(client);
    next.run(request).await
}

fn resolve(auth: &Auth, limits: &RateLimits, request: &Request) -> Client {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    let address = client_address(peer, request.headers(), &limits.trusted_proxies);
    let (api_key, bad_api_key) = match request.headers().get(API_KEY_HEADER) {
        None => (None, false),
        Some(value) => match value.to_str().ok().and_then(|key| auth.api_key(key.trim())) {
            Some(key) => {
                (Some((Arc::from(key.id.as_str()), key.rate.unwrap_or(limits.api_key))), false)
            }
            None => (None, true),
        },
    };
    Client { address, api_key, bad_api_key }
}

/// The public endpoints' gate: an unknown API key is refused (401 `invalid_api_key`) after it
/// was counted against the client's address; an empty bucket answers 429.
pub(crate) async fn limit(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let client = request.extensions().get::<Client>().cloned().unwrap_or_default();
    if let Err(error) = shared.limiter.check(&client, Instant::now()) {
        return error.into_response();
    }
    if client.bad_api_key {
        return Error::InvalidApiKey.into_response();
    }
    next.run(request).await
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum BucketKey {
    Key(Arc<str>),
    Address(IpAddr),
    Unknown,
    Overflow,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// Refills for the time since `at`, capped at the burst.
    fn refill(&mut self, rate: Rate, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate.per_second()).min(rate.burst());
        self.at = now;
    }
}

/// The buckets of one instance.
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: RateLimits,
    buckets: Mutex<Buckets>,
}

#[derive(Debug, Default)]
struct Buckets {
    map: HashMap<BucketKey, (Bucket, Rate)>,
    /// No sweep before this instant (a sweep that freed nothing is not repeated at once).
    next_sweep: Option<Instant>,
}

impl Limiter {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Self { limits, buckets: Mutex::default() }
    }

    /// Takes one token from the client's bucket, or says how long to wait.
    pub(crate) fn check(&self, client: &Client, now: Instant) -> Result<(), Error> {
        if !self.limits.enabled {
            return Ok(());
        }
        let (mut key, mut rate) = client.bucket(&self.limits);
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !buckets.map.contains_key(&key) && buckets.map.len() >= self.limits.max_clients.max(1) {
            if buckets.next_sweep.is_none_or(|at| now >= at) {
                let before = buckets.map.len();
                buckets.map.retain(|_, (bucket, rate)| {
                    let mut refilled = *bucket;
                    refilled.refill(*rate, now);
                    refilled.tokens < rate.burst()
                });
                tracing::debug!(
                    target: "honnin_api::ratelimit",
                    dropped = before - buckets.map.len(),
                    kept = buckets.map.len(),
                    "idle rate-limit buckets dropped"
                );
                buckets.next_sweep = Some(now + Duration::from_secs(1));
            }
            if buckets.map.len() >= self.limits.max_clients.max(1) {
                (key, rate) = (BucketKey::Overflow, self.limits.anonymous);
            }
        }
        let (bucket, _) =
            buckets.map.entry(key).or_insert((Bucket { tokens: rate.burst(), at: now }, rate));
        bucket.refill(rate, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - bucket.tokens) / rate.per_second();
        Err(Error::RateLimited { retry_after: (wait.ceil() as u64).max(1) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(address: [u8; 4]) -> Client {
        Client { address: Some(IpAddr::from(address)), ..Client::default() }
    }

    #[test]
    fn buckets_allow_the_burst_then_refill() {
        let limiter = Limiter::new(RateLimits {
            anonymous: Rate { per_minute: 60, burst: 2 },
            ..RateLimits::default()
        });
        let start = Instant::now();
        let a = client([10, 0, 0, 1]);
        assert!(limiter.check(&a, start).is_ok());
        assert!(limiter.check(&a, start).is_ok());
        match limiter.check(&a, start) {
            Err(Error::RateLimited { retry_after }) => assert_eq!(retry_after, 1),
            other => panic!("expected 429, got {other:?}"),
        }
        // Another client has its own bucket.
        assert!(limiter.check(&client([10, 0, 0, 2]), start).is_ok());
        // One token a second.
        assert!(limiter.check(&a, start + Duration::from_millis(1_000)).is_ok());
        assert!(limiter.check(&a, start + Duration::from_millis(1_000)).is_err());
    }

    #[test]
    fn memory_is_bounded_and_idle_buckets_are_dropped() {
        let limiter = Limiter::new(RateLimits {
            anonymous: Rate { per_minute: 60, burst: 1 },
            max_clients: 2,
            ..RateLimits::default()
        });
        let start = Instant::now();
        assert!(limiter.check(&client([1, 1, 1, 1]), start).is_ok());
        assert!(limiter.check(&client([2, 2, 2, 2]), start).is_ok());
        // Full and busy: a third client goes to the overflow bucket (one token), then waits.
        assert!(limiter.check(&client([3, 3, 3, 3]), start).is_ok());
        assert!(limiter.check(&client([4, 4, 4, 4]), start).is_err());
        let len = limiter.buckets.lock().unwrap().map.len();
        assert_eq!(len, 3, "two clients and the overflow bucket");
        // Two seconds later everything refilled: the sweep drops the idle buckets.
        let later = start + Duration::from_secs(2);
        assert!(limiter.check(&client([5, 5, 5, 5]), later).is_ok());
        let map = &limiter.buckets.lock().unwrap().map;
        assert_eq!(map.len(), 1);
        assert!(map.contains_key(&BucketKey::Address(IpAddr::from([5, 5, 5, 5]))));
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.9".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "198.51.100.7, 203.0.113.5, 10.0.0.9".parse().unwrap());
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(client_address(Some(stranger), &headers, &[proxy]), Some(stranger));
        assert_eq!(
            client_address(Some(proxy), &headers, &[proxy]),
            Some("203.0.113.5".parse().unwrap()),
            "the right-most hop that is not a trusted proxy; the rest is client-written"
        );
        assert_eq!(client_address(Some(proxy), &HeaderMap::new(), &[proxy]), Some(proxy));
        assert_eq!(client_address(None, &headers, &[proxy]), None);
        let v6: IpAddr = "2001:db8:1:2:3:4:5:6".parse().unwrap();
        assert_eq!(group(v6), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
    }
}
