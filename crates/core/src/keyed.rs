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
//!
//! Serials are normalised before hashing: the DER `INTEGER` content with redundant leading zero
//! bytes removed (keeping one byte for zero), so a serial parsed from a certificate and one
//! parsed from a CRL or OCSP response hash alike. Key ids are the raw key identifier bytes.
//!
//! The request digest is keyed too: an unkeyed hash of the certificate would be a fingerprint
//! anyone holding the certificate could look up.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{ChallengeId, Error, Result};

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

    /// The keyed digest of an attestation request, to recognise a re-sent request.
    pub fn request_digest(
        &self,
        challenge: &ChallengeId,
        certificate_der: &[u8],
        card_signature: &[u8],
        wallet_signature: &[u8],
    ) -> RequestDigest {
        RequestDigest(self.hmac(
            b"honnin/v1/request",
            &[challenge.as_bytes(), certificate_der, card_signature, wallet_signature],
        ))
    }

    fn hmac(&self, label: &[u8], fields: &[&[u8]]) -> [u8; 32] {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
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
