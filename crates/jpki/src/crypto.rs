//! Public keys and signature checks (aws-lc-rs), plus the diagnostic that tells a weak-hash
//! signature from a merely bad one.

use std::sync::Arc;

use aws_lc_rs::signature::{self as sig, ParsedPublicKey, VerificationAlgorithm};
use der::referenced::OwnedToRef;
use der::{
    Decode, Sequence,
    asn1::{ObjectIdentifier, UintRef},
};
use spki::{
    AlgorithmIdentifierOwned, AlgorithmIdentifierRef, SubjectPublicKeyInfoOwned,
    SubjectPublicKeyInfoRef,
};

use crate::{
    KeyAlgorithm, Refusal, Signed,
    oids::{self, ECDSA_WITH_SHA256, ECDSA_WITH_SHA384},
};

/// Minimum and maximum RSA modulus sizes honnin accepts, in bits.
pub(crate) const RSA_MIN_BITS: usize = 2048;
pub(crate) const RSA_MAX_BITS: usize = 4096;
const RSA_F4: &[u8] = &[0x01, 0x00, 0x01];

#[derive(Sequence)]
struct RsaPublicKeyDer<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// A subject or root public key, checked against honnin's limits.
#[derive(Clone)]
pub(crate) struct PublicKey {
    pub(crate) algorithm: KeyAlgorithm,
    /// What aws-lc-rs takes: the DER RSAPublicKey, or the uncompressed EC point.
    pub(crate) bytes: Vec<u8>,
    /// The key parsed once for each X.509 signature algorithm it may sign with (indexed by
    /// [`X509Alg::index`]), for keys that verify many signatures (trust anchors): this saves
    /// the key parsing and the Montgomery set-up on every certificate, CRL and OCSP check.
    /// `None` for a key used once (a card key).
    parsed: Option<Arc<[Option<ParsedPublicKey>; X509Alg::ALL.len()]>>,
}

/// The X.509 signature algorithms honnin accepts, as aws-lc-rs verifies them.
#[derive(Clone, Copy)]
enum X509Alg {
    RsaSha256,
    RsaSha384,
    RsaSha512,
    EcdsaP256Sha256,
    EcdsaP384Sha384,
}

impl X509Alg {
    const ALL: [Self; 5] = [
        Self::RsaSha256,
        Self::RsaSha384,
        Self::RsaSha512,
        Self::EcdsaP256Sha256,
        Self::EcdsaP384Sha384,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn verification(self) -> &'static dyn VerificationAlgorithm {
        match self {
            Self::RsaSha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            Self::RsaSha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            Self::RsaSha512 => &sig::RSA_PKCS1_2048_8192_SHA512,
            Self::EcdsaP256Sha256 => &sig::ECDSA_P256_SHA256_ASN1,
            Self::EcdsaP384Sha384 => &sig::ECDSA_P384_SHA384_ASN1,
        }
    }

    /// Whether a key of `algorithm` signs with this X.509 algorithm.
    fn fits(self, algorithm: KeyAlgorithm) -> bool {
        match self {
            Self::RsaSha256 | Self::RsaSha384 | Self::RsaSha512 => {
                matches!(algorithm, KeyAlgorithm::Rsa { .. })
            }
            Self::EcdsaP256Sha256 => algorithm == KeyAlgorithm::EcdsaP256,
            Self::EcdsaP384Sha384 => algorithm == KeyAlgorithm::EcdsaP384,
        }
    }
}

impl PublicKey {
    /// Parses and checks a SubjectPublicKeyInfo: RSA 2048–4096 bits with e = 65537, or an
    /// uncompressed P-256 / P-384 point. Anything else is [`Refusal::UnsupportedKey`].
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, Refusal> {
        Self::from_spki_ref(&spki.owned_to_ref())
    }

    /// [`Self::from_spki`] on a borrowed SubjectPublicKeyInfo (no allocation but the key copy).
    pub(crate) fn from_spki_ref(spki: &SubjectPublicKeyInfoRef<'_>) -> Result<Self, Refusal> {
        let key_bytes = spki.subject_public_key.as_bytes().ok_or(Refusal::UnsupportedKey)?;
        let alg = &spki.algorithm;
        if alg.oid == oids::RSA_ENCRYPTION {
            if !params_null_or_absent(alg) {
                return Err(Refusal::UnsupportedKey);
            }
            let key = RsaPublicKeyDer::from_der(key_bytes).map_err(|_| Refusal::UnsupportedKey)?;
            let n = key.modulus.as_bytes();
            let n_bits = bit_len(n);
            if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&n_bits)
                || key.public_exponent.as_bytes() != RSA_F4
            {
                return Err(Refusal::UnsupportedKey);
            }
            let bits = u16::try_from(n_bits).map_err(|_| Refusal::UnsupportedKey)?;
            return Ok(Self {
                algorithm: KeyAlgorithm::Rsa { bits },
                bytes: key_bytes.to_vec(),
                parsed: None,
            });
        }
        if alg.oid == oids::EC_PUBLIC_KEY {
            let curve: ObjectIdentifier = alg
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as().ok())
                .ok_or(Refusal::UnsupportedKey)?;
            let (algorithm, len) = if curve == oids::SECP256R1 {
                (KeyAlgorithm::EcdsaP256, 65)
            } else if curve == oids::SECP384R1 {
                (KeyAlgorithm::EcdsaP384, 97)
            } else {
                return Err(Refusal::UnsupportedKey);
            };
            if key_bytes.len() != len || key_bytes[0] != 0x04 {
                return Err(Refusal::UnsupportedKey);
            }
            return Ok(Self { algorithm, bytes: key_bytes.to_vec(), parsed: None });
        }
        Err(Refusal::UnsupportedKey)
    }

    /// Parses the key once for every X.509 signature algorithm it may sign with, so that
    /// [`Self::verify_x509`] skips the parsing (for trust anchors, which verify every request).
    /// A key aws-lc-rs will not parse stays unparsed: its checks then refuse as before.
    pub(crate) fn prepared(mut self) -> Self {
        let parsed = X509Alg::ALL.map(|alg| {
            alg.fits(self.algorithm)
                .then(|| ParsedPublicKey::new(alg.verification(), &self.bytes).ok())
                .flatten()
        });
        self.parsed = Some(Arc::new(parsed));
        self
    }

    /// The RSA modulus length in bytes (= signature length), for RSA keys.
    pub(crate) fn rsa_modulus_len(&self) -> Option<usize> {
        match self.algorithm {
            KeyAlgorithm::Rsa { bits } => Some(usize::from(bits).div_ceil(8)),
            _ => None,
        }
    }

    /// Verifies an X.509 signature (certificate, CRL, OCSP response) made by this key.
    ///
    /// Accepted: sha256/384/512WithRSAEncryption for RSA keys, ecdsa-with-SHA256 for P-256 and
    /// ecdsa-with-SHA384 for P-384. SHA-1 algorithms are [`Refusal::WeakHash`].
    pub(crate) fn verify_x509(
        &self,
        alg: &AlgorithmIdentifierOwned,
        tbs: &[u8],
        signature: &[u8],
    ) -> Result<(), Refusal> {
        self.verify_x509_ref(&alg.owned_to_ref(), tbs, signature)
    }

    /// [`Self::verify_x509`] with a borrowed algorithm identifier.
    pub(crate) fn verify_x509_ref(
        &self,
        alg: &AlgorithmIdentifierRef<'_>,
        tbs: &[u8],
        signature: &[u8],
    ) -> Result<(), Refusal> {
        if alg.oid == oids::SHA1_WITH_RSA || alg.oid == oids::ECDSA_WITH_SHA1 {
            return Err(Refusal::WeakHash);
        }
        let x509_alg = match self.algorithm {
            KeyAlgorithm::Rsa { .. } if params_null_or_absent(alg) => {
                if alg.oid == oids::SHA256_WITH_RSA {
                    X509Alg::RsaSha256
                } else if alg.oid == oids::SHA384_WITH_RSA {
                    X509Alg::RsaSha384
                } else if alg.oid == oids::SHA512_WITH_RSA {
                    X509Alg::RsaSha512
                } else {
                    return Err(Refusal::UnsupportedSignatureAlgorithm);
                }
            }
            KeyAlgorithm::EcdsaP256 if alg.oid == ECDSA_WITH_SHA256 && alg.parameters.is_none() => {
                X509Alg::EcdsaP256Sha256
            }
            KeyAlgorithm::EcdsaP384 if alg.oid == ECDSA_WITH_SHA384 && alg.parameters.is_none() => {
                X509Alg::EcdsaP384Sha384
            }
            _ => return Err(Refusal::UnsupportedSignatureAlgorithm),
        };
        let verified = match self.parsed.as_deref().and_then(|p| p[x509_alg.index()].as_ref()) {
            Some(parsed) => parsed.verify_sig(tbs, signature),
            None => sig::UnparsedPublicKey::new(x509_alg.verification(), &self.bytes)
                .verify(tbs, signature),
        };
        verified.map_err(|_| Refusal::BadSignature(Signed::Certificate))
    }

    /// Verifies the card's signature over `message`, as the card makes it: RSASSA-PKCS1-v1_5
    /// with SHA-256 for RSA keys, ECDSA with SHA-256 (P-256) or SHA-384 (P-384).
    ///
    /// Security: the hash is pinned by the key type, never taken from the signature. A card will
    /// sign any DigestInfo it is handed, including SHA-1; such signatures are refused, and after
    /// aws-lc-rs has refused one the RSA signature is opened (public operation only) to report
    /// [`Refusal::WeakHash`] instead of a bare [`Refusal::BadSignature`].
    pub(crate) fn verify_card(&self, message: &[u8], signature: &[u8]) -> Result<(), Refusal> {
        match self.algorithm {
            KeyAlgorithm::Rsa { .. } => {
                if Some(signature.len()) != self.rsa_modulus_len() {
                    return Err(Refusal::MalformedSignature);
                }
                let key =
                    sig::UnparsedPublicKey::new(&sig::RSA_PKCS1_2048_8192_SHA256, &self.bytes);
                if key.verify(message, signature).is_ok() {
                    return Ok(());
                }
                if rsa_signed_other_hash(&self.bytes, message, signature) {
                    return Err(Refusal::WeakHash);
                }
                Err(Refusal::BadSignature(Signed::Message))
            }
            KeyAlgorithm::EcdsaP256 => {
                sig::UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_ASN1, &self.bytes)
                    .verify(message, signature)
                    .map_err(|_| Refusal::BadSignature(Signed::Message))
            }
            KeyAlgorithm::EcdsaP384 => {
                let key = sig::UnparsedPublicKey::new(&sig::ECDSA_P384_SHA384_ASN1, &self.bytes);
                if key.verify(message, signature).is_ok() {
                    return Ok(());
                }
                let weak = sig::UnparsedPublicKey::new(&sig::ECDSA_P384_SHA256_ASN1, &self.bytes);
                if weak.verify(message, signature).is_ok() {
                    return Err(Refusal::WeakHash);
                }
                Err(Refusal::BadSignature(Signed::Message))
            }
        }
    }
}

pub(crate) fn params_null_or_absent(alg: &AlgorithmIdentifierRef<'_>) -> bool {
    match &alg.parameters {
        None => true,
        Some(p) => der::Tagged::tag(p) == der::Tag::Null && p.value().is_empty(),
    }
}

fn bit_len(n: &[u8]) -> usize {
    match n.iter().position(|&b| b != 0) {
        None => 0,
        Some(i) => (n.len() - i) * 8 - n[i].leading_zeros() as usize,
    }
}

/// DigestInfo prefixes (RFC 8017 §9.2 note 1) of hashes other than SHA-256.
const OTHER_DIGEST_INFOS: &[(&[u8], &aws_lc_rs::digest::Algorithm)] = &[
    (
        &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14],
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
    ),
    (
        &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        &aws_lc_rs::digest::SHA384,
    ),
    (
        &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
        &aws_lc_rs::digest::SHA512,
    ),
];

/// Diagnostic only, run after aws-lc-rs refused the signature: opens it with the RSA public operation
/// and says whether it is a valid PKCS#1 v1.5 signature of `message` under another hash than
/// SHA-256 (typically a SHA-1 DigestInfo the card was handed). Never used to accept anything.
fn rsa_signed_other_hash(rsa_public_key_der: &[u8], message: &[u8], signature: &[u8]) -> bool {
    use rsa::BigUint;
    let Ok(key) = RsaPublicKeyDer::from_der(rsa_public_key_der) else {
        return false;
    };
    let n = BigUint::from_bytes_be(key.modulus.as_bytes());
    let e = BigUint::from_bytes_be(key.public_exponent.as_bytes());
    let s = BigUint::from_bytes_be(signature);
    if s >= n {
        return false;
    }
    let em = s.modpow(&e, &n).to_bytes_be();
    // `em` lost its leading 0x00: it must be 0x01, 0xff.., 0x00, DigestInfo, k - 1 bytes long.
    if em.len() + 1 != signature.len() || em.first() != Some(&0x01) {
        return false;
    }
    let Some(sep) = em.iter().skip(1).position(|&b| b != 0xff) else {
        return false;
    };
    let (ff_len, rest) = (sep, &em[1 + sep..]);
    if ff_len < 8 || rest.first() != Some(&0x00) {
        return false;
    }
    let digest_info = &rest[1..];
    OTHER_DIGEST_INFOS.iter().any(|(prefix, alg)| {
        // Public data only (message and signature): no need for a constant-time comparison.
        digest_info
            .strip_prefix(*prefix)
            .is_some_and(|hash| hash == aws_lc_rs::digest::digest(alg, message).as_ref())
    })
}
