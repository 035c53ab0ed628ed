//! Certificate chain, profile and card-signature checks.

use std::{
    fmt,
    sync::{Arc, RwLock},
};

use const_oid::AssociatedOid;
use der::{
    Decode, Encode, Reader, Sequence, Tag,
    asn1::{BitStringRef, IntRef, ObjectIdentifier, OctetStringRef},
};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use time::OffsetDateTime;
use x509_cert::{
    Certificate,
    certificate::Version,
    ext::pkix::{
        AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies,
        ExtendedKeyUsage, KeyUsage, name::GeneralName,
    },
    name::Name,
    time::Validity,
};

use crate::{
    Refusal, TrustAnchor, TrustAnchors,
    crypto::PublicKey,
    oids,
    util::{sha256, tbs_bytes, to_offset},
};

/// The key algorithm of a card certificate, which fixes how the card signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// RSA (2048–4096 bits, e = 65537); the card signs RSASSA-PKCS1-v1_5 with SHA-256.
    Rsa {
        /// Modulus size in bits.
        bits: u16,
    },
    /// ECDSA on P-256; signatures are ASN.1 DER over SHA-256.
    EcdsaP256,
    /// ECDSA on P-384; signatures are ASN.1 DER over SHA-384.
    EcdsaP384,
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rsa { bits } => write!(f, "rsa-{bits}"),
            Self::EcdsaP256 => f.write_str("ecdsa-p256"),
            Self::EcdsaP384 => f.write_str("ecdsa-p384"),
        }
    }
}

/// What a certificate must satisfy beyond the chain and key checks.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Certificate policy OIDs of which the certificate must carry at least one.
    /// Default: the JPKI user-authentication policy `1.2.392.200149.8.5.1.3.30` only.
    pub accepted_policies: Vec<ObjectIdentifier>,
    /// Whether extended key usage must include clientAuth (default: yes, as JPKI issues it).
    pub require_client_auth: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self { accepted_policies: vec![oids::JPKI_USER_AUTH_POLICY], require_client_auth: true }
    }
}

impl Policy {
    /// The JPKI digital-signature profile (署名用電子証明書): policy
    /// `1.2.392.200149.8.5.1.1.20` only, no extended key usage required.
    pub fn signing() -> Self {
        Self { accepted_policies: vec![oids::JPKI_SIGNATURE_POLICY], require_client_auth: false }
    }
}

/// Identifies a certificate to a revocation source: its root and its serial number.
///
/// Holds the serial (personal data): keep it in memory, never log it. `Debug` redacts it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CertRef {
    root_key_id: Vec<u8>,
    issuer_name_der: Arc<[u8]>,
    issuer_key_bits: Arc<[u8]>,
    serial: Vec<u8>,
}

impl CertRef {
    /// A reference to the certificate with `serial` issued by `root`.
    pub fn new(root: &TrustAnchor, serial: &[u8]) -> Self {
        Self {
            root_key_id: root.key_id.clone(),
            issuer_name_der: root.subject_der.clone(),
            issuer_key_bits: root.key_bits.clone(),
            serial: serial.to_vec(),
        }
    }

    /// The issuing root's subject key identifier.
    pub fn root_key_id(&self) -> &[u8] {
        &self.root_key_id
    }

    /// The issuer's name, DER (hashed into an OCSP CertID).
    pub fn issuer_name_der(&self) -> &[u8] {
        &self.issuer_name_der
    }

    /// The issuer's subjectPublicKey bits (hashed into an OCSP CertID).
    pub fn issuer_key_bits(&self) -> &[u8] {
        &self.issuer_key_bits
    }

    /// The certificate's serial number (unsigned big-endian bytes, no leading zero).
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }
}

impl fmt::Debug for CertRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertRef")
            .field("root_key_id", &hex::encode(&self.root_key_id))
            .field("serial", &"<redacted>")
            .finish()
    }
}

/// A certificate that chains to a configured root, fits the profile, and whose key signed the
/// message. Revocation is checked separately ([`crate::check_revocation`]).
///
/// Holds personal data (serial, subject id, certificate hash): `Debug` redacts them; never log or
/// publish them, store them only as keyed hashes.
#[derive(Clone)]
pub struct VerifiedCard {
    cert_ref: CertRef,
    subject_id: String,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    key_algorithm: KeyAlgorithm,
    issuer: Arc<str>,
    certificate_sha256: [u8; 32],
}

impl VerifiedCard {
    /// The issuing root's subject key identifier (which J-LIS root generation).
    pub fn root_key_id(&self) -> &[u8] {
        self.cert_ref.root_key_id()
    }

    /// The certificate serial number (personal data).
    pub fn serial(&self) -> &[u8] {
        self.cert_ref.serial()
    }

    /// What a revocation source needs to look the certificate up.
    pub fn cert_ref(&self) -> &CertRef {
        &self.cert_ref
    }

    /// The subject's common name, JPKI's 23-character opaque id (personal data: it embeds a
    /// municipality code).
    pub fn subject_id(&self) -> &str {
        &self.subject_id
    }

    /// Start of the certificate's validity.
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// End of the certificate's validity: an attestation must not outlive it.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// The card key's algorithm.
    pub fn key_algorithm(&self) -> KeyAlgorithm {
        self.key_algorithm
    }

    /// The issuing root's subject name (public).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// SHA-256 of the certificate DER (personal data: key it with HMAC before storing).
    pub fn certificate_sha256(&self) -> &[u8; 32] {
        &self.certificate_sha256
    }
}

impl fmt::Debug for VerifiedCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedCard")
            .field("root_key_id", &hex::encode(self.root_key_id()))
            .field("serial", &"<redacted>")
            .field("subject_id", &"<redacted>")
            .field("not_after", &self.not_after)
            .field("key_algorithm", &self.key_algorithm)
            .finish_non_exhaustive()
    }
}

/// Checks card evidence against configured roots and a [`Policy`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Verifier {
    anchors: Arc<TrustAnchors>,
    policy: Policy,
    /// Profile extension values (key usage, extended key usage, policies, basic constraints)
    /// already decoded and accepted under `policy`. Every card of one issuer carries the same
    /// bytes, and equal DER is an equal value: the same bytes pass again without decoding.
    /// Public data only (no serials, names or keys); at most [`ACCEPTED_EXTENSIONS_MAX`].
    accepted_extensions: Arc<RwLock<Vec<AcceptedExtension>>>,
}

/// An extension value (by type) a [`Verifier`] has accepted.
type AcceptedExtension = (ObjectIdentifier, Box<[u8]>);

/// Bound on [`Verifier`]'s memo of accepted extension values.
const ACCEPTED_EXTENSIONS_MAX: usize = 32;

const KNOWN_EXTENSIONS: &[ObjectIdentifier] = &[
    oids::KEY_USAGE,
    oids::EXT_KEY_USAGE,
    oids::CERT_POLICIES,
    oids::BASIC_CONSTRAINTS,
    oids::SUBJECT_ALT_NAME,
    oids::AUTHORITY_KEY_ID,
    oids::SUBJECT_KEY_ID,
    oids::CRL_DISTRIBUTION_POINTS,
    oids::AUTHORITY_INFO_ACCESS,
];

impl Verifier {
    /// A verifier trusting `anchors` and enforcing `policy`.
    pub fn new(anchors: impl Into<Arc<TrustAnchors>>, policy: Policy) -> Self {
        Self { anchors: anchors.into(), policy, accepted_extensions: Arc::default() }
    }

    /// The configured roots.
    pub fn anchors(&self) -> &Arc<TrustAnchors> {
        &self.anchors
    }

    /// Verifies a card's evidence at instant `at`: the certificate (DER) chains to a configured
    /// root, fits the JPKI user-authentication profile, and its key signed `message`.
    ///
    /// Order of checks (the first failure is returned): DER → root chosen by the authority key
    /// identifier, valid at `at`, issuer name equal to its subject → certificate signature →
    /// validity at `at` → critical extensions → key usage → extended key usage → policy → key
    /// algorithm and size → card signature (SHA-256 pinned; P-384 uses SHA-384).
    ///
    /// CPU only (two signature verifications): call it from `spawn_blocking` in async code.
    /// Does **not** check revocation: follow it with [`crate::check_revocation`].
    /// Security precondition: `message` must be the exact bytes the service issued (the
    /// challenge); `at` should be the service's clock, not a client-supplied time.
    pub fn verify_card(
        &self,
        cert_der: &[u8],
        message: &[u8],
        signature: &[u8],
        at: OffsetDateTime,
    ) -> Result<VerifiedCard, Refusal> {
        let (card, key) = self.verify_certificate(cert_der, at)?;
        key.verify_card(message, signature)?;
        Ok(card)
    }

    fn verify_certificate(
        &self,
        der: &[u8],
        at: OffsetDateTime,
    ) -> Result<(VerifiedCard, PublicKey), Refusal> {
        // Borrowed decode: the same DER rules as x509-cert's `Certificate` (same field types and
        // attributes), without copying every field. The issuer name is decoded only when it is
        // not byte-for-byte a configured root's subject (a root's name is well-formed DER).
        let decoded = self.decode(der);
        // The borrowed decode accepts exactly what x509-cert's does (tests and fuzzing check).
        debug_assert_eq!(decoded.is_some(), Certificate::from_der(der).is_ok());
        let (cert, subject) = decoded.ok_or(Refusal::MalformedCertificate)?;
        let tbs_raw = tbs_bytes(der).map_err(|_| Refusal::MalformedCertificate)?;
        let tbs = &cert.tbs_certificate;
        if tbs.version != Version::V3 || tbs.signature != cert.signature_algorithm {
            return Err(Refusal::MalformedCertificate);
        }
        let signature = cert.signature.as_bytes().ok_or(Refusal::MalformedCertificate)?;
        let extensions = tbs.extensions.as_deref().unwrap_or(&[]);

        // The root: by authority key id only, then the name must agree. The JPKI profile's
        // identifier (key id, root name, root serial) is recognised by its bytes: equal DER is
        // an equal value, so this is the decode below without its cost.
        let mut aki_found = extensions.iter().filter(|e| e.extn_id == oids::AUTHORITY_KEY_ID);
        let profile_root = match (aki_found.next(), aki_found.next()) {
            (Some(ext), None) => {
                self.anchors.iter().find(|a| *a.profile_aki == *ext.extn_value.as_bytes())
            }
            _ => None,
        };
        let root = match profile_root {
            Some(root) => {
                debug_assert!(matches!(
                    extension::<AuthorityKeyIdentifier>(extensions),
                    Ok(Some((_, aki))) if aki.key_identifier.as_ref().map(|k| k.as_bytes())
                        == Some(root.key_id())
                        && aki.authority_cert_serial_number.as_ref().map(|s| s.as_bytes())
                            == Some(&*root.serial)
                ));
                root
            }
            None => {
                let aki = match extension::<AuthorityKeyIdentifier>(extensions) {
                    Ok(Some((_, aki))) => aki,
                    Ok(None) => return Err(Refusal::UntrustedIssuer),
                    Err(_) => return Err(Refusal::MalformedCertificate),
                };
                let key_id = aki.key_identifier.as_ref().ok_or(Refusal::UntrustedIssuer)?;
                let root = self.anchors.get(key_id.as_bytes()).ok_or(Refusal::UntrustedIssuer)?;
                if let Some(serial) = &aki.authority_cert_serial_number
                    && serial.as_bytes() != &*root.serial
                {
                    return Err(Refusal::UntrustedIssuer);
                }
                root
            }
        };
        // Equal DER is equal names: DER has one encoding per value.
        if !root.valid_at(at) || *tbs.issuer.0 != *root.subject_der {
            return Err(Refusal::UntrustedIssuer);
        }
        root.key.verify_x509_ref(&cert.signature_algorithm, tbs_raw, signature)?;

        // From here on the content is the root's word.
        let not_before = to_offset(tbs.validity.not_before);
        let not_after = to_offset(tbs.validity.not_after);
        if at < not_before {
            return Err(Refusal::NotYetValid);
        }
        if at > not_after {
            return Err(Refusal::Expired);
        }
        for ext in extensions {
            if ext.critical && !KNOWN_EXTENSIONS.contains(&ext.extn_id) {
                return Err(Refusal::UnsupportedCriticalExtension);
            }
        }
        self.profile_extension::<BasicConstraints>(extensions, |bc| match bc {
            Some((_, bc)) if bc.ca => Err(Refusal::WrongKeyUsage),
            _ => Ok(()),
        })?;
        self.profile_extension::<KeyUsage>(extensions, |ku| match ku {
            Some((_, ku)) if ku.digital_signature() => Ok(()),
            _ => Err(Refusal::WrongKeyUsage),
        })?;
        if self.policy.require_client_auth {
            self.profile_extension::<ExtendedKeyUsage>(extensions, |eku| match eku {
                Some((_, eku)) if eku.0.contains(&oids::KP_CLIENT_AUTH) => Ok(()),
                _ => Err(Refusal::WrongExtendedKeyUsage),
            })?;
        }
        self.profile_extension::<CertificatePolicies>(extensions, |policies| match policies {
            Some((_, policies))
                if policies
                    .0
                    .iter()
                    .any(|p| self.policy.accepted_policies.contains(&p.policy_identifier)) =>
            {
                Ok(())
            }
            _ => Err(Refusal::WrongPolicy),
        })?;
        let key = PublicKey::from_spki_ref(&tbs.subject_public_key_info)?;

        let card = VerifiedCard {
            cert_ref: CertRef::new(root, tbs.serial_number.as_bytes()),
            subject_id: common_name(&subject).unwrap_or_default(),
            not_before,
            not_after,
            key_algorithm: key.algorithm,
            issuer: root.subject_text.clone(),
            certificate_sha256: sha256(der),
        };
        Ok((card, key))
    }
}

impl Verifier {
    /// Checks the extension `T` with `check` (given `None` when absent); a repeated or
    /// undecodable extension is malformed. A value accepted before (same bytes) is accepted
    /// again without decoding; a newly accepted one is remembered, up to a bound.
    fn profile_extension<'a, T: Decode<'a> + AssociatedOid>(
        &self,
        extensions: &[ExtensionView<'a>],
        check: impl FnOnce(Option<(bool, T)>) -> Result<(), Refusal>,
    ) -> Result<(), Refusal> {
        let mut found = extensions.iter().filter(|e| e.extn_id == T::OID);
        let ext = match (found.next(), found.next()) {
            (_, Some(_)) => return Err(Refusal::MalformedCertificate),
            (None, None) => return check(None),
            (Some(ext), None) => ext,
        };
        let value = ext.extn_value.as_bytes();
        let known = |memo: &[AcceptedExtension]| {
            memo.iter().any(|(oid, v)| *oid == T::OID && **v == *value)
        };
        if known(&self.accepted_extensions.read().unwrap_or_else(|e| e.into_inner())) {
            return Ok(());
        }
        let decoded = T::from_der(value).map_err(|_| Refusal::MalformedCertificate)?;
        check(Some((ext.critical, decoded)))?;
        let mut memo = self.accepted_extensions.write().unwrap_or_else(|e| e.into_inner());
        if memo.len() < ACCEPTED_EXTENSIONS_MAX && !known(&memo) {
            memo.push((T::OID, value.into()));
        }
        Ok(())
    }

    /// Decodes a certificate under x509-cert's rules, borrowing: `None` where
    /// `Certificate::from_der` fails. Returns the view and the decoded subject name.
    fn decode<'a>(&self, der: &'a [u8]) -> Option<(CertificateView<'a>, Name)> {
        let cert = CertificateView::from_der(der).ok()?;
        let tbs = &cert.tbs_certificate;
        if tbs.serial_number.as_bytes().len() > SERIAL_MAX_DECODE_LEN {
            return None;
        }
        // A configured root's subject is well-formed: only another issuer needs decoding.
        if !self.anchors.iter().any(|a| *a.subject_der == *tbs.issuer.0) {
            Name::from_der(tbs.issuer.0).ok()?;
        }
        let subject = Name::from_der(tbs.subject.0).ok()?;
        Some((cert, subject))
    }
}

/// x509-cert's limit on a decoded serial number (20 octets, 21 with a sign octet).
const SERIAL_MAX_DECODE_LEN: usize = 21;

/// A certificate decoded without copies: x509-cert's `Certificate` field for field, with
/// borrowed types (`Name`s kept as their raw DER, decoded where needed).
#[derive(Sequence)]
struct CertificateView<'a> {
    tbs_certificate: TbsView<'a>,
    signature_algorithm: AlgorithmIdentifierRef<'a>,
    signature: BitStringRef<'a>,
}

/// x509-cert's `TbsCertificate` with borrowed fields and the same DER attributes.
#[derive(Sequence)]
struct TbsView<'a> {
    #[asn1(context_specific = "0", default = "Default::default")]
    version: Version,
    serial_number: IntRef<'a>,
    signature: AlgorithmIdentifierRef<'a>,
    issuer: RawTlv<'a>,
    validity: Validity,
    subject: RawTlv<'a>,
    subject_public_key_info: SubjectPublicKeyInfoRef<'a>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    issuer_unique_id: Option<BitStringRef<'a>>,
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", optional = "true")]
    subject_unique_id: Option<BitStringRef<'a>>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Vec<ExtensionView<'a>>>,
}

/// x509-cert's `Extension` with a borrowed value.
#[derive(Sequence)]
struct ExtensionView<'a> {
    extn_id: ObjectIdentifier,
    #[asn1(default = "Default::default")]
    critical: bool,
    extn_value: OctetStringRef<'a>,
}

/// One complete SEQUENCE (tag, length, value), kept as its DER bytes.
struct RawTlv<'a>(&'a [u8]);

impl<'a> Decode<'a> for RawTlv<'a> {
    fn decode<R: Reader<'a>>(reader: &mut R) -> der::Result<Self> {
        let header = reader.peek_header()?;
        header.tag.assert_eq(Tag::Sequence)?;
        Ok(Self(reader.tlv_bytes()?))
    }
}

impl Encode for RawTlv<'_> {
    fn encoded_len(&self) -> der::Result<der::Length> {
        der::Length::try_from(self.0.len())
    }

    fn encode(&self, writer: &mut impl der::Writer) -> der::Result<()> {
        writer.write(self.0)
    }
}

/// x509-cert's `TbsCertificate::get` over borrowed extensions: the extension decoded, `None`
/// when absent, an error when it is repeated or does not decode.
fn extension<'a, T: Decode<'a> + AssociatedOid>(
    extensions: &[ExtensionView<'a>],
) -> der::Result<Option<(bool, T)>> {
    let mut found = extensions.iter().filter(|e| e.extn_id == T::OID);
    match (found.next(), found.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(der::ErrorKind::Failed.into()),
        (Some(e), None) => Ok(Some((e.critical, T::from_der(e.extn_value.as_bytes())?))),
    }
}

fn common_name(name: &x509_cert::name::Name) -> Option<String> {
    const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
    name.0.iter().flat_map(|rdn| rdn.0.iter()).find(|atv| atv.oid == CN).and_then(|atv| {
        let value = &atv.value;
        der::asn1::Utf8StringRef::try_from(value)
            .map(|s| s.as_str().to_owned())
            .or_else(|_| {
                der::asn1::PrintableStringRef::try_from(value).map(|s| s.as_str().to_owned())
            })
            .ok()
    })
}

/// A profile summary of a certificate, for `honnin jpki inspect`. No trust decision is made.
#[derive(Clone)]
pub struct CertificateSummary {
    /// The issuer name (RFC 4514).
    pub issuer: String,
    /// The subject's common name (personal data: show only on explicit request).
    pub subject_id: Option<String>,
    /// The serial number, big-endian bytes (personal data).
    pub serial: Vec<u8>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The key algorithm, or `None` when honnin would refuse the key.
    pub key_algorithm: Option<KeyAlgorithm>,
    /// The certificate's signature algorithm OID.
    pub signature_algorithm: String,
    /// Certificate policy OIDs.
    pub policies: Vec<String>,
    /// Whether key usage allows digitalSignature.
    pub digital_signature: bool,
    /// Whether extended key usage includes clientAuth.
    pub client_auth: bool,
    /// The authority key identifier's key id (names the root).
    pub authority_key_id: Option<Vec<u8>>,
    /// OCSP responder URLs from authority information access.
    pub ocsp_urls: Vec<String>,
}

impl fmt::Debug for CertificateSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateSummary")
            .field("issuer", &self.issuer)
            .field("not_after", &self.not_after)
            .field("key_algorithm", &self.key_algorithm)
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

/// Decodes a certificate (DER) into a [`CertificateSummary`] without any trust decision.
/// Never panics; any decoding failure is [`Refusal::MalformedCertificate`].
pub fn inspect(der: &[u8]) -> Result<CertificateSummary, Refusal> {
    let cert = Certificate::from_der(der).map_err(|_| Refusal::MalformedCertificate)?;
    let tbs = &cert.tbs_certificate;
    let bad = |_| Refusal::MalformedCertificate;
    let policies = tbs
        .get::<CertificatePolicies>()
        .map_err(bad)?
        .map(|(_, p)| p.0.iter().map(|p| p.policy_identifier.to_string()).collect())
        .unwrap_or_default();
    let digital_signature =
        tbs.get::<KeyUsage>().map_err(bad)?.is_some_and(|(_, ku)| ku.digital_signature());
    let client_auth = tbs
        .get::<ExtendedKeyUsage>()
        .map_err(bad)?
        .is_some_and(|(_, eku)| eku.0.contains(&oids::KP_CLIENT_AUTH));
    let authority_key_id = tbs
        .get::<AuthorityKeyIdentifier>()
        .map_err(bad)?
        .and_then(|(_, aki)| aki.key_identifier.map(|k| k.as_bytes().to_vec()));
    let ocsp_urls = tbs
        .get::<AuthorityInfoAccessSyntax>()
        .map_err(bad)?
        .map(|(_, aia)| {
            aia.0
                .iter()
                .filter(|ad| ad.access_method == oids::AD_OCSP)
                .filter_map(|ad| match &ad.access_location {
                    GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(CertificateSummary {
        issuer: tbs.issuer.to_string(),
        subject_id: common_name(&tbs.subject),
        serial: tbs.serial_number.as_bytes().to_vec(),
        not_before: to_offset(tbs.validity.not_before),
        not_after: to_offset(tbs.validity.not_after),
        key_algorithm: PublicKey::from_spki(&tbs.subject_public_key_info).ok().map(|k| k.algorithm),
        signature_algorithm: cert.signature_algorithm.oid.to_string(),
        policies,
        digital_signature,
        client_auth,
        authority_key_id,
        ocsp_urls,
    })
}

/// Reads a certificate given as DER or PEM and returns its DER.
pub fn certificate_der(bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        let text = std::str::from_utf8(bytes).map_err(|_| Refusal::MalformedCertificate)?;
        let (label, der) = der::pem::decode_vec(text.trim().as_bytes())
            .map_err(|_| Refusal::MalformedCertificate)?;
        if label != "CERTIFICATE" {
            return Err(Refusal::MalformedCertificate);
        }
        Ok(der)
    } else {
        Ok(bytes.to_vec())
    }
}
