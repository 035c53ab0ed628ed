//! The operator's pepper and the keyed hashes derived with it.
//!
//! Every value that could identify a certificate or a person is stored only as HMAC-SHA256
//! under the [`Pepper`], an operator secret that never reaches the database. Each hash has its
//! own domain-separation label, and the fields are length-prefixed so no two inputs collide:
//!
//! ```text
//! HMAC-SHA256(pepper, label || 0x00 || u32be(len f1) || f1 || u32be(len f2) || f2 …)
//! ```
//!
//! | hash | label | fields |
//! |---|---|---|
//! | [`PersonPseudonym`] | `honnin/v1/pseudonym` | root key id, certificate serial |
//! | [`CertHash`] | `honnin/v1/cert` | issuer (root) key id, certificate serial |
//! | [`RequestDigest`] | `honnin/v1/request` | challenge id, certificate DER, card signature, wallet signature |
//! | [`PersonPseudonym`] in a scope | `honnin/v1/scope-pseudonym` | scope id, root key id, certificate serial |
//! | [`CertHash`] in a scope | `honnin/v1/scope-cert` | scope id, issuer (root) key id, certificate serial |
//!
//! The scoped hashes ([`Pepper::pseudonym_in`], [`Pepper::cert_hash_in`]) are what a person's
//! attestations in a [`Scope`] are stored under: each scope sees the person and the
//! certificate under hashes of its own, so no stored value joins two scopes (or a scope and the
//! global record) without the pepper.
//!
//! Serials are normalised before hashing: the DER `INTEGER` content with redundant leading zero
//! bytes removed (keeping one byte for zero), so a serial parsed from a certificate and one
//! parsed from a CRL or OCSP response hash alike. Key ids are the raw key identifier bytes.
//!
//! The request digest is keyed too: an unkeyed hash of the certificate would be a fingerprint
//! anyone holding the certificate could look up.
//!
//! ## Sealed serials
//!
//! One value cannot be a hash: an OCSP re-check must send the certificate's serial, which no
//! hash gives back. [`Pepper::seal_cert`] encrypts the (root key id, serial) pair with
//! AES-256-GCM under a key derived from the pepper (`HMAC-SHA256(pepper, "honnin/v1/seal-key"
//! || 0x00)`), a random 96-bit nonce per value, and the label `honnin/v1/sealed-cert` as
//! associated data. The stored [`SealedCert`] is `nonce || ciphertext || tag`: without the
//! pepper it is noise, as the hashes are, and erasure deletes it with the certificate row.

use std::fmt;

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{ChallengeId, Error, Result, Scope};

/// The operator's secret for keyed hashes. At least [`Pepper::MIN_LEN`] bytes.
///
/// It has no `Display`, and its `Debug` prints nothing of the bytes; the bytes are zeroed when
/// the pepper is dropped. Losing the pepper unlinks every stored hash from every certificate;
/// leaking it lets whoever holds a certificate find its rows.
pub struct Pepper(Zeroizing<Vec<u8>>);

impl Pepper {
    /// The shortest pepper accepted: 32 bytes, the HMAC-SHA256 block's security level.
    pub const MIN_LEN: usize = 32;

    /// A pepper from raw bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() < Self::MIN_LEN {
            return Err(Error::PepperTooShort { min: Self::MIN_LEN });
        }
        Ok(Self(bytes))
    }

    /// A pepper from hex (surrounding whitespace ignored), as operators configure it.
    pub fn from_hex(hex_text: &str) -> Result<Self> {
        let bytes = hex::decode(hex_text.trim()).map_err(|_| Error::PepperNotHex)?;
        Self::from_bytes(bytes)
    }

    /// A fresh random 32-byte pepper (for `honnin dev` and tests; production configures one).
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new(vec![0u8; Self::MIN_LEN]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        Self(bytes)
    }

    /// The person's pseudonym: keyed hash of the root key id and the certificate serial.
    pub fn pseudonym(&self, root_key_id: &[u8], serial: &[u8]) -> PersonPseudonym {
        PersonPseudonym(self.hmac(b"honnin/v1/pseudonym", &[root_key_id, normalise_serial(serial)]))
    }

    /// The certificate's lookup hash: keyed hash of the issuer (root) key id and the serial.
    /// A revoked serial from a CRL or OCSP answer hashes to the same value.
    pub fn cert_hash(&self, issuer_key_id: &[u8], serial: &[u8]) -> CertHash {
        CertHash(self.hmac(b"honnin/v1/cert", &[issuer_key_id, normalise_serial(serial)]))
    }

    /// The person's pseudonym in `scope` ([`Self::pseudonym`] for `None`, the global record).
    pub fn pseudonym_in(
        &self,
        scope: Option<&Scope>,
        root_key_id: &[u8],
        serial: &[u8],
    ) -> PersonPseudonym {
        match scope {
            None => self.pseudonym(root_key_id, serial),
            Some(scope) => PersonPseudonym(self.hmac(
                b"honnin/v1/scope-pseudonym",
                &[scope.as_bytes(), root_key_id, normalise_serial(serial)],
            )),
        }
    }

    /// The certificate's lookup hash in `scope` ([`Self::cert_hash`] for `None`).
    pub fn cert_hash_in(
        &self,
        scope: Option<&Scope>,
        issuer_key_id: &[u8],
        serial: &[u8],
    ) -> CertHash {
        match scope {
            None => self.cert_hash(issuer_key_id, serial),
            Some(scope) => CertHash(self.hmac(
                b"honnin/v1/scope-cert",
                &[scope.as_bytes(), issuer_key_id, normalise_serial(serial)],
            )),
        }
    }

    /// The certificate's lookup hashes: the global one, then one per scope of `scopes`, in that
    /// order. What the life cycle applies a revocation or a renewal link to, so it reaches
    /// every scoped record of the person.
    pub fn cert_hashes<'a>(
        &self,
        scopes: impl IntoIterator<Item = &'a Scope>,
        issuer_key_id: &[u8],
        serial: &[u8],
    ) -> Vec<CertHash> {
        let mut hashes = vec![self.cert_hash(issuer_key_id, serial)];
        hashes
            .extend(scopes.into_iter().map(|s| self.cert_hash_in(Some(s), issuer_key_id, serial)));
        hashes
    }

    /// The keyed digest of an attestation request, to recognise a re-sent request.
    pub fn request_digest(
        &self,
        challenge: &ChallengeId,
        certificate_der: &[u8],
        card_signature: &[u8],
        wallet_signature: &[u8],
    ) -> RequestDigest {
        self.request_digest_with(challenge, certificate_der, card_signature, wallet_signature, &[])
    }

    /// [`Self::request_digest`] over the request's further evidence too (the signing
    /// certificate and its signature, for age claims), each a length-prefixed field: with
    /// none, the digest is [`Self::request_digest`]'s.
    pub fn request_digest_with(
        &self,
        challenge: &ChallengeId,
        certificate_der: &[u8],
        card_signature: &[u8],
        wallet_signature: &[u8],
        further: &[&[u8]],
    ) -> RequestDigest {
        let mut fields =
            vec![challenge.as_bytes(), certificate_der, card_signature, wallet_signature];
        fields.extend_from_slice(further);
        RequestDigest(self.hmac(b"honnin/v1/request", &fields))
    }

    /// Seals a certificate's (root key id, serial) for a later OCSP re-check (see the
    /// [module docs](self)). The serial is kept as given.
    pub fn seal_cert(&self, root_key_id: &[u8], serial: &[u8]) -> SealedCert {
        let mut plain = Zeroizing::new(Vec::with_capacity(4 + root_key_id.len() + serial.len()));
        // Key ids are 20 bytes or so, far below 4 GiB.
        plain.extend_from_slice(&(root_key_id.len() as u32).to_be_bytes());
        plain.extend_from_slice(root_key_id);
        plain.extend_from_slice(serial);
        let mut nonce = [0u8; SealedCert::NONCE_LEN];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
        let sealed =
            self.seal_cipher().encrypt(&Nonce::from(nonce), Payload { msg: &plain, aad: SEAL_AAD });
        // AES-GCM encryption fails only for messages beyond 64 GiB.
        let Ok(sealed) = sealed else { unreachable!("AES-GCM seals short messages") };
        let mut bytes = Vec::with_capacity(nonce.len() + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        SealedCert(bytes)
    }

    /// Opens a [`SealedCert`]: `(root key id, serial)`, or `None` when it was sealed under
    /// another pepper or altered.
    pub fn open_cert(&self, sealed: &SealedCert) -> Option<(Vec<u8>, Vec<u8>)> {
        let (nonce, body) = sealed.0.split_at_checked(SealedCert::NONCE_LEN)?;
        let nonce = Nonce::from(<[u8; SealedCert::NONCE_LEN]>::try_from(nonce).ok()?);
        let plain = Zeroizing::new(
            self.seal_cipher().decrypt(&nonce, Payload { msg: body, aad: SEAL_AAD }).ok()?,
        );
        let (len, rest) = plain.split_at_checked(4)?;
        let len = u32::from_be_bytes(len.try_into().ok()?) as usize;
        let (key_id, serial) = rest.split_at_checked(len)?;
        Some((key_id.to_vec(), serial.to_vec()))
    }

    fn seal_cipher(&self) -> Aes256Gcm {
        let key = Zeroizing::new(self.hmac(b"honnin/v1/seal-key", &[]));
        // A 32-byte key is what AES-256 takes.
        match <Aes256Gcm as KeyInit>::new_from_slice(key.as_slice()) {
            Ok(cipher) => cipher,
            Err(_) => unreachable!("AES-256 takes 32-byte keys"),
        }
    }

    fn hmac(&self, label: &[u8], fields: &[&[u8]]) -> [u8; 32] {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(label);
        mac.update(&[0]);
        for field in fields {
            // Fields are certificates and signatures, far below 4 GiB.
            mac.update(&(field.len() as u32).to_be_bytes());
            mac.update(field);
        }
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pepper(..)")
    }
}

/// Associated data of every sealed certificate.
const SEAL_AAD: &[u8] = b"honnin/v1/sealed-cert";

/// A certificate's (root key id, serial), encrypted under a key derived from the [`Pepper`]
/// (see the [module docs](self)). `Debug` prints only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedCert(Vec<u8>);

impl SealedCert {
    /// Length of the random nonce that starts the stored bytes.
    pub const NONCE_LEN: usize = 12;

    /// A sealed value as read back from the database.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes to store: `nonce || ciphertext || tag`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SealedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedCert({} bytes)", self.0.len())
    }
}

/// Strips redundant leading zero bytes of a DER integer's content (keeps one byte for zero).
fn normalise_serial(serial: &[u8]) -> &[u8] {
    let first_nonzero =
        serial.iter().position(|&b| b != 0).unwrap_or(serial.len().saturating_sub(1));
    &serial[first_nonzero..]
}

macro_rules! keyed_hash {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        ///
        /// `Debug` prints only the first four bytes; there is no `Display`. Use
        /// [`as_bytes`](Self::as_bytes) to store it.
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name([u8; 32]);

        impl $name {
            /// The hash from its 32 bytes (as read back from the database).
            pub const fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// The hash from a stored byte slice; `None` unless exactly 32 bytes.
            pub fn from_slice(bytes: &[u8]) -> Option<Self> {
                bytes.try_into().ok().map(Self)
            }

            /// The 32 bytes.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({}…)"), hex::encode(&self.0[..4]))
            }
        }
    };
}

keyed_hash!(
    /// A person's pseudonym, shared by all their attestations (and, through renewal links,
    /// across card renewals). Never leaves the database.
    PersonPseudonym
);
keyed_hash!(
    /// A certificate's keyed hash, to find its attestations from a revoked serial.
    CertHash
);
keyed_hash!(
    /// The keyed digest of an attestation request, to answer a re-sent request with the
    /// original attestation.
    RequestDigest
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_certificate_opens_with_its_pepper_only() {
        let pepper = Pepper::generate();
        let sealed = pepper.seal_cert(&[7; 20], &[0, 0x81, 2, 3]);
        assert_eq!(pepper.open_cert(&sealed), Some((vec![7; 20], vec![0, 0x81, 2, 3])));
        // Random nonces: sealing twice gives different bytes.
        assert_ne!(pepper.seal_cert(&[7; 20], &[0, 0x81, 2, 3]), sealed);
        // Another pepper, or one flipped bit, opens nothing.
        assert_eq!(Pepper::generate().open_cert(&sealed), None);
        let mut bytes = sealed.as_bytes().to_vec();
        bytes[20] ^= 1;
        assert_eq!(pepper.open_cert(&SealedCert::from_bytes(bytes)), None);
        assert_eq!(pepper.open_cert(&SealedCert::from_bytes(vec![1; 5])), None);
        // Nothing of the serial shows in the stored bytes or the debug output.
        assert!(!format!("{sealed:?}").contains("81"));
        assert!(!sealed.as_bytes().windows(4).any(|w| w == [0, 0x81, 2, 3]));
    }

    #[test]
    fn scoped_hashes_differ_per_scope_and_from_the_global_ones() {
        let pepper = Pepper::generate();
        let a = crate::ScopeName::new("dapp-a").unwrap().id();
        let b = crate::ScopeName::new("dapp-b").unwrap().id();
        let global = pepper.pseudonym(&[7; 20], &[0x81, 2]);
        assert_eq!(pepper.pseudonym_in(None, &[7; 20], &[0x81, 2]), global);
        let in_a = pepper.pseudonym_in(Some(&a), &[7; 20], &[0x81, 2]);
        let in_b = pepper.pseudonym_in(Some(&b), &[7; 20], &[0x81, 2]);
        assert!(in_a != global && in_b != global && in_a != in_b);
        // Stable, and normalised like the global hash (a leading zero byte changes nothing).
        assert_eq!(pepper.pseudonym_in(Some(&a), &[7; 20], &[0, 0x81, 2]), in_a);
        // Another pepper gives other hashes: without it nothing links.
        assert_ne!(Pepper::generate().pseudonym_in(Some(&a), &[7; 20], &[0x81, 2]), in_a);

        let hashes = pepper.cert_hashes([&a, &b], &[7; 20], &[0x81, 2]);
        assert_eq!(hashes.len(), 3);
        assert_eq!(hashes[0], pepper.cert_hash(&[7; 20], &[0x81, 2]));
        assert_eq!(hashes[1], pepper.cert_hash_in(Some(&a), &[7; 20], &[0x81, 2]));
        assert!(hashes[1] != hashes[2] && hashes[0] != hashes[1]);
        // A scoped certificate hash is not the scoped pseudonym (labels differ).
        assert_ne!(hashes[1].as_bytes(), in_a.as_bytes());
    }
}
