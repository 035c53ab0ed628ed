//! OCSP (RFC 6960): request with a nonce, POST to the configured responder, verified response.

use std::{fmt, sync::Arc};

use der::{
    Decode, Encode,
    asn1::{Null, OctetString},
};
use spki::AlgorithmIdentifierOwned;
use time::{Duration, OffsetDateTime};
use x509_cert::{
    Certificate,
    ext::{Extension, pkix::ExtendedKeyUsage},
    serial_number::SerialNumber,
};
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    TbsRequest, ext::Nonce,
};

use super::{
    BoxFuture, RevocationReason, RevocationSource, RevocationStatus, http_client, http_fetch,
};
use crate::{
    CertRef, Error, Result, TrustAnchors,
    crypto::PublicKey,
    oids,
    util::{gen_to_offset, sha1, tbs_bytes, to_offset},
};

const WHAT: &str = "ocsp response";

fn malformed(reason: impl fmt::Display) -> Error {
    Error::MalformedRevocationData { what: WHAT, reason: reason.to_string() }
}

/// The OCSP CertID of `cert` (SHA-1 hashes of issuer name and key, as RFC 6960 responders expect).
pub fn cert_id(cert: &CertRef) -> Result<CertId> {
    Ok(CertId {
        hash_algorithm: AlgorithmIdentifierOwned { oid: oids::SHA1, parameters: Some(Null.into()) },
        issuer_name_hash: OctetString::new(sha1(cert.issuer_name_der()).to_vec())?,
        issuer_key_hash: OctetString::new(sha1(cert.issuer_key_bits()).to_vec())?,
        serial_number: SerialNumber::new(cert.serial())?,
    })
}

/// Builds a DER OCSP request for one certificate, with `nonce` in the nonce extension.
pub fn build_request(cert: &CertRef, nonce: &[u8]) -> Result<Vec<u8>> {
    let nonce = Nonce::new(nonce.to_vec())?;
    let request = OcspRequest {
        tbs_request: TbsRequest {
            version: Default::default(),
            requestor_name: None,
            request_list: vec![Request {
                req_cert: cert_id(cert)?,
                single_request_extensions: None,
            }],
            request_extensions: Some(vec![Extension {
                extn_id: oids::OCSP_NONCE,
                critical: false,
                extn_value: OctetString::new(nonce.to_der()?)?,
            }]),
        },
        optional_signature: None,
    };
    Ok(request.to_der()?)
}

/// Decodes an OCSP response (DER) down to the basic response, without any check. For tools and
/// fuzzing; [`OcspChecker::check`] is what decides.
pub fn decode_response(der: &[u8]) -> Result<Option<BasicOcspResponse>> {
    let response = OcspResponse::from_der(der).map_err(malformed)?;
    match response.response_bytes {
        Some(bytes) if bytes.response_type == oids::OCSP_BASIC => {
            BasicOcspResponse::from_der(bytes.response.as_bytes()).map(Some).map_err(malformed)
        }
        Some(_) => Err(malformed("not a basic ocsp response")),
        None => Ok(None),
    }
}

/// The pure checks on an OCSP response, separate from the HTTP exchange.
#[derive(Clone, Debug)]
pub struct OcspChecker {
    /// Tolerance for clock differences and late `nextUpdate`.
    pub grace: Duration,
    /// How old a response without `nextUpdate` may be.
    pub max_age: Duration,
    /// Whether the response must echo the request's nonce (default: yes). Turning this off
    /// allows pre-produced responses, which can be replayed until they are stale.
    pub require_nonce: bool,
}

impl Default for OcspChecker {
    fn default() -> Self {
        Self { grace: Duration::minutes(5), max_age: Duration::hours(24), require_nonce: true }
    }
}

impl OcspChecker {
    /// Checks a DER OCSP response for `cert` at `at`:
    ///
    /// 1. status `successful`, a basic response;
    /// 2. signed by the issuing root, or by a delegated responder certificate that the root
    ///    signed, valid at `at`, with extended key usage OCSPSigning;
    /// 3. the nonce equals `nonce` (when one was sent and [`require_nonce`](Self::require_nonce));
    /// 4. a single response for exactly this CertID, with `thisUpdate <= at + grace` and
    ///    `at <= nextUpdate + grace` (or `at <= thisUpdate + max_age` without `nextUpdate`).
    pub fn check(
        &self,
        der: &[u8],
        cert: &CertRef,
        nonce: Option<&[u8]>,
        anchors: &TrustAnchors,
        at: OffsetDateTime,
    ) -> Result<RevocationStatus> {
        let response = OcspResponse::from_der(der).map_err(malformed)?;
        let status_name = match response.response_status {
            OcspResponseStatus::Successful => None,
            OcspResponseStatus::MalformedRequest => Some("malformed_request"),
            OcspResponseStatus::InternalError => Some("internal_error"),
            OcspResponseStatus::TryLater => Some("try_later"),
            OcspResponseStatus::SigRequired => Some("sig_required"),
            OcspResponseStatus::Unauthorized => Some("unauthorized"),
        };
        if let Some(name) = status_name {
            return Err(Error::OcspStatus(name));
        }
        let bytes = response.response_bytes.ok_or_else(|| malformed("no response bytes"))?;
        if bytes.response_type != oids::OCSP_BASIC {
            return Err(malformed("not a basic ocsp response"));
        }
        let basic_der = bytes.response.as_bytes();
        let basic = BasicOcspResponse::from_der(basic_der).map_err(malformed)?;
        let tbs_raw = tbs_bytes(basic_der).map_err(malformed)?;
        let signature = basic.signature.as_bytes().ok_or_else(|| malformed("signature bits"))?;

        let root =
            anchors.get(cert.root_key_id()).ok_or(Error::UntrustedRevocationData { what: WHAT })?;
        let signed_by_root =
            root.key.verify_x509(&basic.signature_algorithm, tbs_raw, signature).is_ok();
        let signed_by_delegate = || {
            basic.certs.as_deref().unwrap_or(&[]).iter().any(|responder| {
                delegated_key(responder, root, at).is_some_and(|key| {
                    key.verify_x509(&basic.signature_algorithm, tbs_raw, signature).is_ok()
                })
            })
        };
        if !signed_by_root && !signed_by_delegate() {
            return Err(Error::UntrustedRevocationData { what: WHAT });
        }

        let data = &basic.tbs_response_data;
        if let Some(sent) = nonce {
            match data.nonce() {
                Some(got) if got.0.as_bytes() == sent => {}
                None if !self.require_nonce => {}
                _ => return Err(Error::NonceMismatch),
            }
        }

        let wanted = cert_id(cert)?;
        let single = data
            .responses
            .iter()
            .find(|r| same_cert_id(&r.cert_id, &wanted))
            .ok_or(Error::OcspNoMatchingResponse)?;
        let this_update = gen_to_offset(single.this_update.0);
        let fresh_until = match single.next_update {
            Some(next) => gen_to_offset(next.0) + self.grace,
            None => this_update + self.max_age,
        };
        if this_update > at + self.grace || at > fresh_until {
            return Err(Error::StaleRevocationData { what: WHAT });
        }
        Ok(match single.cert_status {
            CertStatus::Good(_) => RevocationStatus::Good,
            CertStatus::Unknown(_) => RevocationStatus::Unknown,
            CertStatus::Revoked(info) => RevocationStatus::Revoked {
                reason: info
                    .revocation_reason
                    .and_then(RevocationReason::from_asn1)
                    .unwrap_or(RevocationReason::Unspecified),
                time: gen_to_offset(info.revocation_time.0),
            },
        })
    }
}

/// CertIDs match when hash algorithm, both hashes and serial agree (parameters NULL/absent alike).
fn same_cert_id(a: &CertId, b: &CertId) -> bool {
    a.hash_algorithm.oid == b.hash_algorithm.oid
        && a.issuer_name_hash == b.issuer_name_hash
        && a.issuer_key_hash == b.issuer_key_hash
        && a.serial_number == b.serial_number
}

/// The key of a delegated OCSP responder certificate, if `root` issued it for OCSP signing and
/// it is valid at `at` (RFC 6960 §4.2.2.2).
fn delegated_key(
    responder: &Certificate,
    root: &crate::TrustAnchor,
    at: OffsetDateTime,
) -> Option<PublicKey> {
    let tbs = &responder.tbs_certificate;
    let der = responder.to_der().ok()?;
    let tbs_raw = tbs_bytes(&der).ok()?;
    let signature = responder.signature.as_bytes()?;
    if tbs.issuer != root.subject
        || root.key.verify_x509(&responder.signature_algorithm, tbs_raw, signature).is_err()
        || at < to_offset(tbs.validity.not_before)
        || at > to_offset(tbs.validity.not_after)
    {
        return None;
    }
    match tbs.get::<ExtendedKeyUsage>() {
        Ok(Some((_, eku))) if eku.0.contains(&oids::KP_OCSP_SIGNING) => {}
        _ => return None,
    }
    PublicKey::from_spki(&tbs.subject_public_key_info).ok()
}

/// A revocation source asking one OCSP responder (the operator's, from configuration).
pub struct OcspSource {
    anchors: Arc<TrustAnchors>,
    url: String,
    checker: OcspChecker,
    client: reqwest::Client,
}

impl fmt::Debug for OcspSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OcspSource")
            .field("url", &self.url)
            .field("checker", &self.checker)
            .finish_non_exhaustive()
    }
}

impl OcspSource {
    /// A source posting requests to `url` (e.g. `http://ocspauthnorm.jpki.go.jp`, or what the
    /// platform operator provides) and checking answers with [`OcspChecker::default`].
    pub fn new(anchors: Arc<TrustAnchors>, url: impl Into<String>) -> Self {
        Self { anchors, url: url.into(), checker: OcspChecker::default(), client: http_client() }
    }

    /// Replaces the response checks' settings.
    pub fn with_checker(mut self, checker: OcspChecker) -> Self {
        self.checker = checker;
        self
    }

    async fn query(&self, cert: &CertRef, at: OffsetDateTime) -> Result<RevocationStatus> {
        let mut nonce = [0u8; 32];
        aws_lc_rs::rand::fill(&mut nonce)
            .map_err(|_| Error::Http { url: self.url.clone(), reason: "no randomness".into() })?;
        let request = build_request(cert, &nonce)?;
        let body = http_fetch(&self.client, &self.url, Some(("application/ocsp-request", request)))
            .await?;
        self.checker.check(&body, cert, Some(&nonce), &self.anchors, at)
    }
}

impl RevocationSource for OcspSource {
    fn status<'a>(
        &'a self,
        cert: &'a CertRef,
        at: OffsetDateTime,
    ) -> BoxFuture<'a, Result<RevocationStatus>> {
        Box::pin(self.query(cert, at))
    }
}
