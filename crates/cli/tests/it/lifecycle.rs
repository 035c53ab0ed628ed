//! `honnin revocation sync --once`, `honnin audit verify` and `honnin audit export` as
//! processes, against a SQLite database prepared through the store.

use std::{path::Path, process::Command, sync::Arc};

use honnin_core::{
    Address, AttestationStatus, AuditEventKind, ChallengeSettings, NewAuditEvent, Pepper, Policy,
    Purpose, ServiceDomain, Store, VerifiedRequest, WalletProof, attestation::NewAttestation,
};
use honnin_jpki::{
    RevocationReason,
    test_utils::{CrlEntry, CrlSpec, SimRoot},
};
use time::Duration;

pub(crate) const PEPPER: &str = "4242424242424242424242424242424242424242424242424242424242424242";

pub(crate) fn honnin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_honnin"));
    for (key, _) in std::env::vars() {
        if key.starts_with("HONNIN_") {
            command.env_remove(key);
        }
    }
    command
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("honnin.db").display())
}

async fn open(url: &str) -> Arc<dyn Store> {
    honnin_store::migrate(url, &honnin_store::StoreOptions::default()).await.unwrap()
}

/// Records an attestation for (root, serial) as the API does.
pub(crate) async fn attest(
    store: &dyn Store,
    pepper: &Pepper,
    root: &[u8],
    serial: &[u8],
) -> Address {
    let mut bytes = [0x11u8; 20];
    bytes[20 - serial.len()..].copy_from_slice(serial);
    let wallet = Address::from(bytes);
    let settings =
        ChallengeSettings::new(ServiceDomain::new("honnin.test").unwrap(), 31337, Address::ZERO);
    let now = honnin_core::time::now();
    let challenge = settings.issue(Purpose::Attest, wallet, None, now);
    store.insert_challenge(&challenge).await.unwrap();
    store.consume_challenge(&challenge.id, Purpose::Attest, now).await.unwrap();
    let request = VerifiedRequest {
        challenge_id: challenge.id,
        request_digest: pepper.request_digest(&challenge.id, serial, b"sig", wallet.as_slice()),
        wallet,
        wallet_proof: WalletProof::Eoa,
        scope: None,
        person: pepper.pseudonym(root, serial),
        cert: pepper.cert_hash(root, serial),
        cert_not_after: now + Duration::days(365),
        sealed: pepper.seal_cert(root, serial),
    };
    let policy = Policy::default();
    let new = NewAttestation::new(request, &policy, now);
    store.record_attestation(&new, &policy, now).await.unwrap();
    wallet
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_sync_once_prints_what_it_did_and_revokes() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let store = open(&url).await;
    let pepper = Pepper::from_hex(PEPPER).unwrap();
    let root = tokio::task::spawn_blocking(|| SimRoot::new(0)).await.unwrap();
    std::fs::write(dir.path().join("root.pem"), root.pem()).unwrap();
    let (revoked_serial, kept_serial) = (vec![0x41, 1, 2, 3], vec![0x41, 9, 9, 9]);
    let revoked = attest(store.as_ref(), &pepper, root.key_id(), &revoked_serial).await;
    let kept = attest(store.as_ref(), &pepper, root.key_id(), &kept_serial).await;
    let mut entries = vec![CrlEntry {
        serial: revoked_serial.clone(),
        reason: Some(RevocationReason::KeyCompromise),
        time: honnin_core::time::now() - Duration::hours(1),
    }];
    entries.extend((0..1_500u32).map(|i| CrlEntry {
        serial: [&[0x42][..], &i.to_be_bytes()].concat(),
        reason: Some(RevocationReason::CessationOfOperation),
        time: honnin_core::time::now() - Duration::days(3),
    }));
    let crl_root = root.clone();
    let crl = tokio::task::spawn_blocking(move || {
        crl_root.crl(&CrlSpec { entries, ..CrlSpec::default() })
    })
    .await
    .unwrap();
    let crl_path = dir.path().join("auth.crl");
    std::fs::write(&crl_path, crl).unwrap();

    let run = |crl: &Path| {
        honnin()
            .args(["revocation", "sync", "--once"])
            .env("HONNIN_DATABASE_URL", &url)
            .env("HONNIN_TRUST_ANCHORS", dir.path().join("root.pem"))
            .env("HONNIN_REVOCATION", format!("crl:{}", crl.display()))
            .env("HONNIN_PEPPER", PEPPER)
            .output()
            .unwrap()
    };
    let out = run(&crl_path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("auth.crl: verified, 1501 entries"), "{stdout}");
    assert!(stdout.contains("applied 1000/1501"), "{stdout}");
    assert!(stdout.contains("applied 1501/1501"), "{stdout}");
    assert!(stdout.contains("1 attestation(s) revoked"), "{stdout}");
    // Nothing personal on stdout or stderr: no serial, no pepper.
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains(&hex::encode(&revoked_serial)) && !all.contains(PEPPER), "{all}");

    let status = |wallet| {
        let store = store.clone();
        async move { store.attestation_by_wallet(wallet, None).await.unwrap().unwrap().status }
    };
    assert_eq!(status(revoked).await, AttestationStatus::Revoked);
    assert_eq!(status(kept).await, AttestationStatus::Pending);

    // A CRL that cannot be read: exit 1, the failure named.
    let out = run(&dir.path().join("missing.crl"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAILED (crl)") && stdout.contains("missing.crl"), "{stdout}");

    // The sync was audited; the chain verifies.
    let out = honnin().args(["audit", "verify"]).env("HONNIN_DATABASE_URL", &url).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("audit log intact: 1 rows"), "{stdout}");
}

/// Appends `n` events through the store.
async fn audit_rows(store: &dyn Store, n: usize) {
    let now = honnin_core::time::now();
    let events: Vec<_> = (0..n)
        .map(|i| {
            NewAuditEvent::new(
                AuditEventKind::VerificationRefused,
                now + Duration::seconds(i as i64),
            )
            .with_code("bad_signature")
        })
        .collect();
    store.append_audit(&events).await.unwrap();
}

async fn execute(url: &str, sql: &'static str) {
    use sqlx::Connection as _;
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}

/// A fresh database URL: SQLite in `dir`, or a new database on the test Postgres server.
async fn fresh_url(
    postgres: bool,
    dir: &Path,
) -> (String, Option<honnin_store::test_utils::TestServer>) {
    if !postgres {
        return (sqlite_url(dir), None);
    }
    tokio::task::spawn_blocking(|| {
        let server = honnin_store::test_utils::test_server().unwrap();
        let url = server.create_database().unwrap();
        (url, Some(server))
    })
    .await
    .unwrap()
}

#[track_caller]
fn verify(url: &str) -> (i32, String) {
    let out = honnin().args(["audit", "verify"]).env("HONNIN_DATABASE_URL", url).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_the_edited_or_deleted_row_sqlite() {
    audit_verify_names_the_edited_or_deleted_row(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_the_edited_or_deleted_row_postgres() {
    audit_verify_names_the_edited_or_deleted_row(true).await;
}

async fn audit_verify_names_the_edited_or_deleted_row(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let (url, _server) = fresh_url(postgres, dir.path()).await;
    let store = open(&url).await;
    audit_rows(store.as_ref(), 6).await;
    assert_eq!(verify(&url), (0, "audit log intact: 6 rows (head 6)\n".into()));

    // Edit row 4.
    execute(&url, "UPDATE audit_log SET code = 'accepted' WHERE seq = 4").await;
    let (code, stdout) = verify(&url);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("row 4 was edited"), "{stdout}");
    execute(&url, "UPDATE audit_log SET code = 'bad_signature' WHERE seq = 4").await;
    assert_eq!(verify(&url).0, 0);

    // Delete row 2.
    execute(&url, "DELETE FROM audit_log WHERE seq = 2").await;
    let (code, stdout) = verify(&url);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("audit row 2 is missing"), "{stdout}");

    // Delete the tail of a fresh log.
    let dir = tempfile::tempdir().unwrap();
    let (url, _server) = fresh_url(postgres, dir.path()).await;
    let store = open(&url).await;
    audit_rows(store.as_ref(), 3).await;
    execute(&url, "DELETE FROM audit_log WHERE seq = 3").await;
    let (code, stdout) = verify(&url);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("rows after 2 are missing"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_export_writes_json_lines_in_a_time_range() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let store = open(&url).await;
    audit_rows(store.as_ref(), 5).await;
    let out_file = dir.path().join("audit.jsonl");
    let out = honnin()
        .args(["audit", "export", "--out"])
        .arg(&out_file)
        .env("HONNIN_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exported 5 audit rows"));
    let text = std::fs::read_to_string(&out_file).unwrap();
    let rows: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["seq"], 1);
    assert_eq!(rows[0]["kind"], "verification_refused");
    assert_eq!(rows[0]["code"], "bad_signature");
    assert!(rows[0]["hash"].as_str().unwrap().starts_with("0x"));
    assert_eq!(rows[1]["prev_hash"], rows[0]["hash"]);

    // A time range on stdout: rows 2 and 3 only (one second apart).
    let from = rows[1]["at"].as_str().unwrap();
    let to = rows[3]["at"].as_str().unwrap();
    let out = honnin()
        .args(["audit", "export", "--from", from, "--to", to, "--event", "verification_refused"])
        .env("HONNIN_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seqs: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![2, 3]);
}
