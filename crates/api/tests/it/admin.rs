//! The admin endpoints: bearer tokens, the audit log, operator revocation.

use std::net::SocketAddr;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use honnin_api::{AdminToken, AuditPage, Auth, Rate, RateLimits, TokenDigest};
use honnin_core::{AuditEventKind, AuditRecord};

use crate::support::{Harness, Options, Reply, address, card, json_request, wallet_key};

const TOKEN: &str = "s3cret-operator-token";

fn auth() -> Auth {
    Auth {
        admin_tokens: vec![AdminToken { id: "ops".into(), sha256: TokenDigest::of(TOKEN) }],
        api_keys: vec![],
    }
}

async fn admin_harness() -> Harness {
    Harness::with(Options { auth: auth(), ..Options::default() }).await
}

fn authorized(mut request: Request<Body>, authorization: Option<&str>) -> Request<Body> {
    if let Some(value) = authorization {
        request.headers_mut().insert(header::AUTHORIZATION, value.parse().unwrap());
    }
    request
}

fn get(path: &str, authorization: Option<&str>) -> Request<Body> {
    authorized(Request::get(path).body(Body::empty()).unwrap(), authorization)
}

const PEER: &str = "192.0.2.33:4000";

async fn admin_get(h: &Harness, path: &str) -> Reply {
    h.send_from(PEER.parse().unwrap(), get(path, Some(&format!("Bearer {TOKEN}")))).await
}

#[track_caller]
fn assert_unauthorized(reply: &Reply) {
    reply.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let challenge = reply.headers[header::WWW_AUTHENTICATE].to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
}

#[tokio::test]
async fn admin_endpoints_refuse_without_or_with_a_wrong_token() {
    let h = admin_harness().await;
    let peer: SocketAddr = PEER.parse().unwrap();
    let revoke = |authorization: Option<&str>| {
        authorized(
            json_request(
                "/v1/admin/revocations",
                &serde_json::json!({ "wallet": address(&wallet_key(70)).to_string() }),
            ),
            authorization,
        )
    };
    for authorization in [
        None,
        Some("Bearer wrong-token"),
        Some("Bearer "),
        Some(&format!("Basic {TOKEN}")),
        Some(TOKEN),
        Some(&format!("Bearer {TOKEN}x")),
    ] {
        assert_unauthorized(&h.send_from(peer, get("/v1/admin/audit", authorization)).await);
        assert_unauthorized(&h.send_from(peer, revoke(authorization)).await);
    }
    // The right token, any case of the scheme.
    let reply = h.send_from(peer, get("/v1/admin/audit", Some(&format!("bearer {TOKEN}")))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let page: AuditPage = serde_json::from_value(reply.body).unwrap();
    let refused: Vec<_> = page
        .events
        .iter()
        .filter(|e| e.kind == "admin_action" && e.code.as_deref() == Some("unauthorized"))
        .collect();
    assert_eq!(refused.len(), 12, "every refused request is audited");
    assert!(refused.iter().all(|e| e.client.as_deref() == Some("192.0.2.33")));
    assert!(refused.iter().all(|e| e.api_key_id.is_none()));

    // Read again: the read itself is audited, with the token's id (never the token).
    let rows = h.audit_rows().await;
    let read = rows.iter().find(|r| r.event.code.as_deref() == Some("audit_read")).unwrap();
    assert_eq!(read.event.context.api_key_id.as_deref(), Some("ops"));
    assert_eq!(read.event.context.client.as_deref(), Some("192.0.2.33"));
    let text = serde_json::to_string(&rows).unwrap();
    assert!(!text.contains(TOKEN));
}

#[tokio::test]
async fn without_configured_tokens_admin_endpoints_always_refuse() {
    let h = Harness::new().await;
    for token in ["", "anything", TOKEN] {
        assert_unauthorized(
            &h.send(get("/v1/admin/audit", Some(&format!("Bearer {token}")))).await,
        );
    }
}

#[tokio::test]
async fn refused_admin_requests_are_rate_limited() {
    let rate_limits =
        RateLimits { anonymous: Rate { per_minute: 1, burst: 2 }, ..RateLimits::default() };
    let h = Harness::with(Options { auth: auth(), rate_limits, ..Options::default() }).await;
    let peer: SocketAddr = PEER.parse().unwrap();
    assert_unauthorized(&h.send_from(peer, get("/v1/admin/audit", Some("Bearer a"))).await);
    assert_unauthorized(&h.send_from(peer, get("/v1/admin/audit", Some("Bearer b"))).await);
    let reply = h.send_from(peer, get("/v1/admin/audit", Some("Bearer c"))).await;
    reply.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
    // The operator is not limited.
    for _ in 0..5 {
        assert_eq!(admin_get(&h, "/v1/admin/audit").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn audit_pages_filter_by_kind_and_time() {
    let h = admin_harness().await;
    for n in 0..5 {
        h.challenge(address(&wallet_key(71 + n))).await;
    }
    // Cursor pagination: 2, 2, 1 challenge events.
    let mut seen = Vec::new();
    let mut after: Option<u64> = None;
    loop {
        let cursor = after.map(|a| format!("&after={a}")).unwrap_or_default();
        let reply =
            admin_get(&h, &format!("/v1/admin/audit?event=challenge_issued&limit=2{cursor}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let page: AuditPage = serde_json::from_value(reply.body).unwrap();
        assert!(page.events.len() <= 2);
        seen.extend(page.events.iter().map(|e| (e.seq, e.kind.clone(), e.code.clone())));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "in sequence order");
    assert!(
        seen.iter()
            .all(|(_, kind, code)| kind == "challenge_issued" && code.as_deref() == Some("attest"))
    );

    // Several kinds at once; a time range.
    let reply =
        admin_get(&h, "/v1/admin/audit?event=challenge_issued,admin_action&limit=1000").await;
    let page: AuditPage = serde_json::from_value(reply.body).unwrap();
    assert!(page.events.iter().any(|e| e.kind == "admin_action"));
    assert_eq!(page.events.iter().filter(|e| e.kind == "challenge_issued").count(), 5);
    assert_eq!(page.next, None);
    let reply = admin_get(&h, "/v1/admin/audit?from=2999-01-01T00:00:00Z").await;
    assert_eq!(reply.body["events"], serde_json::json!([]));
    let reply = admin_get(&h, "/v1/admin/audit?to=2000-01-01T00:00:00Z").await;
    assert_eq!(reply.body["events"], serde_json::json!([]));
    let reply =
        admin_get(&h, "/v1/admin/audit?from=2000-01-01T00:00:00Z&event=challenge_issued").await;
    assert_eq!(reply.body["events"].as_array().unwrap().len(), 5);

    // The API's rows are the stored rows, hashes included.
    let stored: Vec<AuditRecord> = h.audit_rows().await;
    let reply = admin_get(&h, "/v1/admin/audit?limit=1").await;
    let page: AuditPage = serde_json::from_value(reply.body).unwrap();
    assert_eq!(page.events[0].seq, stored[0].seq);
    assert_eq!(page.events[0].hash, stored[0].hash.to_string());
    assert_eq!(page.events[0].kind, AuditEventKind::ChallengeIssued.as_str());

    // Malformed queries.
    for query in ["event=launched", "limit=0", "limit=1001", "from=yesterday", "after=-1", "x=1"] {
        admin_get(&h, &format!("/v1/admin/audit?{query}"))
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    }
}

#[tokio::test]
async fn operator_revokes_a_wallet() {
    let h = admin_harness().await;
    let key = wallet_key(76);
    let wallet = address(&key);
    let attestation_id = h.attest(&card(&[0x76]), &key).await;
    let bearer = format!("Bearer {TOKEN}");
    let revoke = |body: serde_json::Value| {
        authorized(json_request("/v1/admin/revocations", &body), Some(&bearer))
    };

    h.send(revoke(serde_json::json!({ "wallet": wallet.to_string(), "reason": "holder" })))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    let reply = h.send(revoke(serde_json::json!({ "wallet": wallet.to_string() }))).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body["attestation_id"], attestation_id);
    assert_eq!(reply.body["status"], "revoked");
    assert_eq!(reply.body["reason"], "operator");
    let status = h.get(&format!("/v1/attestations/{wallet}")).await;
    assert_eq!(status.body["status"], "revoked");
    assert_eq!(status.body["revocation_reason"], "operator");
    h.send(revoke(serde_json::json!({ "wallet": wallet.to_string() })))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "no_live_attestation");

    let rows = h.audit_rows().await;
    let action = rows.iter().find(|r| r.event.code.as_deref() == Some("revoke_wallet")).unwrap();
    assert_eq!(action.event.kind, AuditEventKind::AdminAction);
    assert_eq!(action.event.context.api_key_id.as_deref(), Some("ops"));
    assert_eq!(action.event.attestation_id.unwrap().to_string(), attestation_id);
    assert!(rows.iter().any(|r| r.event.kind == AuditEventKind::AttestationRevoked
        && r.event.code.as_deref() == Some("operator")));
}
