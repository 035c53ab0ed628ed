//! The OpenAPI document is complete and exact (issue 10, defect 7): every status each route
//! answers is documented for that route, with the code it answers; patterns, enums and ranges
//! say what the handlers accept.

use std::net::SocketAddr;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use honnin_api::{AdminToken, ApiKey, Auth, TokenDigest};
use serde_json::Value;

use crate::support::{Harness, Options, Reply, address, attestation_request, card, wallet_key};

const TOKEN: &str = "document-admin-token";
const KEY: &str = "document-api-key";

fn auth() -> Auth {
    Auth {
        admin_tokens: vec![AdminToken { id: "ops".into(), sha256: TokenDigest::of(TOKEN) }],
        api_keys: vec![ApiKey { id: "dapp".into(), sha256: TokenDigest::of(KEY), rate: None }],
    }
}

/// Asserts that `reply`, an answer of `method path` (a route template), is documented: its
/// status is a response of the operation, and a problem's code is one that response lists.
#[track_caller]
fn assert_documented(doc: &Value, method: &str, template: &str, reply: &Reply) {
    let status = reply.status.as_u16().to_string();
    let response = &doc["paths"][template][method]["responses"][&status];
    assert!(response.is_object(), "{method} {template} answered {status}, undocumented");
    if reply.status.is_client_error() || reply.status.is_server_error() {
        let codes = &response["content"]["application/problem+json"]["schema"]["allOf"][1]["properties"]
            ["code"]["enum"];
        assert!(
            codes.as_array().is_some_and(|codes| codes.contains(&reply.body["code"])),
            "{method} {template} {status}: code {} not documented ({codes})",
            reply.body["code"]
        );
    }
}

/// Every route, driven to each status it can answer without a fault injected, checked against
/// the document the app serves.
#[tokio::test]
async fn every_status_each_route_answers_is_documented() {
    let h = Harness::with(Options { auth: auth(), ..Options::default() }).await;
    let doc = h.get("/openapi.json").await.body;
    let key = wallet_key(140);
    let wallet = address(&key).to_string();
    let challenge = h.challenge(address(&key)).await;
    let attestation =
        serde_json::to_value(attestation_request(&challenge, &card(&[0x40]), &key)).unwrap();
    let revoke = h.challenge_for(address(&key), "revoke").await;
    let erase = h.challenge_for(address(&key), "erase").await;
    let fresh_id = honnin_core::ChallengeId::random().to_string();
    let bearer = format!("Bearer {TOKEN}");
    let existing = honnin_core::webhook::NewWebhookEndpoint {
        id: honnin_core::webhook::WebhookEndpointId::random(),
        url: honnin_core::webhook::AddressPolicy::default()
            .check_url("https://dapp.example/old")
            .unwrap(),
        events: honnin_core::webhook::EventSet::ALL,
        secret: honnin_core::webhook::WebhookSecret::generate(),
        source: honnin_core::webhook::EndpointSource::Api,
    };
    h.store.create_webhook_endpoint(&existing, honnin_core::time::now()).await.unwrap();

    // (method, path sent, template, body, extra header)
    type Case = (&'static str, String, &'static str, Option<Value>, Option<(&'static str, String)>);
    let json = |v: Value| Some(v);
    let mut cases: Vec<Case> = vec![
        (
            "POST",
            "/v1/challenges".into(),
            "/v1/challenges",
            json(serde_json::json!({"wallet": wallet})),
            None,
        ),
        (
            "POST",
            "/v1/challenges".into(),
            "/v1/challenges",
            json(serde_json::json!({"wallet": "0x1"})),
            None,
        ),
        (
            "POST",
            "/v1/challenges".into(),
            "/v1/challenges",
            json(serde_json::json!({"wallet": wallet, "audience": "u/123456789018"})),
            None,
        ),
        ("POST", "/v1/attestations".into(), "/v1/attestations", json(attestation.clone()), None),
        ("POST", "/v1/attestations".into(), "/v1/attestations", json(attestation.clone()), None), // replay
        (
            "POST",
            "/v1/attestations".into(),
            "/v1/attestations",
            json(
                serde_json::json!({"challenge_id": fresh_id, "certificate": "AAAA", "card_signature": "AAAA", "wallet_signature": "0x00"}),
            ),
            None,
        ),
        ("GET", format!("/v1/attestations/{wallet}"), "/v1/attestations/{wallet}", None, None),
        (
            "GET",
            format!("/v1/attestations/{}", address(&wallet_key(141))),
            "/v1/attestations/{wallet}",
            None,
            None,
        ),
        ("GET", "/v1/attestations/%FF".into(), "/v1/attestations/{wallet}", None, None),
        (
            "POST",
            "/v1/revocations".into(),
            "/v1/revocations",
            json(serde_json::json!({"challenge_id": revoke.id, "wallet_signature": "0x00"})),
            None,
        ),
        (
            "POST",
            "/v1/revocations".into(),
            "/v1/revocations",
            json(serde_json::json!({"challenge_id": revoke.id, "wallet_signature": "0x00"})),
            None,
        ),
        (
            "POST",
            "/v1/erasures".into(),
            "/v1/erasures",
            json(
                serde_json::json!({"challenge_id": erase.id, "certificate": "AAAA", "card_signature": "AAAA"}),
            ),
            None,
        ),
        (
            "POST",
            "/v1/erasures".into(),
            "/v1/erasures",
            json(
                serde_json::json!({"challenge_id": challenge.id, "certificate": "AAAA", "card_signature": "AAAA"}),
            ),
            None,
        ),
        (
            "GET",
            "/v1/admin/audit".into(),
            "/v1/admin/audit",
            None,
            Some(("authorization", bearer.clone())),
        ),
        (
            "GET",
            "/v1/admin/audit?after=9223372036854775808".into(),
            "/v1/admin/audit",
            None,
            Some(("authorization", bearer.clone())),
        ),
        ("GET", "/v1/admin/audit".into(), "/v1/admin/audit", None, None),
        (
            "POST",
            "/v1/admin/revocations".into(),
            "/v1/admin/revocations",
            json(serde_json::json!({"wallet": wallet})),
            Some(("authorization", bearer.clone())),
        ),
        (
            "POST",
            "/v1/admin/revocations".into(),
            "/v1/admin/revocations",
            json(serde_json::json!({"wallet": wallet})),
            Some(("authorization", bearer.clone())),
        ),
        (
            "POST",
            "/v1/admin/revocations".into(),
            "/v1/admin/revocations",
            json(serde_json::json!({"wallet": wallet})),
            None,
        ),
        (
            "POST",
            "/v1/admin/webhooks".into(),
            "/v1/admin/webhooks",
            json(serde_json::json!({"url": "https://dapp.example/hooks"})),
            Some(("authorization", bearer.clone())),
        ),
        (
            "POST",
            "/v1/admin/webhooks".into(),
            "/v1/admin/webhooks",
            json(serde_json::json!({"url": "https://127.0.0.1/hooks"})),
            Some(("authorization", bearer.clone())),
        ),
        (
            "POST",
            "/v1/admin/webhooks".into(),
            "/v1/admin/webhooks",
            json(serde_json::json!({"url": "https://dapp.example/", "events": "nope"})),
            Some(("authorization", bearer.clone())),
        ),
        (
            "GET",
            "/v1/admin/webhooks".into(),
            "/v1/admin/webhooks",
            None,
            Some(("authorization", bearer.clone())),
        ),
        (
            "DELETE",
            format!("/v1/admin/webhooks/{}", honnin_core::webhook::WebhookEndpointId::random()),
            "/v1/admin/webhooks/{id}",
            None,
            Some(("authorization", bearer.clone())),
        ),
        (
            "DELETE",
            format!("/v1/admin/webhooks/{}", existing.id),
            "/v1/admin/webhooks/{id}",
            None,
            Some(("authorization", bearer.clone())),
        ),
        (
            "DELETE",
            "/v1/admin/webhooks/nope".into(),
            "/v1/admin/webhooks/{id}",
            None,
            Some(("authorization", bearer.clone())),
        ),
        (
            "POST",
            format!(
                "/v1/admin/webhooks/{}/secret",
                honnin_core::webhook::WebhookEndpointId::random()
            ),
            "/v1/admin/webhooks/{id}/secret",
            None,
            Some(("authorization", bearer.clone())),
        ),
        (
            "GET",
            "/v1/admin/webhook-deliveries?state=dead".into(),
            "/v1/admin/webhook-deliveries",
            None,
            Some(("authorization", bearer.clone())),
        ),
        (
            "GET",
            "/v1/admin/webhook-deliveries?limit=0".into(),
            "/v1/admin/webhook-deliveries",
            None,
            Some(("authorization", bearer.clone())),
        ),
        (
            "POST",
            "/v1/admin/webhook-deliveries/42/redeliver".into(),
            "/v1/admin/webhook-deliveries/{id}/redeliver",
            None,
            Some(("authorization", bearer.clone())),
        ),
        (
            "POST",
            "/v1/admin/webhook-deliveries/0/redeliver".into(),
            "/v1/admin/webhook-deliveries/{id}/redeliver",
            None,
            Some(("authorization", bearer.clone())),
        ),
        ("GET", "/health".into(), "/health", None, None),
        ("GET", "/ready".into(), "/ready", None, None),
        ("GET", "/metrics".into(), "/metrics", None, None),
        ("GET", "/openapi.json".into(), "/openapi.json", None, None),
    ];
    // What every public route answers before its handler: an unknown API key (401).
    for (method, path, template) in [
        ("POST", "/v1/challenges", "/v1/challenges"),
        ("POST", "/v1/attestations", "/v1/attestations"),
        ("POST", "/v1/revocations", "/v1/revocations"),
        ("POST", "/v1/erasures", "/v1/erasures"),
        ("GET", "/v1/attestations/0x00", "/v1/attestations/{wallet}"),
    ] {
        cases.push((
            method,
            path.into(),
            template,
            json(serde_json::json!({})),
            Some(("x-api-key", "nope".into())),
        ));
    }
    let mut replies = Vec::new();
    for (method, path, template, body, extra) in cases {
        let mut request = Request::builder().method(method).uri(&path);
        if let Some((name, value)) = &extra {
            request = request.header(*name, value);
        }
        let body = match body {
            Some(body) if method == "POST" => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            _ => Body::empty(),
        };
        replies.push((method, template, h.send(request.body(body).unwrap()).await));
    }
    // What any route answers: another method (405), an oversized Content-Length (413); and
    // what a JSON route answers before parsing: another media type (415), not JSON (400).
    let operations: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().unwrap().keys().map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    for (method, template) in &operations {
        let id = if template.contains("webhook-deliveries") {
            "1".to_owned()
        } else {
            honnin_core::webhook::WebhookEndpointId::random().to_string()
        };
        let path = template.replace("{wallet}", &wallet).replace("{id}", &id);
        let template: &'static str = Box::leak(template.clone().into_boxed_str());
        let method_upper: &'static str = match method.as_str() {
            "get" => "GET",
            "delete" => "DELETE",
            _ => "POST",
        };
        let other = if method == "get" { "DELETE" } else { "PUT" };
        let reply =
            h.send(Request::builder().method(other).uri(&path).body(Body::empty()).unwrap()).await;
        reply.assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        replies.push((method_upper, template, reply));
        let request = Request::builder()
            .method(method_upper)
            .uri(&path)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::CONTENT_LENGTH, "1000000")
            .body(Body::empty())
            .unwrap();
        let reply = h.send(request).await;
        reply.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
        replies.push((method_upper, template, reply));
        if method == "post" {
            for (content_type, body) in [("text/plain", "{}"), ("application/json", "{")] {
                let request = Request::post(&path)
                    .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                    .header(header::CONTENT_TYPE, content_type)
                    .body(Body::from(body))
                    .unwrap();
                replies.push((method_upper, template, h.send(request).await));
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (method, template, reply) in &replies {
        assert_documented(&doc, &method.to_lowercase(), template, reply);
        seen.insert(reply.status.as_u16());
    }
    // The cases reach what they are meant to: successes and each kind of refusal.
    for status in [200, 201, 202, 204, 400, 401, 404, 405, 409, 413, 415, 422] {
        assert!(seen.contains(&status), "no case answered {status}: {seen:?}");
    }
}

/// 429, and 503 when the audit log cannot be written, on a real socket.
#[tokio::test]
async fn rate_limited_and_unavailable_answers_are_documented() {
    let rate_limits = honnin_api::RateLimits {
        anonymous: honnin_api::Rate { per_minute: 1, burst: 1 },
        ..honnin_api::RateLimits::default()
    };
    let h = Harness::with(Options { rate_limits, audit_writer: false, ..Options::default() }).await;
    let doc = h.get("/openapi.json").await.body;
    let peer: SocketAddr = "192.0.2.40:1".parse().unwrap();
    let challenge = || {
        crate::support::json_request(
            "/v1/challenges",
            &serde_json::json!({ "wallet": "0x0000000000000000000000000000000000000001" }),
        )
    };
    let unavailable = h.send_from(peer, challenge()).await;
    unavailable.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert_documented(&doc, "post", "/v1/challenges", &unavailable);
    let limited = h.send_from(peer, challenge()).await;
    limited.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_documented(&doc, "post", "/v1/challenges", &limited);
    let limited = h
        .send_from(
            peer,
            Request::get(format!("/v1/attestations/{}", address(&wallet_key(142))))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_documented(&doc, "get", "/v1/attestations/{wallet}", &limited);
    assert!(
        doc["paths"]["/v1/challenges"]["post"]["responses"]["429"]["headers"]["Retry-After"]
            .is_object()
    );
}

/// What the issue found missing: 413, 415, 405 and 500 on the routes that answer them,
/// patterns for wallets and challenge ids, enums for `purpose` and `reason`, `limit`'s range.
#[tokio::test]
async fn the_document_states_limits_patterns_and_enums() {
    let h = Harness::new().await;
    let doc = h.get("/openapi.json").await.body;
    let responses = |method: &str, path: &str| doc["paths"][path][method]["responses"].clone();
    for (method, path) in [
        ("post", "/v1/challenges"),
        ("post", "/v1/attestations"),
        ("post", "/v1/revocations"),
        ("post", "/v1/erasures"),
        ("post", "/v1/admin/revocations"),
    ] {
        let r = responses(method, path);
        for status in ["400", "413", "415", "405", "500", "503"] {
            assert!(r[status].is_object(), "{method} {path}: {status} missing");
        }
    }
    for (method, path) in
        [("get", "/health"), ("get", "/v1/admin/audit"), ("get", "/v1/attestations/{wallet}")]
    {
        let r = responses(method, path);
        for status in ["405", "413", "500"] {
            assert!(r[status].is_object(), "{method} {path}: {status} missing");
        }
    }
    let schemas = &doc["components"]["schemas"];
    let wallet_pattern = "^0[xX][0-9a-fA-F]{40}$";
    assert_eq!(schemas["ChallengeRequest"]["properties"]["wallet"]["pattern"], wallet_pattern);
    assert_eq!(
        schemas["AdminRevocationRequest"]["properties"]["wallet"]["pattern"],
        wallet_pattern
    );
    for schema in ["AttestationRequest", "RevocationRequest", "ErasureRequest"] {
        assert_eq!(schemas[schema]["properties"]["challenge_id"]["pattern"], "^ch_[0-9a-f]{32}$");
        assert_eq!(schemas[schema]["additionalProperties"], false, "{schema}");
    }
    let params = doc["paths"]["/v1/attestations/{wallet}"]["get"]["parameters"].as_array().unwrap();
    assert_eq!(params[0]["schema"]["pattern"], wallet_pattern);
    let text = doc.to_string();
    assert!(text.contains(r#""enum":["attest","revoke","erase"]"#), "purpose enum");
    assert!(
        text.contains(r#""enum":["operator","certificate_revoked","superseded"]"#),
        "reason enum"
    );
    let audit = doc["paths"]["/v1/admin/audit"]["get"]["parameters"].as_array().unwrap();
    let param = |name: &str| audit.iter().find(|p| p["name"] == name).unwrap()["schema"].clone();
    assert_eq!(param("limit")["minimum"], 1);
    assert_eq!(param("limit")["maximum"], 1000);
    assert_eq!(param("after")["maximum"], i64::MAX);
}
