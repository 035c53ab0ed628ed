//! DER, PEM and time encoding, and X.509 signing with a simulated root's key.

use std::{str::FromStr, time::Duration as StdDuration};

use der::{
    Encode,
    asn1::{BitString, GeneralizedTime, Null, ObjectIdentifier, OctetString, UtcTime},
    pem::LineEnding,
};
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::{Certificate, TbsCertificate, ext::Extension, name::Name, time::Time};
use x509_ocsp::OcspGeneralizedTime;

use crate::oids;

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

pub(super) fn gen_time(t: OffsetDateTime) -> OcspGeneralizedTime {
    let d = StdDuration::from_secs(u64::try_from(t.unix_timestamp()).expect("time after 1970"));
    OcspGeneralizedTime(GeneralizedTime::from_unix_duration(d).expect("generalized time"))
}

pub(super) fn ext(oid: ObjectIdentifier, critical: bool, value: &impl Encode) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().expect("extension encoding"))
            .expect("octet string"),
    }
}

pub(super) fn name(s: &str) -> Name {
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

pub(super) fn rsa_sign(
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

/// Signs `tbs` with `key` and `hash`, setting its signature algorithm to match.
pub(super) fn sign_certificate(
    key: &RsaPrivateKey,
    hash: ChainHash,
    mut tbs: TbsCertificate,
) -> Vec<u8> {
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
