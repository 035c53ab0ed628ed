//! The property: a valid individual number embedded at a random position, with random
//! neighbours, separators, full-width digits and JSON escapes, in every short field and in the
//! logged header (`x-request-id`) of every route is refused (the header replaced), and is found
//! neither in the TRACE logs nor in a dump of the database, on both backends.

use axum::{
    body::Body,
    http::{HeaderValue, Request, StatusCode, header},
};
use honnin_api::{AdminToken, Auth, TokenDigest};
use honnin_core::individual_number::check_digit;
use proptest::{
    prelude::*,
    test_runner::{Config, TestRunner},
};

use crate::support::{Db, Harness, Options, Reply, address, capture_logs, wallet_key};

const TOKEN: &str = "numbers-admin-token";
const CASES: u32 = 16;

/// A valid individual number and how it is written into a field.
#[derive(Debug, Clone)]
struct Embedding {
    digits: [u8; 12],
    /// After each of the first eleven digits: what separates it from the next ("" mostly).
    separators: Vec<&'static str>,
    /// Per digit: written full-width (U+FF10–FF19).
    full_width: [bool; 12],
    /// Per digit: written as a JSON `\uXXXX` escape (bodies only).
    escaped: [bool; 12],
    before: String,
    after: String,
    /// Where in the field's ordinary value it goes (a fraction of its length).
    position: f64,
}

impl Embedding {
    fn plain(&self) -> String {
        self.digits.iter().map(|d| char::from(b'0' + d)).collect()
    }

    fn digit(&self, i: usize) -> char {
        let d = u32::from(self.digits[i]);
        let base = if self.full_width[i] { 0xFF10 } else { u32::from(b'0') };
        char::from_u32(base + d).unwrap_or('0')
    }

    /// The number with its neighbours, as text (escapes not applied).
    fn text(&self) -> String {
        let mut out = self.before.clone();
        for i in 0..12 {
            out.push(self.digit(i));
            if i < 11 {
                out.push_str(self.separators[i]);
            }
        }
        out.push_str(&self.after);
        out
    }

    /// The same inside a JSON string literal, with the chosen digits escaped.
    fn json(&self) -> String {
        let mut out = self.before.clone();
        for i in 0..12 {
            let c = self.digit(i);
            if self.escaped[i] {
                out.push_str(&format!("\\u{:04X}", u32::from(c)));
            } else {
                out.push(c);
            }
            if i < 11 {
                out.push_str(self.separators[i]);
            }
        }
        out.push_str(&self.after);
        out
    }

    /// `base` with the number (text form, or JSON form) inserted at the position.
    fn embedded_in(&self, base: &str, json: bool) -> String {
        let at = ((base.len() as f64) * self.position) as usize;
        let at = (0..=at.min(base.len())).rev().find(|&i| base.is_char_boundary(i)).unwrap_or(0);
        let number = if json { self.json() } else { self.text() };
        format!("{}{number}{}", &base[..at], &base[at..])
    }
}

const SEPARATORS: &[&str] =
    &["", "", "", "", "-", " ", ".", "_", "/", ":", "\u{3000}", "\u{2010}", "\u{FF0D}"];
const NEIGHBOURS: &[char] = &['a', 'Z', 'x', '0', '7', '_', '.', '/', ':', '-', '@', 'ｕ', '番'];

fn embedding() -> impl Strategy<Value = Embedding> {
    (
        prop::array::uniform11(0u8..10),
        prop::collection::vec(prop::sample::select(SEPARATORS), 11),
        prop::array::uniform12(prop::bool::weighted(0.2)),
        prop::array::uniform12(prop::bool::weighted(0.3)),
        prop::collection::vec(prop::sample::select(NEIGHBOURS), 0..5),
        prop::collection::vec(prop::sample::select(NEIGHBOURS), 0..5),
        0.0..=1.0f64,
    )
        .prop_map(|(first, separators, full_width, escaped, before, after, position)| {
            let mut digits = [0u8; 12];
            digits[..11].copy_from_slice(&first);
            digits[11] = check_digit(&first).unwrap_or(0);
            Embedding {
                digits,
                separators,
                full_width,
                escaped,
                before: before.into_iter().collect(),
                after: after.into_iter().collect(),
                position,
            }
        })
}

fn auth() -> Auth {
    Auth {
        admin_tokens: vec![AdminToken { id: "ops".into(), sha256: TokenDigest::of(TOKEN) }],
        api_keys: vec![],
    }
}

/// A request of every route, with `body` (JSON) when it takes one.
fn every_route(wallet: &str, challenge_id: &str) -> Vec<(&'static str, String, Option<String>)> {
    let wallet_body = serde_json::json!({ "wallet": wallet }).to_string();
    let attestation = serde_json::json!({
        "challenge_id": challenge_id, "certificate": "AAAA", "card_signature": "AAAA",
        "wallet_signature": "0x00",
    })
    .to_string();
    vec![
        ("GET", "/health".into(), None),
        ("GET", "/ready".into(), None),
        ("GET", "/metrics".into(), None),
        ("GET", "/openapi.json".into(), None),
        ("POST", "/v1/challenges".into(), Some(wallet_body.clone())),
        ("POST", "/v1/attestations".into(), Some(attestation)),
        ("GET", format!("/v1/attestations/{wallet}"), None),
        (
            "POST",
            "/v1/revocations".into(),
            Some(serde_json::json!({"challenge_id": challenge_id, "wallet_signature": "0x00"}).to_string()),
        ),
        (
            "POST",
            "/v1/erasures".into(),
            Some(
                serde_json::json!({"challenge_id": challenge_id, "certificate": "AAAA", "card_signature": "AAAA"})
                    .to_string(),
            ),
        ),
        ("GET", "/v1/admin/audit".into(), None),
        ("POST", "/v1/admin/revocations".into(), Some(wallet_body)),
    ]
}

fn request(method: &str, path: &str, body: Option<String>) -> axum::http::request::Builder {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    if body.is_some() {
        builder = builder.header(header::CONTENT_TYPE, "application/json");
    }
    builder
}

/// Every short body field of every route: (path, field, its ordinary value, the other fields).
fn short_fields(
    wallet: &str,
    challenge_id: &str,
) -> Vec<(&'static str, &'static str, String, serde_json::Value)> {
    let attestation = serde_json::json!({
        "certificate": "AAAA", "card_signature": "AAAA", "wallet_signature": "0x00",
    });
    vec![
        (
            "/v1/challenges",
            "audience",
            "app.example/users".into(),
            serde_json::json!({ "wallet": wallet }),
        ),
        ("/v1/challenges", "purpose", "attest".into(), serde_json::json!({ "wallet": wallet })),
        ("/v1/attestations", "challenge_id", challenge_id.into(), attestation),
        (
            "/v1/revocations",
            "challenge_id",
            challenge_id.into(),
            serde_json::json!({ "wallet_signature": "0x00" }),
        ),
        (
            "/v1/erasures",
            "challenge_id",
            challenge_id.into(),
            serde_json::json!({ "certificate": "AAAA", "card_signature": "AAAA" }),
        ),
        (
            "/v1/admin/revocations",
            "reason",
            "operator".into(),
            serde_json::json!({ "wallet": wallet }),
        ),
    ]
}

/// A JSON object with `others` and `field` set to the raw JSON string content `raw`.
fn body_with(others: &serde_json::Value, field: &str, raw: &str) -> String {
    let mut text = others.to_string();
    text.pop(); // the closing brace
    if text.len() > 1 {
        text.push(',');
    }
    text.push_str(&format!("\"{field}\":\"{raw}\"}}"));
    text
}

fn run(db: Db) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let h = runtime.block_on(Harness::with(Options { db, auth: auth(), ..Options::default() }));
    let capture = capture_logs();
    let wallet = address(&wallet_key(120)).to_string();
    // Planted values that must be found, so an empty or blind scan cannot pass.
    let planted_id = format!("planted-{}", &honnin_core::ChallengeId::random().to_string()[3..19]);
    let planted_audience =
        format!("planted.{}", &honnin_core::ChallengeId::random().to_string()[3..19]);
    let challenge = runtime.block_on(async {
        let body =
            serde_json::json!({ "wallet": wallet, "audience": planted_audience }).to_string();
        let reply = h
            .send(
                request("POST", "/v1/challenges", Some(body.clone()))
                    .header("x-request-id", &planted_id)
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_str().unwrap().to_owned()
    });

    let sent: std::sync::Mutex<Vec<String>> = std::sync::Mutex::default();
    let mut runner =
        TestRunner::new(Config { cases: CASES, failure_persistence: None, ..Config::default() });
    let result = runner.run(&embedding(), |e| {
        let record = |text: String| sent.lock().unwrap().push(text);
        record(e.plain());
        record(e.text());
        runtime.block_on(async {
            // The logged header, on every route: replaced, never echoed.
            let id = e.embedded_in("req-0042", false);
            record(id.clone());
            for (method, path, body) in every_route(&wallet, &challenge) {
                let request = request(method, &path, body.clone())
                    .header("x-request-id", HeaderValue::from_bytes(id.as_bytes()).unwrap())
                    .body(body.map_or_else(Body::empty, Body::from))
                    .unwrap();
                let reply = h.send(request).await;
                assert_eq!(
                    reply.headers.get("x-request-id-replaced").map(|v| v.as_bytes()),
                    Some(&b"true"[..]),
                    "{method} {path}: {e:?}"
                );
                let echoed = reply.headers["x-request-id"].as_bytes();
                assert_ne!(echoed, id.as_bytes());
                assert_not_echoed(&reply, &e);
            }
            // Every short body field: refused before anything is stored.
            for (path, field, base, others) in short_fields(&wallet, &challenge) {
                let value = e.embedded_in(&base, true);
                record(e.embedded_in(&base, false));
                let body = body_with(&others, field, &value);
                let reply = h
                    .send(request("POST", path, Some(body.clone())).body(Body::from(body)).unwrap())
                    .await;
                reply.assert_problem(StatusCode::BAD_REQUEST, "individual_number_forbidden");
                assert_not_echoed(&reply, &e);
            }
        });
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }

    let logs = capture.logs();
    drop(capture);
    let dump = runtime.block_on(h.dump());
    assert!(logs.contains(&planted_id), "the log capture is blind");
    assert!(contains(&dump, planted_audience.as_bytes()), "the database dump is blind");
    assert!(contains(&dump, planted_id.as_bytes()), "the audit log is not in the dump");
    for needle in sent.lock().unwrap().iter() {
        assert!(!logs.contains(needle.as_str()), "an individual number reached the logs");
        assert!(!contains(&dump, needle.as_bytes()), "an individual number reached the database");
    }
    drop(h);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[track_caller]
fn assert_not_echoed(reply: &Reply, e: &Embedding) {
    let raw = String::from_utf8_lossy(&reply.raw);
    assert!(!raw.contains(&e.plain()) && !raw.contains(&e.text()), "the answer echoes the number");
    for value in reply.headers.values() {
        assert!(!String::from_utf8_lossy(value.as_bytes()).contains(&e.plain()));
    }
}

#[test]
fn embedded_numbers_are_refused_and_never_kept_sqlite() {
    run(Db::Sqlite);
}

#[test]
fn embedded_numbers_are_refused_and_never_kept_postgres() {
    run(Db::Postgres);
}
