//! One test body, two backends; a simulated root, its cards and CRLs; attestations recorded as
//! the API records them (the same keyed hashes, the sealed serial).

use std::{num::NonZeroU32, path::PathBuf, sync::Arc};

use honnin_core::{
    Address, AtLimit, AttestationId, AttestationStatus, ChallengeSettings, OutboxAction, Pepper,
    Policy, Purpose, ScopeName, ServiceDomain, Store, StoreError, VerifiedRequest, WalletProof,
    attestation::NewAttestation, audit::AuditLog,
};
use honnin_jpki::{
    RevocationReason as CardReason, TrustAnchors,
    test_utils::{CardSpec, CrlEntry, CrlSpec, SimCard, SimRoot},
};
use honnin_store::{StoreOptions, connect, test_utils};
use tempfile::TempDir;
use time::{Duration, OffsetDateTime};

/// Runs each named async body (`async fn name(db: &TestDb)`) once on Postgres and once on
/// SQLite, as `name::postgres` and `name::sqlite`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let db = $crate::harness::TestDb::postgres().await;
                    super::$name(&db).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = $crate::harness::TestDb::sqlite().await;
                    super::$name(&db).await;
                }
            }
        )*
    };
}
pub(crate) use both_backends;

/// A migrated, empty database, a simulated root trusted by it, a pepper and an audit log
/// writer; a temp folder for CRL and feed files.
pub(crate) struct TestDb {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) pepper: Arc<Pepper>,
    pub(crate) root: SimRoot,
    pub(crate) anchors: Arc<TrustAnchors>,
    pub(crate) audit: AuditLog,
    pub(crate) dir: TempDir,
    _guard: Option<test_utils::TestServer>,
}

fn options() -> StoreOptions {
    let mut options = StoreOptions::default();
    options.postgres.max_connections = 8;
    options.sqlite.max_connections = 4;
    options
}

impl TestDb {
    pub(crate) async fn postgres() -> Self {
        let (server, url) = tokio::task::spawn_blocking(|| {
            let server = test_utils::test_server().unwrap();
            let url = server.create_database().unwrap();
            (server, url)
        })
        .await
        .unwrap();
        Self::with(&url, Some(server)).await
    }

    pub(crate) async fn sqlite() -> Self {
        Self::with_sqlite().await
    }

    async fn with_sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("honnin.db").display());
        Self::with_dir(&url, None, dir).await
    }

    async fn with(url: &str, guard: Option<test_utils::TestServer>) -> Self {
        Self::with_dir(url, guard, tempfile::tempdir().unwrap()).await
    }

    async fn with_dir(url: &str, guard: Option<test_utils::TestServer>, dir: TempDir) -> Self {
        let store = connect(url, &options()).await.unwrap();
        store.migrate().await.unwrap();
        let (audit, task) = AuditLog::new(store.clone());
        tokio::spawn(task);
        let root = tokio::task::spawn_blocking(|| SimRoot::new(0)).await.unwrap();
        let anchors = Arc::new(root.anchors());
        Self {
            store,
            pepper: Arc::new(Pepper::from_bytes(vec![7; 32]).unwrap()),
            root,
            anchors,
            audit,
            dir,
            _guard: guard,
        }
    }

    /// A card from the simulated root with a random serial.
    pub(crate) async fn card(&self) -> SimCard {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            root.issue(&CardSpec { serial: random_serial(), ..CardSpec::default() })
        })
        .await
        .unwrap()
    }

    /// Records an attestation for `serial` and `wallet`, as the API does after verifying the
    /// card, at `issued_at` under `policy`.
    pub(crate) async fn attest_at(
        &self,
        serial: &[u8],
        wallet: Address,
        policy: &Policy,
        issued_at: OffsetDateTime,
    ) -> Result<AttestationId, StoreError> {
        self.attest_in(None, serial, wallet, policy, issued_at).await
    }

    /// [`Self::attest_at`] in `scope` (`None`: the global record), under the scope's hashes.
    pub(crate) async fn attest_in(
        &self,
        scope: Option<&ScopeName>,
        serial: &[u8],
        wallet: Address,
        policy: &Policy,
        issued_at: OffsetDateTime,
    ) -> Result<AttestationId, StoreError> {
        let settings = ChallengeSettings::new(
            ServiceDomain::new("honnin.test").unwrap(),
            31337,
            Address::repeat_byte(0x42),
        );
        let challenge = settings.issue_in(Purpose::Attest, wallet, None, scope.cloned(), now());
        self.store.insert_challenge(&challenge).await.unwrap();
        self.store.consume_challenge(&challenge.id, Purpose::Attest, now()).await.unwrap();
        let key_id = self.root.key_id();
        let scope = scope.map(ScopeName::id);
        let request = VerifiedRequest {
            challenge_id: challenge.id,
            request_digest: self.pepper.request_digest(
                &challenge.id,
                serial,
                b"card signature",
                wallet.as_slice(),
            ),
            wallet,
            wallet_proof: WalletProof::Eoa,
            scope,
            person: self.pepper.pseudonym_in(scope.as_ref(), key_id, serial),
            cert: self.pepper.cert_hash_in(scope.as_ref(), key_id, serial),
            cert_not_after: now() + Duration::days(5 * 365),
            sealed: self.pepper.seal_cert(key_id, serial),
        };
        let new = NewAttestation::new(request, policy, issued_at);
        let recorded = self.store.record_attestation(&new, policy, now()).await?;
        Ok(recorded.receipt.attestation_id)
    }

    /// Records an attestation now under the default policy, and confirms its `attest` on chain
    /// (so a revocation must queue a `revoke`).
    pub(crate) async fn attest_active(&self, serial: &[u8], wallet: Address) -> AttestationId {
        self.attest_active_in(None, serial, wallet).await
    }

    /// [`Self::attest_active`] in `scope`.
    pub(crate) async fn attest_active_in(
        &self,
        scope: Option<&ScopeName>,
        serial: &[u8],
        wallet: Address,
    ) -> AttestationId {
        let id = self.attest_in(scope, serial, wallet, &policy(), now()).await.unwrap();
        let items = self.store.claim_outbox(100, Duration::minutes(1), now()).await.unwrap();
        let ids: Vec<_> = items
            .iter()
            .filter(|i| matches!(i.action, OutboxAction::Attest { attestation, .. } if attestation == id))
            .map(|i| i.id)
            .collect();
        assert_eq!(ids.len(), 1, "the attest item is queued");
        self.store.mark_confirmed(&ids, honnin_core::B256::repeat_byte(1), 1, now()).await.unwrap();
        assert_eq!(self.status(id).await, AttestationStatus::Active);
        id
    }

    pub(crate) async fn status(&self, id: AttestationId) -> AttestationStatus {
        self.store.attestation(&id).await.unwrap().unwrap().status
    }

    /// Every queued `revoke` item: wallet, scope, reason (claiming them).
    pub(crate) async fn queued_scoped_revokes(
        &self,
    ) -> Vec<(Address, Option<honnin_core::Scope>, honnin_core::RevocationReason)> {
        let items = self.store.claim_outbox(1_000, Duration::minutes(1), now()).await.unwrap();
        items
            .into_iter()
            .filter_map(|i| match i.action {
                OutboxAction::Revoke { wallet, reason, scope, .. } => Some((wallet, scope, reason)),
                OutboxAction::Attest { .. } => None,
            })
            .collect()
    }

    /// The `revoke` items queued for `wallet` (claiming them).
    pub(crate) async fn queued_revokes(
        &self,
        wallet: Address,
    ) -> Vec<honnin_core::RevocationReason> {
        let items = self.store.claim_outbox(1_000, Duration::minutes(1), now()).await.unwrap();
        items
            .into_iter()
            .filter_map(|i| match i.action {
                OutboxAction::Revoke { wallet: w, reason, .. } if w == wallet => Some(reason),
                _ => None,
            })
            .collect()
    }

    /// Writes a CRL from the simulated root listing `entries` to a file; returns its path.
    pub(crate) async fn crl_file(
        &self,
        name: &str,
        entries: Vec<(Vec<u8>, CardReason)>,
    ) -> PathBuf {
        let root = self.root.clone();
        let der = tokio::task::spawn_blocking(move || {
            root.crl(&CrlSpec {
                entries: entries
                    .into_iter()
                    .map(|(serial, reason)| CrlEntry {
                        serial,
                        reason: Some(reason),
                        time: now() - Duration::minutes(30),
                    })
                    .collect(),
                ..CrlSpec::default()
            })
        })
        .await
        .unwrap();
        let path = self.dir.path().join(name);
        std::fs::write(&path, der).unwrap();
        path
    }

    /// Writes a renewal link feed; returns its path.
    pub(crate) fn links_file(&self, lines: &[(&[u8], &[u8])]) -> PathBuf {
        let key_id = hex::encode(self.root.key_id());
        let text: String = lines
            .iter()
            .map(|(old, new)| {
                format!(
                    "{{\"issuer_key_id\": \"{key_id}\", \"old_serial\": \"{}\", \"new_serial\": \"{}\"}}\n",
                    hex::encode(old),
                    hex::encode(new)
                )
            })
            .collect();
        let path = self.dir.path().join("links.jsonl");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The audit rows, in order.
    pub(crate) async fn audit_rows(&self) -> Vec<honnin_core::AuditRecord> {
        self.store.audit_page(&honnin_core::AuditQuery::all_after(None, 10_000)).await.unwrap()
    }
}

pub(crate) fn now() -> OffsetDateTime {
    honnin_core::time::now()
}

pub(crate) fn policy() -> Policy {
    Policy::new(NonZeroU32::MIN, AtLimit::Refuse, Duration::days(365)).unwrap()
}

pub(crate) fn random_wallet() -> Address {
    let mut bytes = [0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    Address::from(bytes)
}

/// A positive serial of 16 random bytes.
pub(crate) fn random_serial() -> Vec<u8> {
    let mut serial = vec![0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut serial);
    serial[0] = 0x40 | (serial[0] & 0x3f);
    serial
}
