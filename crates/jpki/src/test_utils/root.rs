//! A simulated J-LIS root: its key, certificate and trust anchor.

use der::asn1::OctetString;
use rsa::RsaPrivateKey;
use time::{Duration, OffsetDateTime};
use x509_cert::{
    TbsCertificate,
    certificate::Version,
    ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier},
    name::Name,
    serial_number::SerialNumber,
    time::Validity,
};

use super::encoding::{ChainHash, ext, name, pem, rsa_sign, sign_certificate, x509_time};
use super::keys::{rsa_key, rsa_spki};
use super::{JPKI_AUTH_CA_NAME, JPKI_SIGN_CA_NAME};
use crate::{CertRef, TrustAnchor, TrustAnchors, oids, util::sha1};

/// A simulated J-LIS root: RSA-2048, self-signed, with the real subject name.
#[derive(Clone)]
pub struct SimRoot {
    pub(super) key: RsaPrivateKey,
    pub(super) name: Name,
    pub(super) serial: Vec<u8>,
    pub(super) key_id: Vec<u8>,
    pub(super) der: Vec<u8>,
}

impl SimRoot {
    /// A root with key slot `slot` (see [`rsa_key`]), valid from a year ago for ten years.
    pub fn new(slot: usize) -> Self {
        let now = OffsetDateTime::now_utc();
        Self::with_validity(slot, now - Duration::days(365), now + Duration::days(3650))
    }

    /// A digital-signature root (the J-LIS signature roots' name) with key slot `slot`, valid
    /// from a year ago for ten years. It issues [`super::CardSpec::signing`] certificates.
    pub fn signing(slot: usize) -> Self {
        let now = OffsetDateTime::now_utc();
        Self::named(slot, JPKI_SIGN_CA_NAME, now - Duration::days(365), now + Duration::days(3650))
    }

    /// A root with key slot `slot` and the given validity.
    pub fn with_validity(
        slot: usize,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Self {
        Self::named(slot, JPKI_AUTH_CA_NAME, not_before, not_after)
    }

    fn named(
        slot: usize,
        subject: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Self {
        let key = rsa_key(slot).clone();
        let name = name(subject);
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
}
