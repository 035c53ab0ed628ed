//! Simulated CRLs: [`CrlSpec`] and [`SimRoot::crl`].

use der::{
    Encode,
    asn1::{BitString, OctetString},
};
use time::{Duration, OffsetDateTime};
use x509_cert::{
    certificate::Version,
    crl::{CertificateList, RevokedCert, TbsCertList},
    ext::pkix::AuthorityKeyIdentifier,
    serial_number::SerialNumber,
};

use super::SimRoot;
use super::encoding::{ChainHash, ext, rsa_sign, x509_time};
use crate::{RevocationReason, oids};

impl SimRoot {
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
