//! Simulated OCSP: a delegated responder, and answers to real DER requests per [`OcspSpec`].

use der::{
    Decode, Encode,
    asn1::{BitString, Null, OctetString},
};
use rsa::RsaPrivateKey;
use time::{Duration, OffsetDateTime};
use x509_cert::{
    Certificate, TbsCertificate, certificate::Version, ext::pkix::ExtendedKeyUsage,
    serial_number::SerialNumber, time::Validity,
};
use x509_ocsp::{
    BasicOcspResponse, CertStatus, OcspRequest, OcspResponse, ResponderId, ResponseData,
    RevokedInfo, SingleResponse,
};

use super::SimRoot;
use super::encoding::{ChainHash, ext, gen_time, name, rsa_sign, sign_certificate, x509_time};
use super::keys::{rsa_key, rsa_spki};
use crate::{RevocationStatus, oids, util::sha1};

impl SimRoot {
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

/// A delegated OCSP responder: its key and the certificate its root issued.
#[derive(Clone)]
pub struct SimResponder {
    key: RsaPrivateKey,
    certificate: Certificate,
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
