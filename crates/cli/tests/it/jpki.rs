//! `honnin jpki verify | inspect | mint`.

use std::{path::Path, process::Command};

use honnin_jpki::{
    RevocationReason,
    test_utils::{CardSpec, CrlEntry, CrlSpec, SimRoot},
};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

const MESSAGE: &[u8] = b"honnin.example challenge\nNonce: 1234\n";

/// Runs `honnin` with `args`; returns exit code and stdout parsed as JSON (Null if not JSON).
#[track_caller]
fn honnin(args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_honnin")).args(args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let value = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    if !stdout.trim().is_empty() {
        assert_eq!(stdout.trim().lines().count(), 1, "one JSON object: {stdout}");
    }
    (out.status.code().unwrap(), value)
}

struct Files {
    dir: tempfile::TempDir,
    serial: Vec<u8>,
}

impl Files {
    fn p(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let root = SimRoot::new(0);
    let card = root.issue(&CardSpec::default());
    let w = |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes).unwrap();
    std::fs::create_dir(dir.path().join("anchors")).unwrap();
    w("anchors/root.pem", root.pem().as_bytes());
    w("card.pem", card.pem().as_bytes());
    w("card.der", card.der());
    w("message.txt", MESSAGE);
    w("sig.bin", &card.sign(MESSAGE));
    w("sig-sha1.bin", &card.sign_sha1(MESSAGE));
    w("good.crl", &root.crl(&CrlSpec::default()));
    let entry = CrlEntry {
        serial: card.serial().to_vec(),
        reason: Some(RevocationReason::Superseded),
        time: OffsetDateTime::now_utc() - Duration::days(1),
    };
    w("revoked.crl", &root.crl(&CrlSpec { entries: vec![entry], ..CrlSpec::default() }));
    let now = OffsetDateTime::now_utc();
    w(
        "stale.crl",
        &root.crl(&CrlSpec {
            this_update: now - Duration::days(3),
            next_update: Some(now - Duration::days(2)),
            entries: vec![],
        }),
    );
    Files { dir, serial: card.serial().to_vec() }
}

fn verify_args<'a>(f: &'a [String; 4], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "jpki",
        "verify",
        "--anchors",
        &f[0],
        "--cert",
        &f[1],
        "--message",
        &f[2],
        "--signature",
        &f[3],
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn verify_accepts_and_refuses_with_exit_codes() {
    let f = files();
    let paths = [f.p("anchors"), f.p("card.pem"), f.p("message.txt"), f.p("sig.bin")];
    let (code, out) = honnin(&verify_args(&paths, &[]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["ok"], true);
    assert_eq!(out["key_algorithm"], "rsa-2048");
    assert_eq!(out["revocation"], "not_checked");
    assert!(out["issuer"].as_str().unwrap().contains("JPKI for user authentication"));
    assert!(out["not_after"].as_str().unwrap().ends_with('Z'));

    // DER certificate, good CRL.
    let der_paths = [f.p("anchors/root.pem"), f.p("card.der"), f.p("message.txt"), f.p("sig.bin")];
    let crl = f.p("good.crl");
    let (code, out) = honnin(&verify_args(&der_paths, &["--crl", &crl]));
    assert_eq!((code, &out["revocation"]), (0, &Value::from("good")), "{out}");

    let cases: [(&str, Vec<String>, &str); 5] = [
        ("sha-1 signature", vec![], "weak_hash"),
        ("revoked", vec!["--crl".into(), f.p("revoked.crl")], "revoked"),
        ("stale crl", vec!["--crl".into(), f.p("stale.crl")], "stale_revocation_data"),
        ("expired", vec!["--at".into(), "2033-06-01T00:00:00Z".into()], "expired"),
        ("not yet valid", vec!["--at".into(), "2000-01-01T00:00:00Z".into()], "untrusted_issuer"),
    ];
    for (what, extra, expected) in cases {
        let sig = if what == "sha-1 signature" { f.p("sig-sha1.bin") } else { f.p("sig.bin") };
        let paths = [f.p("anchors"), f.p("card.pem"), f.p("message.txt"), sig];
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let (code, out) = honnin(&verify_args(&paths, &extra));
        assert_eq!(code, 1, "{what}: {out}");
        assert_eq!(out["ok"], false, "{what}");
        assert_eq!(out["refusal"], expected, "{what}: {out}");
    }

    // The refusal output carries no serial and no subject id.
    let paths = [f.p("anchors"), f.p("card.pem"), f.p("sig.bin"), f.p("sig.bin")];
    let (code, out) = honnin(&verify_args(&paths, &[]));
    assert_eq!((code, &out["refusal"]), (1, &Value::from("bad_signature")));
    let text = out.to_string();
    assert!(!text.contains(&hex::encode(&f.serial)) && !text.contains("0123A4B5C6D7E8F9G0H1I2J"));
}

#[test]
fn verify_usage_errors_exit_2() {
    let f = files();
    let ok = [f.p("anchors"), f.p("card.pem"), f.p("message.txt"), f.p("sig.bin")];
    let missing = [f.p("anchors"), f.p("nope.pem"), f.p("message.txt"), f.p("sig.bin")];
    let empty_anchors = tempfile::tempdir().unwrap();
    let no_anchors = [
        empty_anchors.path().display().to_string(),
        f.p("card.pem"),
        f.p("message.txt"),
        f.p("sig.bin"),
    ];
    assert_eq!(honnin(&verify_args(&missing, &[])).0, 2);
    assert_eq!(honnin(&verify_args(&no_anchors, &[])).0, 2);
    assert_eq!(honnin(&verify_args(&ok, &["--at", "yesterday"])).0, 2);
    assert_eq!(honnin(&verify_args(&ok, &["--crl", &f.p("message.txt")])).0, 2);
    assert_eq!(honnin(&["jpki", "verify", "--cert", &f.p("card.pem")]).0, 2);
    assert_eq!(honnin(&["jpki", "frobnicate"]).0, 2);
}

#[test]
fn inspect_hides_the_subject_unless_asked() {
    let f = files();
    let (code, out) = honnin(&["jpki", "inspect", "--cert", &f.p("card.pem")]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["key_algorithm"], "rsa-2048");
    assert_eq!(out["policies"][0], "1.2.392.200149.8.5.1.3.30");
    assert_eq!(out["ocsp_urls"][0], "http://ocspauthnorm.jpki.go.jp");
    assert_eq!(out["key_usage_digital_signature"], true);
    assert_eq!(out["extended_key_usage_client_auth"], true);
    assert!(out.get("subject_id").is_none() && out.get("serial").is_none());
    assert!(!out.to_string().contains("0123A4B5C6D7E8F9G0H1I2J"));

    let (code, out) = honnin(&["jpki", "inspect", "--cert", &f.p("card.der"), "--show-subject"]);
    assert_eq!(code, 0);
    assert_eq!(out["subject_id"], "0123A4B5C6D7E8F9G0H1I2J");
    assert_eq!(out["serial"], hex::encode(&f.serial));

    let (code, out) = honnin(&["jpki", "inspect", "--cert", &f.p("message.txt")]);
    assert_eq!((code, &out["refusal"]), (1, &Value::from("malformed_certificate")));
}

#[test]
fn mint_output_verifies() {
    let dir = tempfile::tempdir().unwrap();
    for key in ["rsa2048", "p256", "p384"] {
        let out_dir = dir.path().join(key);
        let out = out_dir.display().to_string();
        let (code, value) = honnin(&["jpki", "mint", "--out", &out, "--key", key]);
        assert_eq!(code, 0, "{value}");
        let p = |n: &str| Path::new(&out).join(n).display().to_string();
        let (code, value) = honnin(&[
            "jpki",
            "verify",
            "--anchors",
            &p("root.pem"),
            "--cert",
            &p("card.pem"),
            "--message",
            &p("message.txt"),
            "--signature",
            &p("signature.bin"),
            "--crl",
            &p("crl.der"),
        ]);
        assert_eq!(code, 0, "{key}: {value}");
        assert_eq!(value["revocation"], "good");
    }
}
