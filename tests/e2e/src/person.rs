//! Simulated residents: a card from the simulated J-LIS root and a wallet, and the requests
//! they sign.

use std::sync::OnceLock;

use alloy::{
    primitives::{Address, keccak256},
    signers::{SignerSync, local::PrivateKeySigner},
};
use base64::Engine as _;
use honnin_api::{AttestationRequest, ChallengeResponse};
use honnin_jpki::test_utils::{CardKeyKind, CardSpec, SimCard, SimRoot};
use sha2::{Digest as _, Sha256};

/// The simulated J-LIS root every deployment trusts (RSA key pool slot 0; one per process).
pub fn root() -> &'static SimRoot {
    static ROOT: OnceLock<SimRoot> = OnceLock::new();
    ROOT.get_or_init(|| SimRoot::new(0))
}

/// The simulated J-LIS signature root every deployment trusts for age claims (pool slot 5).
pub fn sign_root() -> &'static SimRoot {
    static ROOT: OnceLock<SimRoot> = OnceLock::new();
    ROOT.get_or_init(|| SimRoot::signing(5))
}

/// One simulated resident: a card (certificate with its own serial and subject id, key from the
/// RSA pool) and a fresh wallet.
#[derive(Clone)]
pub struct Person {
    /// The card.
    pub card: SimCard,
    /// The card certificate's subject id (CN).
    pub subject_id: String,
    /// The wallet's key.
    pub wallet: PrivateKeySigner,
}

impl std::fmt::Debug for Person {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Person").field("wallet", &self.wallet.address()).finish_non_exhaustive()
    }
}

impl Person {
    /// Person number `n` of a test tagged `tag`: a 16-byte serial and a 23-character subject id
    /// derived from both (so every certificate differs and a leak is unmistakable in a scan), a
    /// card key from RSA pool slot `1 + n % 4` (key generation is slow; certificates differ),
    /// and a wallet key derived likewise.
    pub fn new(tag: &str, n: u32) -> Self {
        Self::with_spec(tag, n, |_| {})
    }

    /// [`Person::new`] with the card specification adjusted by `adjust` (validity, key, ...).
    pub fn with_spec(tag: &str, n: u32, adjust: impl FnOnce(&mut CardSpec)) -> Self {
        let seed = Sha256::digest(format!("honnin-e2e/{tag}/{n}"));
        let mut serial = vec![0x5e];
        serial.extend_from_slice(&seed[..15]);
        let subject_id: String =
            hex::encode_upper(&seed[16..]).chars().take(23).collect::<String>();
        let subject_id = format!("{subject_id:0<23}");
        let mut spec = CardSpec {
            key: CardKeyKind::Rsa2048(1 + (n as usize) % 4),
            subject_id: subject_id.clone(),
            serial,
            ..CardSpec::default()
        };
        adjust(&mut spec);
        let card = root().issue(&spec);
        let wallet_seed = keccak256(format!("honnin-e2e/wallet/{tag}/{n}"));
        let wallet = PrivateKeySigner::from_bytes(&wallet_seed).expect("a valid key");
        Self { card, subject_id: spec.subject_id, wallet }
    }

    /// The wallet's address.
    pub fn address(&self) -> Address {
        self.wallet.address()
    }

    /// The attestation request for `challenge`: the card and this wallet both sign its message.
    pub fn request(&self, challenge: &ChallengeResponse) -> AttestationRequest {
        request(challenge, &self.card, &self.wallet)
    }
}

/// The attestation request a client sends: `card` and `wallet` both sign the challenge message.
pub fn request(
    challenge: &ChallengeResponse,
    card: &SimCard,
    wallet: &PrivateKeySigner,
) -> AttestationRequest {
    AttestationRequest {
        challenge_id: challenge.id.clone(),
        certificate: b64(card.der()),
        card_signature: b64(&card.sign(challenge.message.as_bytes())),
        wallet_signature: personal_sign(wallet, &challenge.message),
        signing_certificate: None,
        signing_signature: None,
    }
}

/// EIP-191 `personal_sign` of `message`, 65 bytes as `0x` hex.
pub fn personal_sign(wallet: &PrivateKeySigner, message: &str) -> String {
    let signature = wallet.sign_message_sync(message.as_bytes()).expect("signing");
    format!("0x{}", hex::encode(signature.as_bytes()))
}

/// Standard base64.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
