//! The simulated card: its certificate, the key inside it, and how it signs (as the real card
//! does: the host builds the DigestInfo, the card pads and signs).

use der::{
    Decode, Encode,
    asn1::{BitString, UintRef},
};
use rsa::{Pkcs1v15Sign, RsaPrivateKey, pkcs8::EncodePublicKey as _};
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;

use super::encoding::pem;
use super::keys::{fake_rsa_spki, rsa_key, rsa_spki};
use super::{SHA1_DIGEST_INFO_PREFIX, SHA256_DIGEST_INFO_PREFIX};

/// Which key a card certificate gets.
#[derive(Clone, Debug)]
pub enum CardKeyKind {
    /// RSA-2048 from pool slot `n` (physical cards).
    Rsa2048(usize),
    /// ECDSA P-256, fresh (smartphone certificates).
    P256,
    /// ECDSA P-384, fresh (next-generation card, reported).
    P384,
    /// An RSA public key of any size and exponent, with no private key (negative tests).
    FakeRsa {
        /// Modulus size in bits.
        bits: usize,
        /// Public exponent.
        exponent: u32,
    },
    /// An RSA-2048 pool key with its exponent replaced (no usable private key).
    RsaExponent(usize, u32),
    /// An arbitrary SubjectPublicKeyInfo (e.g. Ed25519, P-521), no private key.
    Spki(SubjectPublicKeyInfoOwned),
}

impl CardKeyKind {
    /// A fresh key of this kind (from the pool for RSA) and its public key.
    pub(super) fn generate(&self) -> (SubjectPublicKeyInfoOwned, CardKey) {
        match self {
            Self::Rsa2048(slot) => {
                let key = rsa_key(*slot).clone();
                (rsa_spki(&key), CardKey::Rsa(key))
            }
            Self::P256 => {
                let key = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
                let der = key.verifying_key().to_public_key_der().expect("spki");
                (
                    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).expect("spki"),
                    CardKey::P256(key),
                )
            }
            Self::P384 => {
                let key = p384::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
                let der = key.verifying_key().to_public_key_der().expect("spki");
                (
                    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).expect("spki"),
                    CardKey::P384(key),
                )
            }
            Self::FakeRsa { bits, exponent } => (fake_rsa_spki(*bits, *exponent), CardKey::None),
            Self::RsaExponent(slot, exponent) => {
                use rsa::traits::PublicKeyParts as _;
                #[derive(der::Sequence)]
                struct RsaPub<'a> {
                    n: UintRef<'a>,
                    e: UintRef<'a>,
                }
                let n = rsa_key(*slot).n().to_bytes_be();
                let e = exponent.to_be_bytes();
                let start = e.iter().position(|&b| b != 0).unwrap_or(3);
                let key = RsaPub {
                    n: UintRef::new(&n).expect("n"),
                    e: UintRef::new(&e[start..]).expect("e"),
                };
                let mut spki = fake_rsa_spki(2048, 65537);
                spki.subject_public_key =
                    BitString::from_bytes(&key.to_der().expect("key")).expect("bits");
                (spki, CardKey::None)
            }
            Self::Spki(spki) => (spki.clone(), CardKey::None),
        }
    }
}

/// A card's private key.
#[derive(Clone)]
pub enum CardKey {
    /// RSA.
    Rsa(RsaPrivateKey),
    /// ECDSA P-256.
    P256(p256::ecdsa::SigningKey),
    /// ECDSA P-384.
    P384(p384::ecdsa::SigningKey),
    /// No private key (a fake public key).
    None,
}

/// A simulated card: its certificate and the key inside it.
#[derive(Clone)]
pub struct SimCard {
    der: Vec<u8>,
    key: CardKey,
    serial: Vec<u8>,
}

impl SimCard {
    /// A card holding `key`, with the certificate `der` (serial `serial`) its root issued.
    pub(super) fn new(der: Vec<u8>, key: CardKey, serial: Vec<u8>) -> Self {
        Self { der, key, serial }
    }

    /// The certificate, DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate, PEM.
    pub fn pem(&self) -> String {
        pem("CERTIFICATE", &self.der)
    }

    /// The serial number.
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// The card's key.
    pub fn key(&self) -> &CardKey {
        &self.key
    }

    /// Signs `message` as the card does: RSA keys get the SHA-256 DigestInfo built by the host,
    /// padded PKCS#1 v1.5; ECDSA keys sign SHA-256 (P-256) or SHA-384 (P-384), DER encoded.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.key {
            CardKey::Rsa(_) => {
                let mut digest_info = SHA256_DIGEST_INFO_PREFIX.to_vec();
                digest_info.extend_from_slice(&Sha256::digest(message));
                self.sign_digest_info(&digest_info)
            }
            CardKey::P256(key) => {
                let sig: p256::ecdsa::Signature =
                    p256::ecdsa::signature::Signer::sign(key, message);
                sig.to_der().as_bytes().to_vec()
            }
            CardKey::P384(key) => {
                let sig: p384::ecdsa::Signature =
                    p384::ecdsa::signature::Signer::sign(key, message);
                sig.to_der().as_bytes().to_vec()
            }
            CardKey::None => panic!("this simulated card has no private key"),
        }
    }

    /// Signs a SHA-1 DigestInfo of `message`, which a real card does when asked (RSA only).
    pub fn sign_sha1(&self, message: &[u8]) -> Vec<u8> {
        let mut digest_info = SHA1_DIGEST_INFO_PREFIX.to_vec();
        digest_info.extend_from_slice(&sha1::Sha1::digest(message));
        self.sign_digest_info(&digest_info)
    }

    /// Pads and signs a DigestInfo the host built (the card's RSA operation). RSA only.
    pub fn sign_digest_info(&self, digest_info: &[u8]) -> Vec<u8> {
        match &self.key {
            CardKey::Rsa(key) => {
                key.sign(Pkcs1v15Sign::new_unprefixed(), digest_info).expect("rsa")
            }
            _ => panic!("the card signs DigestInfos with RSA keys only"),
        }
    }
}
