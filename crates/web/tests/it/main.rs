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

/// The `"key": [` (or `key: "`) entries of one language's part of a table.
fn table_keys(table: &str) -> Vec<String> {
    table
        .lines()
        .flat_map(|line| line.split(", "))
        .filter_map(|part| {
            let (key, rest) = part.trim_start().split_once(": ")?;
            let ok = !key.is_empty()
                && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && (rest.starts_with('"') || rest.starts_with('['));
            ok.then(|| key.to_owned())
        })
        .collect()
}

/// A table of `app.js` (`const NAME = {`), split into its `ja` and `en` parts.
fn table(name: &str) -> (&'static str, &'static str) {
    let js = honnin_web::APP_JS;
    let body = js.split(&format!("const {name} = {{")).nth(1).unwrap();
    let body = body.split("\n};\n").next().unwrap();
    body.split_once("\n  en: {").unwrap()
}

#[test]
fn every_claim_refusal_code_has_a_sentence_and_an_action_in_both_languages() {
    // A claim is refused with a code of the signing certificate's check (honnin-jpki's
    // refusals), or with the API's own code when it offers no age claims.
    let mut codes = codes_in("crates/jpki/src");
    let claims_rs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src/claims.rs"),
    )
    .unwrap();
    let not_offered = claims_rs
        .split("const NOT_OFFERED: &str = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    codes.push(not_offered.to_owned());
    assert!(codes.iter().any(|c| c == "revoked") && codes.iter().any(|c| c == "bad_signature"));
    assert!(codes.contains(&"claims_not_offered".to_owned()), "{codes:?}");
    let (ja, en) = table("CLAIM_REFUSALS");
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
    // The claim sentences speak of the signing certificate, not the user-authentication one.
    for (code, word) in [("revoked", "署名用電子証明書"), ("expired", "署名用電子証明書")]
    {
        let line = ja.split(&format!("\n    {code}: [\"")).nth(1).unwrap().lines().next().unwrap();
        assert!(line.contains(word), "{code}: {line}");
    }
    assert!(!ja.contains("\n    no_such_code: [\""), "a planted code is not found");
}

#[test]
fn every_text_key_the_script_uses_is_in_both_languages() {
    let (ja, en) = table("TEXT");
    let (ja_keys, en_keys) = (table_keys(ja), table_keys(en));
    assert!(ja_keys.len() > 60 && ja_keys.contains(&"age_help".to_owned()), "{ja_keys:?}");
    let mut sorted = (ja_keys.clone(), en_keys.clone());
    sorted.0.sort_unstable();
    sorted.1.sort_unstable();
    assert_eq!(sorted.0, sorted.1, "the same keys in Japanese and English");
    // Keys named in the script: t("key"), badPaste("key"), and claim_<name> for each claim bit.
    let js = honnin_web::APP_JS;
    let mut used: Vec<String> = Vec::new();
    for call in ["t(\"", "badPaste(\""] {
        for (at, _) in js.match_indices(call) {
            // A call of that function, not one whose name ends the same (createElement(").
            let before = js[..at].chars().next_back().unwrap_or(' ');
            if before.is_ascii_alphanumeric() || before == '_' {
                continue;
            }
            let rest = &js[at + call.len()..];
            used.extend(rest.split('"').next().map(str::to_owned));
        }
    }
    let bits = js.split("const CLAIM_BITS = [").nth(1).unwrap().split("];").next().unwrap();
    let claims: Vec<&str> =
        bits.split(", \"").skip(1).filter_map(|r| r.split('"').next()).collect();
    assert_eq!(claims, ["unique_person", "age_over_18", "age_over_20"]);
    used.extend(claims.iter().map(|c| format!("claim_{c}")));
    assert!(used.len() > 10 && used.contains(&"bad_signing_json".to_owned()), "{used:?}");
    for key in &used {
        assert!(ja_keys.contains(key), "{key} is used but has no text");
    }
    assert!(!ja_keys.contains(&"no_such_key".to_owned()), "a planted key is not found");
}
