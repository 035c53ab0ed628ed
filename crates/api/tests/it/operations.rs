//! Health, readiness, metrics, OpenAPI, request ids, and one test on a real socket.

use axum::http::{StatusCode, header};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{Harness, Options, Served, address, card, request_for, wallet_key};

#[tokio::test]
async fn health_ready_and_request_ids() {
    let h = Harness::new().await;
    let reply = h.get("/health").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["status"], "ok");
    let generated = reply.headers.get("x-request-id").expect("a request id is generated");
    assert_eq!(generated.len(), 36, "a UUID");

    let reply = h
        .send(
            axum::http::Request::get("/ready")
                .header("x-request-id", "client-chosen-id")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["status"], "ready");
    assert_eq!(reply.headers.get("x-request-id").unwrap(), "client-chosen-id");
}

#[tokio::test]
async fn metrics_are_openmetrics_text() {
    let h = Harness::new().await;
    h.get("/health").await;
    h.challenge(crate::support::address(&crate::support::wallet_key(50))).await;
    let reply = h.get("/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = String::from_utf8(reply.raw).unwrap();
    assert!(text.contains("honnin_challenges_issued_total 1"), "{text}");
    assert!(
        text.contains(r#"honnin_http_request_duration_seconds_count{method="GET",route="/health",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"route="/v1/challenges",status="201""#), "{text}");
    assert!(text.trim_end().ends_with("# EOF"));
}

#[tokio::test]
async fn openapi_describes_every_route_and_the_problem_shape() {
    let h = Harness::new().await;
    let reply = h.get("/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/challenges",
        "/v1/attestations",
        "/v1/attestations/{wallet}",
        "/v1/revocations",
        "/v1/erasures",
        "/v1/admin/audit",
        "/v1/admin/revocations",
        "/health",
        "/ready",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    let problem = &doc["components"]["schemas"]["Problem"]["properties"];
    for field in ["type", "title", "status", "detail", "code"] {
        assert!(problem[field].is_object(), "Problem.{field} missing");
    }
    let responses = &doc["paths"]["/v1/attestations"]["post"]["responses"];
    assert!(responses["202"].is_object() && responses["409"].is_object());
    assert!(responses["422"]["description"].as_str().unwrap().contains("weak_hash"));
    assert!(responses["429"]["description"].as_str().unwrap().contains("rate_limited"));
    // The admin endpoints name their bearer scheme.
    assert_eq!(doc["components"]["securitySchemes"]["admin_token"]["scheme"], "bearer");
    assert_eq!(
        doc["paths"]["/v1/admin/audit"]["get"]["security"][0]["admin_token"],
        serde_json::json!([])
    );
    assert!(doc["paths"]["/v1/admin/audit"]["get"]["responses"]["401"].is_object());
    let challenge = &doc["components"]["schemas"]["ChallengeRequest"]["properties"];
    assert!(challenge["purpose"].is_object());
}

/// The app served on a real socket (port 0), spoken to with plain HTTP/1.1.
#[tokio::test]
async fn serves_on_a_real_socket() {
    let h = Harness::new().await;
    let served = Served::start(&h.app).await;
    let addr = served.addr;
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
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert!(response.to_ascii_lowercase().contains("x-request-id: "), "{response}");
    assert!(response.contains("\"message\":"), "{response}");
    served.stop().await;
}

/// A client-sent request id is logged on every span, so one that could carry anything
/// personal (an individual number, odd characters, a long text) is replaced by a fresh UUID.
#[tokio::test]
async fn unsafe_request_ids_are_replaced() {
    let h = Harness::new().await;
    for (sent, kept) in [
        ("abc-123_X.y", true),
        ("123456789018", false),
        ("1234 5678 9018", false),
        ("name=Taro Yamada", false),
        (&"a".repeat(65), false),
    ] {
        let reply = h
            .send(
                axum::http::Request::get("/health")
                    .header("x-request-id", sent)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        let echoed = reply.headers["x-request-id"].to_str().unwrap();
        if kept {
            assert_eq!(echoed, sent);
        } else {
            assert_ne!(echoed, sent);
            assert_eq!(echoed.len(), 36, "a fresh UUID");
        }
    }
}

/// Audit events are committed before the answer: when they cannot be, work that was done is
/// answered 503 (the client retries; an attestation answers a re-sent request from the store),
/// and a refusal is still answered with its own code.
#[tokio::test]
async fn an_unwritable_audit_log_fails_the_request_not_the_refusal() {
    let h = Harness::with(Options { audit_writer: false, ..Options::default() }).await;
    let key = wallet_key(51);
    let reply =
        h.post("/v1/challenges", &serde_json::json!({ "wallet": address(&key).to_string() })).await;
    reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");

    let challenge = h
        .stored_challenge(honnin_core::Purpose::Attest, address(&key), honnin_core::time::now())
        .await;
    let mut request = request_for(&challenge, &card(&[0x51]), &key);
    request.challenge_id = "ch_nope".into();
    h.post("/v1/attestations", &request)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    request.challenge_id = challenge.id.to_string();
    h.post("/v1/attestations", &request)
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    let stored = h.store.attestation_by_wallet(address(&key), None).await.unwrap();
    assert!(stored.is_some(), "the attestation was recorded before the audit write failed");
    assert!(h.audit_rows().await.is_empty());
}
