//! Per-client rate limits, API keys, trusted proxies, and the chain writer's wake-up.

use std::net::SocketAddr;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use honnin_api::{ApiKey, Auth, Rate, RateLimits, TokenDigest};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{
    Harness, Options, Reply, Served, address, attestation_request, card, json_request, wallet_key,
};

fn peer(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

fn challenge_request() -> Request<Body> {
    json_request(
        "/v1/challenges",
        &serde_json::json!({ "wallet": "0x0000000000000000000000000000000000000001" }),
    )
}

fn with_header(mut request: Request<Body>, name: &'static str, value: &str) -> Request<Body> {
    request.headers_mut().insert(name, value.parse().unwrap());
    request
}

#[track_caller]
fn assert_limited(reply: &Reply) -> u64 {
    reply.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let seconds: u64 =
        reply.headers[header::RETRY_AFTER].to_str().unwrap().parse().expect("whole seconds");
    assert!(seconds >= 1);
    seconds
}

fn limits(anonymous: Rate) -> RateLimits {
    RateLimits { anonymous, ..RateLimits::default() }
}

#[tokio::test]
async fn after_the_burst_a_client_gets_429_with_retry_after() {
    let rate_limits = limits(Rate { per_minute: 1, burst: 3 });
    let h = Harness::with(Options { rate_limits, ..Options::default() }).await;
    let client = peer("192.0.2.1:50000");
    for _ in 0..3 {
        let reply = h.send_from(client, challenge_request()).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    let reply = h.send_from(client, challenge_request()).await;
    // One request a minute: the next token is a minute away.
    assert_eq!(assert_limited(&reply), 60);
    // Every public route shares the client's bucket; another port is the same client.
    let reply = h
        .send_from(
            peer("192.0.2.1:50001"),
            Request::get(format!("/v1/attestations/{}", address(&wallet_key(80))))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_limited(&reply);
    // Another client has its own bucket.
    let reply = h.send_from(peer("192.0.2.2:50000"), challenge_request()).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    // Operations endpoints are not limited.
    for path in ["/health", "/ready", "/metrics", "/openapi.json"] {
        let reply = h.send_from(client, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
    }
    let metrics = h.metrics.encode().unwrap();
    assert!(metrics.contains(r#"honnin_problems_total{code="rate_limited"} 2"#), "{metrics}");
}

#[tokio::test]
async fn api_keys_have_their_own_higher_limit_and_unknown_keys_are_refused() {
    let auth = Auth {
        admin_tokens: vec![],
        api_keys: vec![
            ApiKey {
                id: "dapp-one".into(),
                sha256: TokenDigest::of("key-one"),
                rate: Some(Rate { per_minute: 1, burst: 6 }),
            },
            ApiKey { id: "dapp-two".into(), sha256: TokenDigest::of("key-two"), rate: None },
        ],
    };
    let rate_limits = RateLimits {
        anonymous: Rate { per_minute: 1, burst: 2 },
        api_key: Rate { per_minute: 1, burst: 4 },
        ..RateLimits::default()
    };
    let h = Harness::with(Options { auth, rate_limits, ..Options::default() }).await;
    let client = peer("198.51.100.1:40000");
    let count_until_limited = |key: Option<&'static str>| {
        let h = &h;
        async move {
            for n in 0..100 {
                let mut request = challenge_request();
                if let Some(key) = key {
                    request = with_header(request, "x-api-key", key);
                }
                let reply = h.send_from(client, request).await;
                if reply.status == StatusCode::TOO_MANY_REQUESTS {
                    assert_limited(&reply);
                    return n;
                }
                assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
            }
            panic!("never limited");
        }
    };
    assert_eq!(count_until_limited(None).await, 2, "anonymous: burst 2");
    assert_eq!(count_until_limited(Some("key-one")).await, 6, "its own rate: burst 6");
    assert_eq!(count_until_limited(Some("key-two")).await, 4, "the API-key default: burst 4");

    // An unknown key is refused, from an address with tokens left.
    let reply = h
        .send_from(peer("198.51.100.2:1"), with_header(challenge_request(), "x-api-key", "nope"))
        .await;
    reply.assert_problem(StatusCode::UNAUTHORIZED, "invalid_api_key");
    assert!(reply.headers.contains_key(header::WWW_AUTHENTICATE));
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let rate_limits = RateLimits {
        trusted_proxies: vec!["10.0.0.1".parse().unwrap()],
        ..limits(Rate { per_minute: 1, burst: 1 })
    };
    let h = Harness::with(Options { rate_limits, ..Options::default() }).await;
    let proxy = peer("10.0.0.1:3000");
    let via = |client: &str| with_header(challenge_request(), "x-forwarded-for", client);
    assert_eq!(h.send_from(proxy, via("203.0.113.1")).await.status, StatusCode::CREATED);
    assert_limited(&h.send_from(proxy, via("203.0.113.1")).await);
    // Another client behind the same proxy; a spoofed left-most hop does not matter.
    let reply = h.send_from(proxy, via("203.0.113.1, 203.0.113.2")).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    // An untrusted peer's header is ignored: the peer is the client.
    let stranger = peer("192.0.2.9:1");
    assert_eq!(h.send_from(stranger, via("203.0.113.3")).await.status, StatusCode::CREATED);
    assert_limited(&h.send_from(stranger, via("203.0.113.4")).await);
}

/// The router served as `honnin serve` serves it (with connect info) on a real socket: the
/// peer address reaches the limiter.
#[tokio::test]
async fn limits_apply_on_a_real_socket() {
    let rate_limits = limits(Rate { per_minute: 1, burst: 1 });
    let h = Harness::with(Options { rate_limits, ..Options::default() }).await;
    let served = Served::start(&h.app).await;
    let addr = served.addr;
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let body = r#"{"wallet":"0x0000000000000000000000000000000000000001"}"#;
        let request = format!(
            "POST /v1/challenges HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        statuses.push(response.lines().next().unwrap_or_default().to_owned());
        if response.starts_with("HTTP/1.1 429") {
            assert!(response.to_ascii_lowercase().contains("retry-after: 60"), "{response}");
        }
    }
    assert_eq!(statuses, ["HTTP/1.1 201 Created", "HTTP/1.1 429 Too Many Requests"]);
    served.stop().await;
}

#[tokio::test]
async fn queued_work_wakes_the_chain_writer() {
    use std::sync::atomic::Ordering;
    let h = Harness::new().await;
    let key = wallet_key(81);
    let challenge = h.challenge(address(&key)).await;
    let request = attestation_request(&challenge, &card(&[0x81]), &key);
    assert_eq!(h.post("/v1/attestations", &request).await.status, StatusCode::ACCEPTED);
    assert_eq!(h.wakes.load(Ordering::SeqCst), 1);
    // A re-sent request queues nothing.
    assert_eq!(h.post("/v1/attestations", &request).await.status, StatusCode::ACCEPTED);
    assert_eq!(h.wakes.load(Ordering::SeqCst), 1);
}
