//! Who the client is, and per-client rate limits on the public endpoints.
//!
//! **Identity.** A request with a valid `x-api-key` is the API key's client; otherwise the
//! client is the peer address (IPv6 addresses grouped by /64, which one host usually holds
//! whole). The peer address comes from axum's `ConnectInfo<SocketAddr>`, which the server
//! inserts (`honnin_service::http`). Without it (in-process tests) every
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

use crate::{
    auth::Auth,
    caller::Client,
    error::Error,
    rate::{Rate, RateLimits},
};

/// The header a dApp sends its API key in.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The rate-limit bucket and rate for a client.
fn bucket(
    client: &Client,
    limits: &RateLimits,
    rates: &HashMap<Arc<str>, Rate>,
) -> (BucketKey, Rate) {
    match (&client.api_key, client.address) {
        (Some(id), _) => {
            (BucketKey::Key(id.clone()), rates.get(id).copied().unwrap_or(limits.api_key))
        }
        (None, Some(address)) => (BucketKey::Address(group(address)), limits.anonymous),
        (None, None) => (BucketKey::Unknown, limits.anonymous),
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
    State(limiter): State<Arc<Limiter>>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = resolve(&limiter.auth, &limiter.limits, &request);
    request.extensions_mut().insert(client);
    next.run(request).await
}

fn resolve(auth: &Auth, limits: &RateLimits, request: &Request) -> Client {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    let address = client_address(peer, request.headers(), &limits.trusted_proxies);
    let (api_key, bad_api_key) = match request.headers().get(API_KEY_HEADER) {
        None => (None, false),
        Some(value) => match value.to_str().ok().and_then(|key| auth.api_key(key.trim())) {
            Some(key) => (Some(Arc::from(key.id.as_str())), false),
            None => (None, true),
        },
    };
    Client { address, api_key, bad_api_key }
}

/// The public endpoints' gate: an unknown API key is refused (401 `invalid_api_key`) after it
/// was counted against the client's address; an empty bucket answers 429.
pub(crate) async fn limit(
    State(limiter): State<Arc<Limiter>>,
    request: Request,
    next: Next,
) -> Response {
    let client = request.extensions().get::<Client>().cloned().unwrap_or_default();
    if let Err(error) = limiter.check(&client, Instant::now()) {
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

/// The buckets of one instance, with the settings and credentials that pick a client's bucket.
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: RateLimits,
    /// The configured API keys (to recognise `x-api-key`).
    auth: Auth,
    /// API keys with a rate of their own, by id.
    rates: HashMap<Arc<str>, Rate>,
    buckets: Mutex<Buckets>,
}

#[derive(Debug, Default)]
struct Buckets {
    map: HashMap<BucketKey, (Bucket, Rate)>,
    /// No sweep before this instant (a sweep that freed nothing is not repeated at once).
    next_sweep: Option<Instant>,
}

impl Limiter {
    pub(crate) fn new(limits: RateLimits, auth: Auth) -> Self {
        let rates = auth
            .api_keys
            .iter()
            .filter_map(|key| key.rate.map(|rate| (Arc::from(key.id.as_str()), rate)))
            .collect();
        Self { limits, auth, rates, buckets: Mutex::default() }
    }

    /// Takes one token from the client's bucket, or says how long to wait.
    pub(crate) fn check(&self, client: &Client, now: Instant) -> Result<(), Error> {
        if !self.limits.enabled {
            return Ok(());
        }
        let (mut key, mut rate) = bucket(client, &self.limits, &self.rates);
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
        let limiter = Limiter::new(
            RateLimits { anonymous: Rate { per_minute: 60, burst: 2 }, ..RateLimits::default() },
            Auth::default(),
        );
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
        let limiter = Limiter::new(
            RateLimits {
                anonymous: Rate { per_minute: 60, burst: 1 },
                max_clients: 2,
                ..RateLimits::default()
            },
            Auth::default(),
        );
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
