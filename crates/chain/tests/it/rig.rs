//! A chain writer rig: anvil, a registry whose attester (account 1) may also revoke, a real
//! store (SQLite in a temp dir, or a fresh database on the throwaway Postgres), and helpers to
//! queue attestations the way the API does, globally or in a registered scope.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, FixedBytes};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, bail};
use honnin_chain::bindings::KycRegistry;
use honnin_chain::test_utils::{AnvilInstance, spawn_anvil};
use honnin_chain::writer::{AttesterKey, ChainWriter, WriterConfig};
use honnin_chain::{DeployOptions, deploy};
use honnin_core::{
    AtLimit, Attestation, AttestationStatus, ChallengeSettings, Level, NewAttestation, Pepper,
    Policy, Purpose, Recorded, Scope, ScopeName, ServiceDomain, Store, VerifiedRequest,
    WalletProof,
};
use honnin_store::{StoreOptions, connect, test_utils};
use time::OffsetDateTime;

#[allow(dead_code)] // holds resources until drop
enum Guard {
    Postgres(test_utils::TestServer),
    Sqlite(tempfile::TempDir),
}

/// Anvil + registry + store.
pub(crate) struct Rig {
    pub(crate) anvil: AnvilInstance,
    pub(crate) provider: DynProvider,
    pub(crate) registry: KycRegistry::KycRegistryInstance<DynProvider>,
    pub(crate) key: AttesterKey,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) url: String,
    _guard: Guard,
}

pub(crate) fn store_options() -> StoreOptions {
    let mut options = StoreOptions::default();
    options.postgres.max_connections = 10;
    options.sqlite.max_connections = 4;
    options
}

impl Rig {
    pub(crate) async fn sqlite() -> Result<Self> {
        Self::sqlite_on(spawn_anvil()?).await
    }

    /// A rig over a SQLite store and the given anvil (for node options such as a block time).
    pub(crate) async fn sqlite_on(anvil: AnvilInstance) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("honnin.db").display());
        Self::start(anvil, url, Guard::Sqlite(dir)).await
    }

    pub(crate) async fn postgres() -> Result<Self> {
        let (server, url) = tokio::task::spawn_blocking(|| -> Result<_> {
            let server = test_utils::test_server()?;
            let url = server.create_database()?;
            Ok((server, url))
        })
        .await??;
        Self::start(spawn_anvil()?, url, Guard::Postgres(server)).await
    }

    async fn start(anvil: AnvilInstance, url: String, guard: Guard) -> Result<Self> {
        let wallet = anvil.wallet().context("anvil has no keys")?;
        let provider =
            ProviderBuilder::new().wallet(wallet).connect_http(anvil.endpoint_url()).erased();
        let key = AttesterKey::from(signer(&anvil, 1)?);
        let options = DeployOptions { attester: Some(key.address()), ..Default::default() };
        let deployed = deploy(&provider, anvil.addresses()[0], &options).await?;
        let registry = KycRegistry::new(deployed.registry, provider.clone());
        let store = connect(&url, &store_options()).await?;
        store.migrate().await?;
        Ok(Self { anvil, provider, registry, key, store, url, _guard: guard })
    }

    /// Writer settings for this rig with fast timings for tests.
    pub(crate) fn config(&self) -> WriterConfig {
        let mut config = WriterConfig::new(
            self.anvil.endpoint_url(),
            *self.registry.address(),
            self.key.clone(),
        );
        config.linger = Duration::from_millis(20);
        config.idle_poll = Duration::from_millis(20);
        config.lease_retry = Duration::from_millis(100);
        config.retry_base = Duration::from_millis(100);
        config.retry_max = Duration::from_millis(500);
        config.receipt_timeout = Duration::from_secs(10);
        config
    }

    pub(crate) fn writer(&self, config: WriterConfig) -> Result<ChainWriter> {
        Ok(ChainWriter::new(config, self.store.clone())?)
    }

    /// Another service instance's store on the same database.
    pub(crate) async fn another_store(&self) -> Result<Arc<dyn Store>> {
        Ok(connect(&self.url, &store_options()).await?)
    }

    /// Records a verified attestation for `person` and `wallet` (queues its `attest`).
    pub(crate) async fn attest(
        &self,
        person: u64,
        wallet: Address,
        at_limit: AtLimit,
    ) -> Result<Recorded> {
        self.attest_in(None, person, wallet, at_limit).await
    }

    /// Registers the scope `name` (as the operator does) and returns it.
    pub(crate) async fn scope(&self, name: &str) -> Result<ScopeName> {
        let name = ScopeName::new(name)?;
        self.store.register_scope(&name, now()).await?;
        Ok(name)
    }

    /// [`Self::attest`] in `scope` (`None`: the global record): the challenge names the scope and
    /// the person's hashes are the scope's, as the API computes them (queues its
    /// `attestScoped`).
    pub(crate) async fn attest_in(
        &self,
        scope: Option<&ScopeName>,
        person: u64,
        wallet: Address,
        at_limit: AtLimit,
    ) -> Result<Recorded> {
        let new = self.new_attestation_in(scope, person, wallet).await?;
        Ok(self.store.record_attestation(&new, &policy(at_limit), now()).await?)
    }

    /// A verified request for `person` and `wallet` with a consumed challenge.
    pub(crate) async fn new_attestation(
        &self,
        person: u64,
        wallet: Address,
    ) -> Result<NewAttestation> {
        self.new_attestation_in(None, person, wallet).await
    }

    /// [`Self::new_attestation`] in `scope`.
    pub(crate) async fn new_attestation_in(
        &self,
        scope: Option<&ScopeName>,
        person: u64,
        wallet: Address,
    ) -> Result<NewAttestation> {
        let settings = ChallengeSettings::new(
            ServiceDomain::new("honnin.test")?,
            self.anvil.chain_id(),
            *self.registry.address(),
        );
        let challenge = settings.issue_in(Purpose::Attest, wallet, None, scope.cloned(), now());
        let id = scope.map(ScopeName::id);
        self.store.insert_challenge(&challenge).await?;
        self.store.consume_challenge(&challenge.id, Purpose::Attest, now()).await?;
        let pepper = Pepper::from_bytes(vec![7; 32])?;
        let root = [0x8c; 20];
        let serial = person.to_be_bytes();
        let request = VerifiedRequest {
            challenge_id: challenge.id,
            request_digest: pepper.request_digest(
                &challenge.id,
                &serial,
                b"sig",
                wallet.as_slice(),
            ),
            wallet,
            wallet_proof: WalletProof::Eoa,
            scope: id,
            person: pepper.pseudonym_in(id.as_ref(), &root, &serial),
            cert: pepper.cert_hash_in(id.as_ref(), &root, &serial),
            cert_not_after: now() + time::Duration::days(5 * 365),
            sealed: pepper.seal_cert(&root, &serial),
        };
        Ok(NewAttestation::new(request, &policy(AtLimit::Refuse), now()))
    }

    pub(crate) async fn attestation(&self, wallet: Address) -> Result<Attestation> {
        self.attestation_in(wallet, None).await
    }

    /// The wallet's attestation in `scope` (`None`: global) as the store has it.
    pub(crate) async fn attestation_in(
        &self,
        wallet: Address,
        scope: Option<&Scope>,
    ) -> Result<Attestation> {
        self.store.attestation_by_wallet(wallet, scope).await?.context("no attestation")
    }

    /// Waits until every wallet's attestation has `status` (or fails after a deadline).
    pub(crate) async fn wait_for(
        &self,
        wallets: &[Address],
        status: AttestationStatus,
    ) -> Result<()> {
        self.wait_for_in(None, wallets, status).await
    }

    /// [`Self::wait_for`] for the wallets' records in `scope`.
    pub(crate) async fn wait_for_in(
        &self,
        scope: Option<&Scope>,
        wallets: &[Address],
        status: AttestationStatus,
    ) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mut done = true;
            for wallet in wallets {
                if self.attestation_in(*wallet, scope).await?.status != status {
                    done = false;
                    break;
                }
            }
            if done {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("attestations did not become {status:?} in time");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) async fn is_verified(&self, wallet: Address) -> Result<bool> {
        Ok(self.registry.isVerified_1(wallet).call().await?)
    }

    /// `isVerified(wallet, scope)` on the registry.
    pub(crate) async fn is_verified_in(&self, wallet: Address, scope: &Scope) -> Result<bool> {
        Ok(self.registry.isVerified_2(wallet, *scope.as_b256()).call().await?)
    }

    pub(crate) async fn nonce(&self) -> Result<u64> {
        Ok(self.provider.get_transaction_count(self.key.address()).await?)
    }
}

pub(crate) fn policy(at_limit: AtLimit) -> Policy {
    let one = NonZeroU32::MIN;
    Policy::new(one, at_limit, time::Duration::days(365)).expect("policy")
}

pub(crate) fn now() -> OffsetDateTime {
    honnin_core::time::now()
}

pub(crate) fn signer(anvil: &AnvilInstance, i: usize) -> Result<PrivateKeySigner> {
    Ok(PrivateKeySigner::from_bytes(&FixedBytes::from_slice(&anvil.keys()[i].to_bytes()))?)
}

/// An attestation for the chain with level 0, which the registry refuses.
pub(crate) fn with_level_zero(mut new: NewAttestation) -> NewAttestation {
    new.level = Level(0);
    new
}
