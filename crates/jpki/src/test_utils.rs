//! The simulated card (feature `test-utils`): mints JPKI-profile roots and user-authentication
//! certificates, signs messages exactly as the card does, issues CRLs and OCSP responses, and a
//! fake revocation source. For tests and `honnin dev` only: keys are generated in process and
//! nothing here is secret.
//!
//! Every property the verifier checks has a knob in [`CardSpec`] so negative tests can break
//! exactly one thing at a time.

#![allow(clippy::expect_used, clippy::missing_panics_doc)]

use std::{
    collections::HashMap,
    str::FromStr,
    sync::{
        Mutex, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration as StdDuration,
};

use der::{
    Decode, Encode,
    asn1::{
        BitString, GeneralizedTime, Ia5String, Null, ObjectIdentifier, OctetString, UintRef,
        UtcTime,
    },
    pem::LineEnding,
};
use rsa::{Pkcs1v15Sign, RsaPrivateKey, pkcs8::EncodePublicKey as _};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use time::{Duration, OffsetDateTime};
use x509_cert::{
    Certificate, TbsCertificate,
    certificate::Version,
    crl::{CertificateList, RevokedCert, TbsCertList},
    ext::{
        Extension,
        pkix::{
            AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
            CertificatePolicies, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages,
            SubjectKeyIdentifier,
            certpolicy::PolicyInformation,
            crl::dp::DistributionPoint,
            name::{DistributionPointName, GeneralName},
        },
    },
    name::Name,
    serial_number::SerialNumber,
    time::{Time, Validity},
};
use x509_ocsp::{
    BasicOcspResponse, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse, ResponderId,
    ResponseData, RevokedInfo, SingleResponse,
};

use crate::{
    CertRef, Error, RevocationReason, RevocationSource, RevocationStatus, TrustAnchor,
    TrustAnchors, oids, revocation::BoxFuture, util::sha1,
};

/// The real issuer name of the J-LIS user-authentication roots (all generations share it).
pub const JPKI_AUTH_CA_NAME: &str = "OU=Japan Agency for Local Authority Information Systems,\
OU=JPKI for user authentication,O=JPKI,C=JP";

/// The OCSP responder URL real user-authentication certificates carry.
pub const JPKI_OCSP_URL: &str = "http://ocspauthnorm.jpki.go.jp";

/// The DER DigestInfo prefix for SHA-256 (JPKI.md: the host builds it, the card pads and signs).
pub const SHA256_DIGEST_INFO_PREFIX: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The DER DigestInfo prefix for SHA-1 (which a real card signs just as happily).
pub const SHA1_DIGEST_INFO_PREFIX: &[u8] =
    &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14];

const POOL_SIZE: usize = 16;

/// An RSA-2048 (e = 65537) key from a per-process pool: slot `n` is generated once and reused,
/// because RSA key generation is slow. Use distinct slots for keys that must differ.
pub fn rsa_key(slot: usize) -> &'static RsaPrivateKey {
    static POOL: [OnceLock<RsaPrivateKey>; POOL_SIZE] = [const { OnceLock::new() }; POOL_SIZE];
    POOL[slot % POOL_SIZE].get_or_init(|| {
        RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("rsa key generation")
    })
}

/// Encodes DER as PEM with `label` (e.g. `CERTIFICATE`, `X509 CRL`).
pub fn pem(label: &str, der: &[u8]) -> String {
    der::pem::encode_string(label, LineEnding::LF, der).expect("pem encoding")
}

/// An X.509 time (UTCTime before 2050, GeneralizedTime after, as RFC 5280 wants).
pub fn x509_time(t: OffsetDateTime) -> Time {
    let d = StdDuration::from_secs(u64::try_from(t.unix_timestamp()).expect("time after 1970"));
    if t.year() < 2050 {
        Time::UtcTime(UtcTime::from_unix_duration(d).expect("utc time"))
    } else {
        Time::GeneralTime(GeneralizedTime::from_unix_duration(d).expect("generalized time"))
    }
}

fn gen_time(t: OffsetDateTime) -> OcspGeneralizedTime {
    let d = StdDuration::from_secs(u64::try_from(t.unix_timestamp()).expect("time after 1970"));
    OcspGeneralizedTime(GeneralizedTime::from_unix_duration(d).expect("generalized time"))
}

fn ext(oid: ObjectIdentifier, critical: bool, value: &impl Encode) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().expect("extension encoding"))
            .expect("octet string"),
    }
}

fn name(s: &str) -> Name {
    Name::from_str(s).expect("valid name")
}

/// A hash for an X.509 signature made by a simulated root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainHash {
    /// sha256WithRSAEncryption, as J-LIS signs.
    Sha256,
    /// sha1WithRSAEncryption, for the weak-hash negative test.
    Sha1,
}

fn rsa_sign(
    key: &RsaPrivateKey,
    hash: ChainHash,
    data: &[u8],
) -> (AlgorithmIdentifierOwned, Vec<u8>) {
    let (oid, sig) = match hash {
        ChainHash::Sha256 => {
            (oids::SHA256_WITH_RSA, key.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(data)))
        }
        ChainHash::Sha1 => (
            oids::SHA1_WITH_RSA,
            key.sign(Pkcs1v15Sign::new::<sha1::Sha1>(), &sha1::Sha1::digest(data)),
        ),
    };
    (AlgorithmIdentifierOwned { oid, parameters: Some(Null.into()) }, sig.expect("rsa signing"))
}

fn rsa_spki(key: &RsaPrivateKey) -> SubjectPublicKeyInfoOwned {
    let der = key.to_public_key().to_public_key_der().expect("spki");
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).expect("spki decode")
}

/// An RSA SubjectPublicKeyInfo with an arbitrary modulus size and exponent: not a usable key,
/// only for certificates the verifier must refuse before any signature is checked.
pub fn fake_rsa_spki(modulus_bits: usize, exponent: u32) -> SubjectPublicKeyInfoOwned {
    #[derive(der::Sequence)]
    struct RsaPub<'a> {
        n: UintRef<'a>,
        e: UintRef<'a>,
    }
    let mut n = vec![0xc5u8; modulus_bits.div_ceil(8)];
    if !modulus_bits.is_multiple_of(8) {
        n[0] = 0xff >> (8 - modulus_bits % 8);
    }
    n[0] |= 0x80 >> ((8 - modulus_bits % 8) % 8);
    let e = exponent.to_be_bytes();
    let e_start = e.iter().position(|&b| b != 0).unwrap_or(3);
    let key =
        RsaPub { n: UintRef::new(&n).expect("n"), e: UintRef::new(&e[e_start..]).expect("e") };
    SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: oids::RSA_ENCRYPTION,
            parameters: Some(Null.into()),
        },
        subject_public_key: BitString::from_bytes(&key.to_der().expect("rsa key")).expect("bits"),
    }
}

/// A simulated J-LIS root: RSA-2048, self-signed, with the real subject name.
#[derive(Clone)]
pub struct SimRoot {
    key: RsaPrivateKey,
    name: Name,
    serial: Vec<u8>,
    key_id: Vec<u8>,
    der: Vec<u8>,
}

impl SimRoot {
    /// A root with key slot `slot` (see [`rsa_key`]), valid from a year ago for ten years.
    pub fn new(slot: usize) -> Self {
        let now = OffsetDateTime::now_utc();
        Self::with_validity(slot, now - Duration::days(365), now + Duration::days(3650))
    }

    /// A root with key slot `slot` and the given validity.
    pub fn with_validity(
        slot: usize,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Self {
        let key = rsa_key(slot).clone();
        let name = name(JPKI_AUTH_CA_NAME);
        let spki = rsa_spki(&key);
        let key_id = sha1(spki.subject_public_key.raw_bytes()).to_vec();
        let serial = vec![0x06, 0xd1, 0x80, u8::try_from(slot % 256).expect("slot byte")];
        let extensions = vec![
            ext(oids::KEY_USAGE, true, &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)),
            ext(
                oids::BASIC_CONSTRAINTS,
                true,
                &BasicConstraints { ca: true, path_len_constraint: None },
            ),
            ext(
                oids::SUBJECT_KEY_ID,
                false,
                &SubjectKeyIdentifier(OctetString::new(key_id.clone()).expect("ski")),
            ),
        ];
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: SerialNumber::new(&serial).expect("serial"),
            signature: rsa_sign(&key, ChainHash::Sha256, b"").0,
            issuer: name.clone(),
            validity: Validity {
                not_before: x509_time(not_before),
                not_after: x509_time(not_after),
            },
            subject: name.clone(),
            subject_public_key_info: spki,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        };
        let der = sign_certificate(&key, ChainHash::Sha256, tbs);
        Self { key, name, serial, key_id, der }
    }

    /// The root certificate, DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The root certificate, PEM.
    pub fn pem(&self) -> String {
        pem("CERTIFICATE", &self.der)
    }

    /// The root's subject key identifier.
    pub fn key_id(&self) -> &[u8] {
        &self.key_id
    }

    /// The root's private key.
    pub fn key(&self) -> &RsaPrivateKey {
        &self.key
    }

    /// The root as a trust anchor.
    pub fn anchor(&self) -> TrustAnchor {
        TrustAnchor::from_der(&self.der, std::path::Path::new("<simulated>")).expect("sim root")
    }

    /// Trust anchors holding only this root.
    pub fn anchors(&self) -> TrustAnchors {
        let mut anchors = TrustAnchors::default();
        anchors.add(self.anchor(), std::path::Path::new("<simulated>")).expect("add");
        anchors
    }

    /// A [`CertRef`] for a certificate with `serial` from this root.
    pub fn cert_ref(&self, serial: &[u8]) -> CertRef {
        CertRef::new(&self.anchor(), serial)
    }

    /// Issues a card certificate per `spec`.
    pub fn issue(&self, spec: &CardSpec) -> SimCard {
        let (spki, key) = spec.key.generate();
        let aki = match &spec.aki {
            Aki::Root => Some(AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(self.key_id.clone()).expect("aki")),
                authority_cert_issuer: Some(vec![GeneralName::DirectoryName(self.name.clone())]),
                authority_cert_serial_number: Some(
                    SerialNumber::new(&self.serial).expect("serial"),
                ),
            }),
            Aki::Claim(anchor) => Some(AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(anchor.key_id.clone()).expect("aki")),
                authority_cert_issuer: Some(vec![GeneralName::DirectoryName(
                    anchor.subject.clone(),
                )]),
                authority_cert_serial_number: Some(
                    SerialNumber::new(&anchor.serial).expect("serial"),
                ),
            }),
            Aki::KeyId(id) => Some(AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(id.clone()).expect("aki")),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            }),
            Aki::Missing => None,
        };
        let issuer = match (&spec.aki, &spec.issuer_name) {
            (_, Some(issuer)) => name(issuer),
            (Aki::Claim(anchor), None) => anchor.subject.clone(),
            _ => self.name.clone(),
        };
        let mut extensions = Vec::new();
        if let Some(usages) = spec.key_usage {
            extensions.push(ext(oids::KEY_USAGE, true, &KeyUsage(usages.into())));
        }
        if let Some(ekus) = &spec.extended_key_usage {
            extensions.push(ext(oids::EXT_KEY_USAGE, false, &ExtendedKeyUsage(ekus.clone())));
        }
        if !spec.policies.is_empty() {
            let policies = spec
                .policies
                .iter()
                .map(|&oid| PolicyInformation { policy_identifier: oid, policy_qualifiers: None })
                .collect();
            extensions.push(ext(oids::CERT_POLICIES, true, &CertificatePolicies(policies)));
        }
        let crl_dp = DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![
                GeneralName::DirectoryName(name(&spec.crl_distribution_point)),
            ])),
            reasons: None,
            crl_issuer: None,
        };
        extensions.push(ext(
            oids::CRL_DISTRIBUTION_POINTS,
            false,
            &CrlDistributionPoints(vec![crl_dp]),
        ));
        extensions.push(ext(
            oids::AUTHORITY_INFO_ACCESS,
            false,
            &AuthorityInfoAccessSyntax(vec![AccessDescription {
                access_method: oids::AD_OCSP,
                access_location: GeneralName::UniformResourceIdentifier(
                    Ia5String::new(JPKI_OCSP_URL).expect("url"),
                ),
            }]),
        ));
        if let Some(aki) = aki {
            extensions.push(ext(oids::AUTHORITY_KEY_ID, false, &aki));
        }
        if spec.ca {
            extensions.push(ext(
                oids::BASIC_CONSTRAINTS,
                true,
                &BasicConstraints { ca: true, path_len_constraint: None },
            ));
        }
        if spec.unknown_critical_extension {
            extensions.push(ext(ObjectIdentifier::new_unwrap("1.2.3.4.5.6.7"), true, &Null));
        }
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: SerialNumber::new(&spec.serial).expect("serial"),
            signature: rsa_sign(&self.key, spec.chain_hash, b"").0,
            issuer,
            validity: Validity {
                not_before: x509_time(spec.not_before),
                not_after: x509_time(spec.not_after),
            },
            subject: name(&format!("CN={},C=JP", spec.subject_id)),
            subject_public_key_info: spki,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        };
        let der = sign_certificate(&self.key, spec.chain_hash, tbs);
        SimCard { der, key, serial: spec.serial.clone() }
    }

    /// Issues a CRL per `spec`, signed with SHA-256 by this root.
    pub fn crl(&self, spec: &CrlSpec) -> Vec<u8> {
        let revoked: Vec<RevokedCert> = spec
            .entries
            .iter()
            .map(|entry| RevokedCert {
                serial_number: SerialNumber::new(&entry.serial).expect("serial"),
                revocation_date: x509_time(entry.time),
                crl_entry_extensions: entry
                    .reason
                    .map(|r| vec![ext(oids::CRL_REASON, false, &r.to_asn1())]),
            })
            .collect();
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(self.key_id.clone()).expect("aki")),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        };
        let tbs = TbsCertList {
            version: Version::V2,
            signature: rsa_sign(&self.key, ChainHash::Sha256, b"").0,
            issuer: self.name.clone(),
            this_update: x509_time(spec.this_update),
            next_update: spec.next_update.map(x509_time),
            revoked_certificates: (!revoked.is_empty()).then_some(revoked),
            crl_extensions: Some(vec![
                ext(oids::AUTHORITY_KEY_ID, false, &aki),
                ext(oids::CRL_NUMBER, false, &der::asn1::Uint::new(&[1]).expect("crl number")),
            ]),
        };
        let tbs_der = tbs.to_der().expect("tbs");
        let (signature_algorithm, sig) = rsa_sign(&self.key, ChainHash::Sha256, &tbs_der);
        CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm,
            signature: BitString::from_bytes(&sig).expect("bits"),
        }
        .to_der()
        .expect("crl")
    }

    /// A delegated OCSP responder certificate issued by this root (EKU OCSPSigning, key slot
    /// `slot`).
    pub fn ocsp_responder(&self, slot: usize) -> Box<SimResponder> {
        let key = rsa_key(slot).clone();
        let now = OffsetDateTime::now_utc();
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: SerialNumber::new(&[0x4f, 0xc5, 0x90]).expect("serial"),
            signature: rsa_sign(&self.key, ChainHash::Sha256, b"").0,
            issuer: self.name.clone(),
            validity: Validity {
                not_before: x509_time(now - Duration::days(30)),
                not_after: x509_time(now + Duration::days(30)),
            },
            subject: name("CN=JPKI OCSP Responder (simulated),O=JPKI,C=JP"),
            subject_public_key_info: rsa_spki(&key),
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(vec![
                ext(oids::EXT_KEY_USAGE, false, &ExtendedKeyUsage(vec![oids::KP_OCSP_SIGNING])),
                ext(oids::OCSP_NOCHECK, false, &Null),
            ]),
        };
        let der = sign_certificate(&self.key, ChainHash::Sha256, tbs);
        Box::new(SimResponder {
            key,
            certificate: Certificate::from_der(&der).expect("responder cert"),
        })
    }

    /// Answers a DER OCSP request per `spec`: echoes the request's CertID and (unless told
    /// otherwise) its nonce, and signs as `spec.signer` says.
    pub fn ocsp_response(&self, request_der: &[u8], spec: &OcspSpec) -> Vec<u8> {
        let request = OcspRequest::from_der(request_der).expect("ocsp request");
        let cert_id = request.tbs_request.request_list[0].req_cert.clone();
        let cert_status = match spec.status {
            RevocationStatus::Good => CertStatus::good(),
            RevocationStatus::Unknown => CertStatus::unknown(),
            RevocationStatus::Revoked { reason, time } => CertStatus::Revoked(RevokedInfo {
                revocation_time: gen_time(time),
                revocation_reason: Some(reason.to_asn1()),
            }),
        };
        let nonce = match &spec.nonce {
            NonceMode::Echo => request.nonce().map(|n| n.0.as_bytes().to_vec()),
            NonceMode::Omit => None,
            NonceMode::Other(bytes) => Some(bytes.clone()),
        };
        let (key, certs) = match &spec.signer {
            OcspSigner::Root => (&self.key, None),
            OcspSigner::Delegate(responder) => {
                (&responder.key, Some(vec![responder.certificate.clone()]))
            }
            OcspSigner::Stranger(slot) => (rsa_key(*slot), None),
        };
        let key_hash = sha1(rsa_spki(key).subject_public_key.raw_bytes()).to_vec();
        let data = ResponseData {
            version: Default::default(),
            responder_id: ResponderId::ByKey(OctetString::new(key_hash).expect("key hash")),
            produced_at: gen_time(spec.this_update),
            responses: vec![SingleResponse {
                cert_id,
                cert_status,
                this_update: gen_time(spec.this_update),
                next_update: spec.next_update.map(gen_time),
                single_extensions: None,
            }],
            response_extensions: nonce
                .map(|n| vec![ext(oids::OCSP_NONCE, false, &OctetString::new(n).expect("nonce"))]),
        };
        let (signature_algorithm, mut sig) =
            rsa_sign(key, ChainHash::Sha256, &data.to_der().expect("response data"));
        if spec.corrupt_signature {
            sig[10] ^= 0x01;
        }
        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm,
            signature: BitString::from_bytes(&sig).expect("bits"),
            certs,
        };
        OcspResponse::successful(basic).expect("ocsp response").to_der().expect("der")
    }
}

fn sign_certificate(key: &RsaPrivateKey, hash: ChainHash, mut tbs: TbsCertificate) -> Vec<u8> {
    let (alg, _) = rsa_sign(key, hash, b"");
    tbs.signature = alg.clone();
    let tbs_der = tbs.to_der().expect("tbs");
    let (_, sig) = rsa_sign(key, hash, &tbs_der);
    Certificate {
        tbs_certificate: tbs,
        signature_algorithm: alg,
        signature: BitString::from_bytes(&sig).expect("bits"),
    }
    .to_der()
    .expect("certificate")
}

/// A delegated OCSP responder: its key and the certificate its root issued.
#[derive(Clone)]
pub struct SimResponder {
    key: RsaPrivateKey,
    certificate: Certificate,
}

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
    fn generate(&self) -> (SubjectPublicKeyInfoOwned, CardKey) {
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

/// Everything about a card certificate, defaulting to the real user-authentication profile.
/// Change one field to break one property.
#[derive(Clone, Debug)]
pub struct CardSpec {
    /// The card key.
    pub key: CardKeyKind,
    /// The subject's 23-character id (CN).
    pub subject_id: String,
    /// Serial number bytes.
    pub serial: Vec<u8>,
    /// Validity start.
    pub not_before: OffsetDateTime,
    /// Validity end.
    pub not_after: OffsetDateTime,
    /// Key usage (critical), or `None` to leave the extension out.
    pub key_usage: Option<KeyUsages>,
    /// Extended key usage, or `None` to leave it out.
    pub extended_key_usage: Option<Vec<ObjectIdentifier>>,
    /// Certificate policies (critical); empty leaves the extension out.
    pub policies: Vec<ObjectIdentifier>,
    /// The authority key identifier.
    pub aki: Aki,
    /// Override the issuer name (RFC 4514, reversed order as `Name::from_str` takes it).
    pub issuer_name: Option<String>,
    /// The CRL distribution point's directory name.
    pub crl_distribution_point: String,
    /// Hash of the root's signature on the certificate.
    pub chain_hash: ChainHash,
    /// Add basicConstraints cA = true (a card certificate must not be a CA).
    pub ca: bool,
    /// Add an unknown critical extension.
    pub unknown_critical_extension: bool,
}

impl Default for CardSpec {
    fn default() -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            key: CardKeyKind::Rsa2048(1),
            subject_id: "0123A4B5C6D7E8F9G0H1I2J".into(),
            serial: vec![0x01, 0x23, 0x45, 0x67, 0x89],
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(5 * 365),
            key_usage: Some(KeyUsages::DigitalSignature),
            extended_key_usage: Some(vec![oids::KP_CLIENT_AUTH]),
            policies: vec![oids::JPKI_USER_AUTH_POLICY],
            aki: Aki::Root,
            issuer_name: None,
            crl_distribution_point: "CN=Chiyoda-ku CRLDP,OU=Tokyo,OU=CRL Distribution Points,\
OU=JPKI for user authentication,O=JPKI,C=JP"
                .into(),
            chain_hash: ChainHash::Sha256,
            ca: false,
            unknown_critical_extension: false,
        }
    }
}

/// The authority key identifier a simulated certificate carries.
#[derive(Clone, Debug)]
pub enum Aki {
    /// Key id, issuer and serial of the signing root (the real profile).
    Root,
    /// Names another root (e.g. a real J-LIS root) though the simulated root signs.
    Claim(TrustAnchor),
    /// Only a key id, of your choice.
    KeyId(Vec<u8>),
    /// No authority key identifier.
    Missing,
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

/// One entry of a simulated CRL.
#[derive(Clone, Debug)]
pub struct CrlEntry {
    /// The revoked serial number.
    pub serial: Vec<u8>,
    /// The reason code, or `None` to leave the extension out.
    pub reason: Option<RevocationReason>,
    /// When it was revoked.
    pub time: OffsetDateTime,
}

/// A simulated CRL.
#[derive(Clone, Debug)]
pub struct CrlSpec {
    /// Issue time.
    pub this_update: OffsetDateTime,
    /// Next issue, `None` to leave out.
    pub next_update: Option<OffsetDateTime>,
    /// Revoked certificates.
    pub entries: Vec<CrlEntry>,
}

impl Default for CrlSpec {
    /// A CRL issued an hour ago, due in a day (J-LIS refreshes daily), with no entries.
    fn default() -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            this_update: now - Duration::hours(1),
            next_update: Some(now + Duration::days(1)),
            entries: vec![],
        }
    }
}

/// Which nonce a simulated OCSP response carries.
#[derive(Clone, Debug)]
pub enum NonceMode {
    /// The request's nonce.
    Echo,
    /// None.
    Omit,
    /// These bytes.
    Other(Vec<u8>),
}

/// Who signs a simulated OCSP response.
#[derive(Clone)]
pub enum OcspSigner {
    /// The issuing root itself.
    Root,
    /// A delegated responder certified by the root (its certificate is included).
    Delegate(Box<SimResponder>),
    /// A key the root never certified (pool slot).
    Stranger(usize),
}

/// A simulated OCSP answer.
#[derive(Clone)]
pub struct OcspSpec {
    /// The status to report.
    pub status: RevocationStatus,
    /// thisUpdate (also producedAt).
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: Option<OffsetDateTime>,
    /// The nonce to include.
    pub nonce: NonceMode,
    /// The signer.
    pub signer: OcspSigner,
    /// Flip a bit of the signature.
    pub corrupt_signature: bool,
}

impl Default for OcspSpec {
    fn default() -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            status: RevocationStatus::Good,
            this_update: now - Duration::minutes(1),
            next_update: Some(now + Duration::hours(1)),
            nonce: NonceMode::Echo,
            signer: OcspSigner::Root,
            corrupt_signature: false,
        }
    }
}

/// What [`FakeRevocation`] answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FakeAnswer {
    /// A status.
    Status(RevocationStatus),
    /// [`Error::StaleRevocationData`].
    Stale,
    /// A transport failure ([`Error::Http`]).
    Unreachable,
}

/// A revocation source that answers what the test told it, and counts calls.
#[derive(Debug)]
pub struct FakeRevocation {
    answers: Mutex<HashMap<Vec<u8>, FakeAnswer>>,
    default: FakeAnswer,
    calls: AtomicUsize,
}

impl FakeRevocation {
    /// Answers `default` for every certificate not set otherwise.
    pub fn new(default: FakeAnswer) -> Self {
        Self { answers: Mutex::new(HashMap::new()), default, calls: AtomicUsize::new(0) }
    }

    /// Sets the answer for the certificate with `serial`.
    pub fn set(&self, serial: &[u8], answer: FakeAnswer) {
        self.answers.lock().unwrap_or_else(|e| e.into_inner()).insert(serial.to_vec(), answer);
    }

    /// How many times it was asked.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl RevocationSource for FakeRevocation {
    fn status<'a>(
        &'a self,
        cert: &'a CertRef,
        _at: OffsetDateTime,
    ) -> BoxFuture<'a, crate::Result<RevocationStatus>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = self
            .answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(cert.serial())
            .copied()
            .unwrap_or(self.default);
        Box::pin(async move {
            match answer {
                FakeAnswer::Status(status) => Ok(status),
                FakeAnswer::Stale => Err(Error::StaleRevocationData { what: "fake" }),
                FakeAnswer::Unreachable => {
                    Err(Error::Http { url: "fake://".into(), reason: "unreachable".into() })
                }
            }
        })
    }
}
