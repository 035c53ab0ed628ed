//! `honnin openapi`: prints the document the API serves at `/openapi.json`, without a server.

use std::process::Command;

#[test]
fn prints_the_served_document() {
    let out = Command::new(env!("CARGO_BIN_EXE_honnin")).arg("openapi").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, serde_json::to_value(honnin_api::openapi()).unwrap());
    assert!(printed["paths"]["/v1/attestations"]["post"].is_object());
}
