//! OCSP source against a real HTTP responder on 127.0.0.1 (port 0) that answers with responses
//! the simulated root signs.

use std::sync::{Arc, atomic::Ordering};

use honnin_jpki::{
    OcspChecker, OcspSource, RevocationReason, RevocationStatus, check_revocation,
    test_utils::{CardSpec, NonceMode, OcspSigner, OcspSpec, SimCard},
};
use time::Duration;

use crate::support::*;

/// Verifies a fresh card and asks a responder that answers per `spec`.
async fn ask(
    spec: OcspSpec,
    checker: OcspChecker,
) -> (Result<RevocationStatus, honnin_jpki::Refusal>, SimCard) {
    let card = card(CardSpec::default());
    let verified = verify(&card, &card.sign(MESSAGE)).unwrap();
    let server = ocsp_responder(move |request| root().ocsp_response(request, &spec)).await;
    let source =
        OcspSource::new(Arc::new(root().anchors()), server.url.clone()).with_checker(checker);
    let result = check_revocation(&verified, &source, now(), false).await;
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
    (result, card)
}

#[tokio::test]
async fn good_answer_passes() {
    let (result, _) = ask(OcspSpec::default(), OcspChecker::default()).await;
    assert_eq!(result, Ok(RevocationStatus::Good));
}

#[tokio::test]
async fn revoked_answer_is_refused_with_reason_and_time() {
    let time = now() - Duration::days(1);
    let spec = OcspSpec {
        status: RevocationStatus::Revoked { reason: RevocationReason::KeyCompromise, time },
        ..OcspSpec::default()
    };
    let (result, _) = ask(spec, OcspChecker::default()).await;
    match result {
        Err(honnin_jpki::Refusal::Revoked { reason, time: got }) => {
            assert_eq!(reason, RevocationReason::KeyCompromise);
            assert_eq!(got.unix_timestamp(), time.unix_timestamp());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unknown_answer_fails_closed() {
    let spec = OcspSpec { status: RevocationStatus::Unknown, ..OcspSpec::default() };
    let (result, _) = ask(spec, OcspChecker::default()).await;
    assert_refused(result, "revocation_unknown");
}

#[tokio::test]
async fn unknown_answer_passes_only_when_allowed() {
    let card = card(CardSpec::default());
    let verified = verify(&card, &card.sign(MESSAGE)).unwrap();
    let spec = OcspSpec { status: RevocationStatus::Unknown, ..OcspSpec::default() };
    let server = ocsp_responder(move |request| root().ocsp_response(request, &spec)).await;
    let source = OcspSource::new(Arc::new(root().anchors()), server.url.clone());
    assert_eq!(
        check_revocation(&verified, &source, now(), true).await,
        Ok(RevocationStatus::Unknown)
    );
}

#[tokio::test]
async fn corrupted_signature_is_refused() {
    let spec = OcspSpec { corrupt_signature: true, ..OcspSpec::default() };
    assert_refused(ask(spec, OcspChecker::default()).await.0, "revocation_unknown");
}

#[tokio::test]
async fn response_signed_by_an_uncertified_key_is_refused() {
    let spec = OcspSpec { signer: OcspSigner::Stranger(STRANGER_SLOT), ..OcspSpec::default() };
    assert_refused(ask(spec, OcspChecker::default()).await.0, "revocation_unknown");
}

#[tokio::test]
async fn delegated_responder_certified_by_the_root_is_accepted() {
    let spec = OcspSpec {
        signer: OcspSigner::Delegate(root().ocsp_responder(RESPONDER_SLOT)),
        ..OcspSpec::default()
    };
    assert_eq!(ask(spec, OcspChecker::default()).await.0, Ok(RevocationStatus::Good));
}

#[tokio::test]
async fn delegated_responder_of_another_root_is_refused() {
    let other = honnin_jpki::test_utils::SimRoot::new(OTHER_ROOT_SLOT);
    let spec = OcspSpec {
        signer: OcspSigner::Delegate(other.ocsp_responder(RESPONDER_SLOT)),
        ..OcspSpec::default()
    };
    assert_refused(ask(spec, OcspChecker::default()).await.0, "revocation_unknown");
}

#[tokio::test]
async fn nonce_mismatch_is_refused() {
    let spec = OcspSpec { nonce: NonceMode::Other(vec![0x42; 32]), ..OcspSpec::default() };
    assert_refused(ask(spec, OcspChecker::default()).await.0, "revocation_unknown");
}

#[tokio::test]
async fn missing_nonce_is_refused_unless_configured() {
    let spec = OcspSpec { nonce: NonceMode::Omit, ..OcspSpec::default() };
    assert_refused(ask(spec.clone(), OcspChecker::default()).await.0, "revocation_unknown");
    let lenient = OcspChecker { require_nonce: false, ..OcspChecker::default() };
    assert_eq!(ask(spec, lenient).await.0, Ok(RevocationStatus::Good));
}

#[tokio::test]
async fn stale_answer_is_refused() {
    let spec = OcspSpec {
        this_update: now() - Duration::days(2),
        next_update: Some(now() - Duration::days(1)),
        ..OcspSpec::default()
    };
    assert_refused(ask(spec, OcspChecker::default()).await.0, "stale_revocation_data");
}

#[tokio::test]
async fn answer_from_the_future_is_refused() {
    let spec = OcspSpec { this_update: now() + Duration::hours(1), ..OcspSpec::default() };
    assert_refused(ask(spec, OcspChecker::default()).await.0, "stale_revocation_data");
}

#[tokio::test]
async fn old_answer_without_next_update_is_stale() {
    let spec = OcspSpec {
        this_update: now() - Duration::days(2),
        next_update: None,
        ..OcspSpec::default()
    };
    assert_refused(ask(spec, OcspChecker::default()).await.0, "stale_revocation_data");
}

#[tokio::test]
async fn garbage_and_error_statuses_are_refused() {
    let card = card(CardSpec::default());
    let verified = verify(&card, &card.sign(MESSAGE)).unwrap();
    for body in
        [b"not der".to_vec(), hex::decode("30030a0101").unwrap() /* malformedRequest */]
    {
        let server = ocsp_responder(move |_| body.clone()).await;
        let source = OcspSource::new(Arc::new(root().anchors()), server.url.clone());
        assert_refused(
            check_revocation(&verified, &source, now(), true).await,
            "revocation_unknown",
        );
    }
}

#[tokio::test]
async fn unreachable_responder_fails_closed() {
    let card = card(CardSpec::default());
    let verified = verify(&card, &card.sign(MESSAGE)).unwrap();
    let url = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", listener.local_addr().unwrap())
    };
    let source = OcspSource::new(Arc::new(root().anchors()), url);
    assert_refused(check_revocation(&verified, &source, now(), true).await, "revocation_unknown");
}

#[test]
fn request_carries_cert_id_and_nonce() {
    use der::Decode;
    let cert = root().cert_ref(&[1, 2, 3]);
    let der = honnin_jpki::revocation::ocsp::build_request(&cert, &[7; 32]).unwrap();
    let request = x509_ocsp::OcspRequest::from_der(&der).unwrap();
    assert_eq!(request.nonce().unwrap().0.as_bytes(), &[7; 32]);
    let id = &request.tbs_request.request_list[0].req_cert;
    assert_eq!(id.serial_number.as_bytes(), &[1, 2, 3]);
    assert_eq!(id.issuer_key_hash.as_bytes().len(), 20);
}

#[tokio::test]
async fn cached_ocsp_source_asks_the_responder_once() {
    let card = card(CardSpec::default());
    let verified = verify(&card, &card.sign(MESSAGE)).unwrap();
    let server =
        ocsp_responder(|request| root().ocsp_response(request, &OcspSpec::default())).await;
    let source = honnin_jpki::CachedSource::new(
        OcspSource::new(Arc::new(root().anchors()), server.url.clone()),
        Duration::minutes(5),
    );
    let at = now();
    for _ in 0..3 {
        assert_eq!(
            check_revocation(&verified, &source, at, false).await,
            Ok(RevocationStatus::Good)
        );
    }
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
}
