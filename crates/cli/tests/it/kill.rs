//! Fault tolerance: `honnin serve` killed with SIGKILL in the middle of a revocation batch, then
//! started again, lands every revocation on chain exactly once in effect, queues none twice, and
//! leaves an audit log that verifies. Real anvil (mining a block a second, so a sent batch stays
//! in flight long enough to be killed), real Postgres, the built binary.

use std::{
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::{
    primitives::Address,
    providers::{Provider as _, ProviderBuilder},
    rpc::types::Filter,
    sol_types::SolEvent as _,
};
use honnin_chain::bindings::KycRegistry;
use honnin_core::{Pepper, Store};
use honnin_jpki::{
    RevocationReason,
    test_utils::{CrlEntry, CrlSpec, SimRoot},
};

use crate::{
    lifecycle::{PEPPER, attest, honnin},
    serve::{start, write_root},
};

/// Attestations in the test: enough for several `revoke` transactions of `BATCH`.
const PEOPLE: u8 = 40;
/// The writer's batch size (`HONNIN_WRITER_BATCH_SIZE`).
const BATCH: &str = "10";

/// Polls `check` every 20 ms until it answers `Some`, for at most a minute.
fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigkill_in_a_revocation_batch_then_restart_lands_every_revocation_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let anvil = honnin_chain::test_utils::anvil().unwrap().block_time(1).try_spawn().unwrap();
    let key = format!("0x{}", hex::encode(anvil.keys()[1].to_bytes()));
    let deployed = honnin()
        .args(["deploy", "--rpc-url", &anvil.endpoint(), "--json"])
        .env("HONNIN_DEPLOYER_KEY", &key)
        .output()
        .unwrap();
    assert!(deployed.status.success(), "{}", String::from_utf8_lossy(&deployed.stderr));
    let deployed: serde_json::Value = serde_json::from_slice(&deployed.stdout).unwrap();
    let registry: Address = deployed["registry"].as_str().unwrap().parse().unwrap();

    let pg = honnin_store::test_utils::test_server().unwrap();
    let url = pg.create_database().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = SimRoot::new(0);
    let crl = dir.path().join("auth.crl");
    std::fs::write(&crl, root.crl(&CrlSpec::default())).unwrap();
    let pepper = Pepper::from_hex(PEPPER).unwrap();

    // People recorded as the API records them: their `attest` items wait in the outbox.
    let serials: Vec<Vec<u8>> = (1..=PEOPLE).map(|i| vec![0x51, i, 0x5a, i]).collect();
    let (store, wallets) = rt.block_on(async {
        let store: Arc<dyn Store> =
            honnin_store::migrate(&url, &honnin_store::StoreOptions::default()).await.unwrap();
        let mut wallets = Vec::new();
        for serial in &serials {
            wallets.push(attest(store.as_ref(), &pepper, root.key_id(), serial).await);
        }
        (store, wallets)
    });
    let pool = rt.block_on(sqlx::PgPool::connect(&url)).unwrap();
    let count = |sql: &'static str| -> i64 {
        rt.block_on(sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool)).unwrap()
    };

    let env = vec![
        ("HONNIN_TRUST_ANCHORS", write_root(dir.path(), &root)),
        ("HONNIN_REVOCATION", format!("crl:{}", crl.display())),
        ("HONNIN_REVOCATION_SYNC_SECS", "1".into()),
        ("HONNIN_PEPPER", PEPPER.into()),
        ("HONNIN_DOMAIN", "kyc.example.jp".into()),
        ("HONNIN_CHAIN_ID", "31337".into()),
        ("HONNIN_REGISTRY", registry.to_string()),
        ("HONNIN_RPC_URL", anvil.endpoint()),
        ("HONNIN_ATTESTER_KEY", key.clone()),
        ("HONNIN_WRITER_BATCH_SIZE", BATCH.into()),
        ("HONNIN_DATABASE_URL", url.clone()),
    ];
    let mut server = start(&env);
    until("every attestation active", || {
        (count("SELECT count(*) FROM attestations WHERE status = 'active'") == i64::from(PEOPLE))
            .then_some(())
    });

    // Every certificate is revoked; the next sync queues the revokes and the writer sends them.
    let now = time::OffsetDateTime::now_utc();
    let entries = serials
        .iter()
        .map(|serial| CrlEntry {
            serial: serial.clone(),
            reason: Some(RevocationReason::KeyCompromise),
            time: now - time::Duration::minutes(1),
        })
        .collect();
    std::fs::write(&crl, root.crl(&CrlSpec { entries, ..CrlSpec::default() })).unwrap();
    until("a revoke batch in flight", || {
        (count("SELECT count(*) FROM outbox WHERE kind = 'revoke' AND state = 'sent'") > 0)
            .then_some(())
    });
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    let confirmed_at_kill =
        count("SELECT count(*) FROM outbox WHERE kind = 'revoke' AND state = 'confirmed'");
    assert!(confirmed_at_kill < i64::from(PEOPLE), "the kill came before the last batch landed");

    // Started again: it reconciles what was in flight and sends the rest.
    let server = start(&env);
    until("every revoke confirmed", || {
        (count("SELECT count(*) FROM outbox WHERE kind = 'revoke' AND state = 'confirmed'")
            == i64::from(PEOPLE))
        .then_some(())
    });

    // In effect exactly once: each wallet revoked on chain for its certificate, one revoke
    // queued per attestation (the sync after the restart queued nothing again), and one
    // `attestation_revoked` audit row each.
    rt.block_on(async {
        let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
        let registry_contract = KycRegistry::new(registry, &provider);
        for wallet in &wallets {
            assert!(!registry_contract.isVerified_1(*wallet).call().await.unwrap());
            let record = registry_contract.attestationOf_1(*wallet).call().await.unwrap();
            assert_eq!(record.revocationReason, 3, "revoked for its certificate");
        }
        let logs = provider
            .get_logs(
                &Filter::new()
                    .address(registry)
                    .event_signature(KycRegistry::Revoked::SIGNATURE_HASH)
                    .from_block(0),
            )
            .await
            .unwrap();
        let mut revoked: Vec<Address> = logs
            .iter()
            .map(|log| KycRegistry::Revoked::decode_log_data(log.data()).unwrap().wallet)
            .collect();
        revoked.sort();
        revoked.dedup();
        assert_eq!(revoked.len(), wallets.len(), "every wallet has its Revoked event");
    });
    assert_eq!(
        count(
            "SELECT count(*) FROM (SELECT attestation_id FROM outbox WHERE kind = 'revoke' \
             GROUP BY attestation_id HAVING count(*) > 1) twice"
        ),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM attestations WHERE status = 'revoked'"),
        i64::from(PEOPLE)
    );
    assert_eq!(
        count("SELECT count(*) FROM audit_log WHERE kind = 'attestation_revoked'"),
        i64::from(PEOPLE)
    );
    drop(server);
    drop(store);

    // The audit log survived the kill whole.
    let verify = honnin()
        .args(["audit", "verify"])
        .env("HONNIN_DATABASE_URL", &url)
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
