//! The webhook admin endpoints: registering (the secret once, the address policy), listing,
//! rotating, deleting; listing deliveries and redelivering a dead one.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use honnin_api::{AdminToken, Auth, TokenDigest};
use honnin_core::webhook::{AttemptOutcome, WebhookSecret};

use crate::support::{Harness, Options, Reply, address, card, json_request, wallet_key};

const TOKEN: &str = "webhook-operator-token";

async fn harness() -> Harness {
    let auth = Auth {
        admin_tokens: vec![AdminToken { id: "ops".into(), sha256: TokenDigest::of(TOKEN) }],
        api_keys: vec![],
    };
    Harness::with(Options { auth, ..Options::default() }).await
}

fn bearer(mut request: Request<Body>) -> Request<Body> {
    request.headers_mut().insert(header::AUTHORIZATION, format!("Bearer {TOKEN}").parse().unwrap());
    request
}

async fn admin(h: &Harness, method: &str, path: &str, body: Option<serde_json::Value>) -> Reply {
    let request = match body {
        Some(body) => {
            let mut r = json_request(path, &body);
            *r.method_mut() = method.parse().unwrap();
            r
        }
        None => Request::builder().method(method).uri(path).body(Body::empty()).unwrap(),
    };
    h.send(bearer(request)).await
}

async fn register(h: &Harness, url: &str, events: Option<&str>) -> Reply {
    let mut body = serde_json::json!({ "url": url });
    if let Some(events) = events {
        body["events"] = events.into();
    }
    admin(h, "POST", "/v1/admin/webhooks", Some(body)).await
}

#[tokio::test]
async fn endpoints_are_registered_with_a_secret_shown_once() {
    let h = harness().await;
    let reply = register(&h, "https://dapp.example/hooks", Some("attestation.revoked")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let secret = reply.body["secret"].as_str().unwrap();
    WebhookSecret::parse(secret).expect("a whsec_ secret");
    let endpoint = &reply.body["endpoint"];
    let id = endpoint["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("whe_"));
    assert_eq!(endpoint["events"], serde_json::json!(["attestation.revoked"]));
    assert_eq!(endpoint["source"], "api");

    // Listing never shows the secret.
    let all = register(&h, "https://dapp.example/all", None).await;
    assert_eq!(all.body["endpoint"]["events"].as_array().unwrap().len(), 4);
    let listed = admin(&h, "GET", "/v1/admin/webhooks", None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["endpoints"].as_array().unwrap().len(), 2);
    assert!(!String::from_utf8_lossy(&listed.raw).contains("whsec_"));

    // Rotation answers a new secret; the store signs with it.
    let rotated = admin(&h, "POST", &format!("/v1/admin/webhooks/{id}/secret"), None).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let new_secret = rotated.body["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let stored = h.store.webhook_endpoints().await.unwrap();
    assert_eq!(stored[0].secret.expose(), new_secret);

    assert_eq!(
        admin(&h, "DELETE", &format!("/v1/admin/webhooks/{id}"), None).await.status,
        StatusCode::NO_CONTENT
    );
    admin(&h, "DELETE", &format!("/v1/admin/webhooks/{id}"), None)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "webhook_endpoint_not_found");
    admin(&h, "POST", &format!("/v1/admin/webhooks/{id}/secret"), None)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "webhook_endpoint_not_found");
    admin(&h, "DELETE", "/v1/admin/webhooks/whe_nothex", None)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    // Without the token: 401.
    h.send(json_request("/v1/admin/webhooks", &serde_json::json!({ "url": "https://x.example/" })))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn urls_that_could_reach_the_operators_network_are_refused() {
    let h = harness().await;
    for url in [
        "http://dapp.example/hooks", // https outside dev mode
        "https://127.0.0.1/hooks",
        "https://[::1]/hooks",
        "https://10.1.2.3/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/",
        "https://[fd00::5]/",
        "https://0x7f000001/",
        "https://user:pw@dapp.example/",
        "not a url",
    ] {
        register(&h, url, None)
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "webhook_url_refused");
    }
    register(&h, "https://dapp.example/", Some("attestation.pending"))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    assert!(h.store.webhook_endpoints().await.unwrap().is_empty());
}

#[tokio::test]
async fn deliveries_are_listed_and_a_dead_one_redelivered() {
    let h = harness().await;
    let created = register(&h, "https://dapp.example/hooks", None).await;
    let endpoint = created.body["endpoint"]["id"].as_str().unwrap().to_owned();
    // An attestation revoked by the operator: one delivery queued.
    let key = wallet_key(90);
    h.attest(&card(&[0x90]), &key).await;
    let revoked = admin(
        &h,
        "POST",
        "/v1/admin/revocations",
        Some(serde_json::json!({ "wallet": address(&key).to_string() })),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::ACCEPTED, "{}", revoked.body);
    let page =
        admin(&h, "GET", &format!("/v1/admin/webhook-deliveries?endpoint={endpoint}"), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let delivery = &page.body["deliveries"][0];
    assert_eq!(delivery["event"], "attestation.revoked");
    assert_eq!(delivery["reason"], "operator");
    assert_eq!(delivery["state"], "pending");
    assert_eq!(delivery["wallet"], address(&key).to_checksum(None));
    let id = delivery["id"].as_i64().unwrap();

    // Pending is not dead.
    admin(&h, "POST", &format!("/v1/admin/webhook-deliveries/{id}/redeliver"), None)
        .await
        .assert_problem(StatusCode::CONFLICT, "webhook_delivery_not_dead");
    let dead =
        AttemptOutcome::Dead { error: "the endpoint answered 500".into(), status: Some(500) };
    assert!(h.store.record_webhook_attempt(id, &dead, honnin_core::time::now()).await.unwrap());
    let dead_page = admin(&h, "GET", "/v1/admin/webhook-deliveries?state=dead", None).await;
    assert_eq!(dead_page.body["deliveries"][0]["id"], id);
    assert_eq!(dead_page.body["deliveries"][0]["last_status"], 500);
    let again =
        admin(&h, "POST", &format!("/v1/admin/webhook-deliveries/{id}/redeliver"), None).await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(again.body["state"], "pending");
    assert_eq!(again.body["attempts"], 0);
    assert_eq!(again.body["message_id"], delivery["message_id"]);

    admin(&h, "POST", "/v1/admin/webhook-deliveries/999999/redeliver", None)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "webhook_delivery_not_found");
    for bad in ["0", "-1", "x", "9223372036854775808"] {
        admin(&h, "POST", &format!("/v1/admin/webhook-deliveries/{bad}/redeliver"), None)
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    }
    for bad in ["state=gone", "endpoint=whe_1", "limit=0", "after=9223372036854775808", "x=1"] {
        admin(&h, "GET", &format!("/v1/admin/webhook-deliveries?{bad}"), None)
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "malformed_request");
    }
}
