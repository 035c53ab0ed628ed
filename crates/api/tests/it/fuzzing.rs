//! Schema-driven fuzzing: schemathesis (pinned, installed by `scripts/install-tools` into
//! `.tools/schemathesis`) drives every operation of the document the running service serves,
//! on a real socket (port 0) over a real store, and fails on any 5xx, an undocumented status,
//! a content type or a body or header that does not match the document.
//!
//! A missing schemathesis is a failure (`scripts/test` installs it first), unless
//! `HONNIN_SKIP_SCHEMATHESIS=1` says to skip.

use std::{path::PathBuf, process::Stdio};

use honnin_api::{AdminToken, Auth, TokenDigest};

use crate::support::{Harness, Options, Served};

const TOKEN: &str = "fuzzing-admin-token";

/// The schemathesis CLI: `$HONNIN_SCHEMATHESIS`, else the workspace's `.tools/schemathesis`.
fn schemathesis() -> Option<PathBuf> {
    let path = std::env::var_os("HONNIN_SCHEMATHESIS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/schemathesis/bin/st")
    });
    path.exists().then_some(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_driven_fuzzing_finds_no_server_error_or_undocumented_answer() {
    let Some(st) = schemathesis() else {
        if std::env::var("HONNIN_SKIP_SCHEMATHESIS").is_ok_and(|v| v == "1") {
            #[allow(clippy::print_stderr)] // the one line saying why nothing ran
            {
                eprintln!("schemathesis skipped (HONNIN_SKIP_SCHEMATHESIS=1)");
            }
            return;
        }
        panic!(
            "schemathesis is not installed: run scripts/install-tools (or set \
             HONNIN_SKIP_SCHEMATHESIS=1 to skip this test explicitly)"
        );
    };
    let auth = Auth {
        admin_tokens: vec![AdminToken { id: "ops".into(), sha256: TokenDigest::of(TOKEN) }],
        api_keys: vec![],
    };
    let h = Harness::with(Options { auth, ..Options::default() }).await;
    let served = Served::start(&h.app).await;
    let addr = served.addr;
    let work = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(&st)
        .current_dir(work.path())
        .env("NO_COLOR", "1")
        .args([
            "run",
            &format!("http://{addr}/openapi.json"),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_headers_conformance,response_schema_conformance",
            "--header",
            &format!("Authorization: Bearer {TOKEN}"),
            "--phases",
            "examples,coverage,fuzzing",
            "--mode",
            "all",
            "--max-examples",
            "40",
            "--seed",
            "1",
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--request-timeout",
            "30",
            "--no-color",
        ])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run schemathesis");
    served.stop().await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "schemathesis found problems:\n{stdout}\n{stderr}");
    // Every route was exercised (the service's own latency metric, by route template).
    let metrics = h.metrics.encode().unwrap();
    for route in [
        "/v1/challenges",
        "/v1/attestations",
        "/v1/attestations/{wallet}",
        "/v1/revocations",
        "/v1/erasures",
        "/v1/admin/audit",
        "/v1/admin/revocations",
        "/v1/admin/webhooks",
        "/v1/admin/webhooks/{id}",
        "/v1/admin/webhooks/{id}/secret",
        "/v1/admin/webhook-deliveries",
        "/v1/admin/webhook-deliveries/{id}/redeliver",
        "/health",
        "/ready",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(
            metrics.contains(&format!("route=\"{route}\"")),
            "schemathesis never called {route}:\n{stdout}"
        );
    }
}
