//! honnin-web: the routes answer with the embedded assets under a strict CSP, and the page's
//! text tables cover every refusal code the API, the certificate check and the card tool return.

#![allow(clippy::unwrap_used)]

use axum::{body::Body, http::Request};
use honnin_web::PageConfig;
use tower::ServiceExt as _;

async fn get(config: &PageConfig, path: &str) -> (String, String) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = honnin_web::router(config).oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (csp, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn the_configured_bridge_and_explorer_reach_the_page_and_only_the_bridge_the_csp() {
    let config = PageConfig {
        bridge_url: Some("http://127.0.0.1:48621/".into()),
        explorer_tx_url: Some("https://explorer.example/tx/{tx}?a=1&b=\"2\"".into()),
    };
    for path in ["/", "/status", "/assets/app.js"] {
        let (csp, body) = get(&config, path).await;
        let connect = csp.split("; ").find(|d| d.starts_with("connect-src")).unwrap();
        assert_eq!(connect, "connect-src 'self' http://127.0.0.1:48621", "{path}: {csp}");
        assert!(!csp.contains("explorer"), "the explorer is a link, not a connection: {csp}");
        if path != "/assets/app.js" {
            assert!(
                body.contains("<meta name=\"honnin-bridge\" content=\"http://127.0.0.1:48621\">"),
                "{body}"
            );
            assert!(
                body.contains("<meta name=\"honnin-explorer\" content=\"https://explorer.example/tx/{tx}?a=1&amp;b=&quot;2&quot;\">"),
                "escaped: {body}"
            );
        }
    }
    // The default: the bridge's default URL, no explorer.
    let (csp, body) = get(&PageConfig::default(), "/").await;
    assert!(
        csp.contains(&format!("connect-src 'self' {};", honnin_web::DEFAULT_BRIDGE_URL)),
        "{csp}"
    );
    assert!(body.contains("name=\"honnin-bridge\"") && !body.contains("name=\"honnin-explorer\""));
    // No bridge (or one that is not an http origin): none in the page, none in the CSP.
    for bridge_url in
        [None, Some("javascript:alert(1)".to_owned()), Some("http://a b; script-src *".to_owned())]
    {
        let config = PageConfig { bridge_url, explorer_tx_url: None };
        let (csp, body) = get(&config, "/").await;
        assert!(csp.contains("connect-src 'self';"), "{csp}");
        assert!(!body.contains("honnin-bridge"), "{body}");
    }
}

#[tokio::test]
async fn routes_serve_the_assets_with_a_strict_csp() {
    let config = PageConfig { bridge_url: None, explorer_tx_url: None };
    for (path, kind, body) in [
        ("/", "text/html", honnin_web::INDEX_HTML),
        ("/status", "text/html", honnin_web::INDEX_HTML),
        ("/assets/app.js", "text/javascript", honnin_web::APP_JS),
        ("/assets/app.css", "text/css", honnin_web::APP_CSS),
        ("/assets/icon.svg", "image/svg+xml", honnin_web::APP_ICON),
        ("/favicon.ico", "image/svg+xml", honnin_web::APP_ICON),
    ] {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = honnin_web::router(&config).oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert!(headers["content-type"].to_str().unwrap().starts_with(kind), "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert_eq!(bytes, body.as_bytes(), "{path}");
    }
}

#[test]
fn the_page_loads_nothing_from_elsewhere_and_has_no_inline_code() {
    let html = honnin_web::INDEX_HTML;
    assert!(!html.contains("http://") && !html.contains("https://"), "no external URL");
    assert!(!html.contains("style="), "no inline style");
    assert!(!html.contains("<style"), "no inline style sheet");
    // Every <script> names a file of this origin.
    for script in html.split("<script").skip(1) {
        assert!(script.trim_start().starts_with("src=\"/assets/"), "inline script: {script}");
    }
    for asset in [honnin_web::APP_JS, honnin_web::APP_CSS] {
        assert!(!asset.contains("https://") && !asset.contains("http://"), "no external URL");
        assert!(!asset.contains("@import") && !asset.contains("url("), "nothing fetched");
    }
    assert!(html.contains("lang=\"ja\""), "Japanese first");
}

/// The `=> "code"` strings of every `fn code(&self)` match in the `.rs` files under `dir` (a
/// crate's `src`, searched whole: the modules move).
fn codes_in(dir: &str) -> Vec<String> {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(dir), &mut paths);
    let mut codes = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        for body in text.split("fn code(&self)").skip(1) {
            let body = body.split("\n    }\n").next().unwrap();
            codes.extend(
                body.lines()
                    .filter_map(|line| line.split("=> \"").nth(1))
                    .filter_map(|rest| rest.split('"').next())
                    .map(str::to_owned),
            );
        }
    }
    codes
}

/// Every problem `code` the API can answer: the `enum` of each error response's `code`
/// property in its OpenAPI document (generated from the API's one error table).
fn api_codes() -> Vec<String> {
    fn collect(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(codes) = map
                    .get("properties")
                    .and_then(|p| p.get("code"))
                    .and_then(|c| c.get("enum"))
                    .and_then(serde_json::Value::as_array)
                {
                    out.extend(codes.iter().filter_map(|c| c.as_str().map(str::to_owned)));
                }
                map.values().for_each(|v| collect(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    let doc = serde_json::to_value(honnin_api::openapi()).unwrap();
    let mut codes = Vec::new();
    collect(&doc, &mut codes);
    codes.sort_unstable();
    codes.dedup();
    assert!(codes.iter().any(|c| c == "challenge_used"), "the API's codes: {codes:?}");
    codes
}

#[test]
fn every_refusal_code_has_a_sentence_and_an_action_in_both_languages() {
    let mut codes = api_codes();
    codes.extend(codes_in("crates/jpki/src"));
    codes.extend(codes_in("crates/card/src"));
    assert!(codes.len() > 40, "the scan finds the codes: {codes:?}");
    assert!(codes.iter().any(|c| c == "expired") && codes.iter().any(|c| c == "pin_locked"));
    let js = honnin_web::APP_JS;
    let refusals = js.split("const REFUSALS = {").nth(1).unwrap();
    let refusals = refusals.split("\n};\n").next().unwrap();
    let (ja, en) = refusals.split_once("\n  en: {").unwrap();
    for code in &codes {
        for (lang, table) in [("ja", ja), ("en", en)] {
            let entry = format!("\n    {code}: [\"");
            let line =
                table.split(&entry).nth(1).unwrap_or_else(|| panic!("{code} has no {lang} text"));
            let line = line.lines().next().unwrap();
            assert_eq!(
                line.matches("\", \"").count(),
                1,
                "{code} ({lang}): a sentence and an action"
            );
        }
    }
    // A planted unknown code is not found: the scan can fail.
    assert!(!ja.contains("\n    no_such_code: [\""));
}

#[test]
fn every_text_the_page_shows_is_in_both_languages() {
    let html = honnin_web::INDEX_HTML;
    let keys: Vec<&str> =
        html.split("data-t=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
    assert!(keys.len() > 30 && keys.contains(&"no_number"), "the scan finds the keys: {keys:?}");
    let text = honnin_web::APP_JS.split("const TEXT = {").nth(1).unwrap();
    let text = text.split("\n};\n").next().unwrap();
    let (ja, en) = text.split_once("\n  en: {").unwrap();
    for key in keys {
        for (lang, table) in [("ja", ja), ("en", en)] {
            let found = [format!(" {key}: \""), format!("\n    {key}: \"")]
                .iter()
                .any(|entry| table.contains(entry.as_str()));
            assert!(found, "{key} has no {lang} text");
        }
    }
    assert!(!ja.contains(" no_such_key: \""), "a planted key is not found");
}
