//! Minting card certificates: [`CardSpec`] (the real user-authentication profile, one knob per
//! property the verifier checks) and [`SimRoot::issue`].

use der::asn1::{Ia5String, Null, ObjectIdentifier, OctetString};
use time::{Duration, OffsetDateTime};
use x509_cert::{
    TbsCertificate,
    certificate::Version,
    ext::pkix::{
        AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
        CertificatePolicies, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages,
        certpolicy::PolicyInformation,
        crl::dp::DistributionPoint,
        name::{DistributionPointName, GeneralName},
    },
    serial_number::SerialNumber,
    time::Validity,
};

use super::attributes::BasicAttributes;
use super::encoding::{ChainHash, ext, name, rsa_sign, sign_certificate, x509_time};
use super::{CardKeyKind, JPKI_OCSP_URL, SimCard, SimRoot};
use crate::{TrustAnchor, oids};

impl SimRoot {
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
            extensions.push(ext(oids::KEY_USAGE, true, &KeyUsage(usages)));
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
        if let Some(attributes) = &spec.attributes {
            extensions.push(ext(oids::SUBJECT_ALT_NAME, false, &attributes.subject_alt_name()));
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
        SimCard::new(der, key, spec.serial.clone())
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
    pub key_usage: Option<der::flagset::FlagSet<KeyUsages>>,
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
    /// The signing certificate's basic attributes in subjectAltName (`None`: no SAN, as the
    /// user-authentication certificate).
    pub attributes: Option<BasicAttributes>,
}

impl CardSpec {
    /// The real digital-signature (署名用) profile: signature policy, key usage
    /// digitalSignature + nonRepudiation, no extended key usage, the four basic attributes in
    /// subjectAltName with simulated values and this birth date. Issue it from a root made
    /// with [`SimRoot::signing`].
    pub fn signing(birth_date: time::Date) -> Self {
        Self {
            key: CardKeyKind::Rsa2048(2),
            serial: vec![0x02, 0x46, 0x8a, 0xce, 0x13],
            key_usage: Some(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
            extended_key_usage: None,
            policies: vec![oids::JPKI_SIGNATURE_POLICY],
            crl_distribution_point: "CN=Chiyoda-ku CRLDP,OU=Tokyo,OU=CRL Distribution Points,\
OU=JPKI for digital signature,O=JPKI,C=JP"
                .into(),
            attributes: Some(BasicAttributes::new(birth_date)),
            ..Self::default()
        }
    }
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
            key_usage: Some(KeyUsages::DigitalSignature.into()),
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
            attributes: None,
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
