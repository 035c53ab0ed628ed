//! CRL source: signature against the issuing root, freshness, every reason code.

use std::sync::Arc;

use honnin_jpki::{
    Crl, CrlOrigin, CrlSource, Error, RevocationReason, RevocationSource, RevocationStatus,
    check_revocation,
    test_utils::{CardSpec, CrlEntry, CrlSpec, SimRoot},
};
use time::Duration;

use crate::support::*;

fn revoked_entry(serial: &[u8], reason: Option<RevocationReason>) -> CrlEntry {
    CrlEntry { serial: serial.to_vec(), reason, time: now() - Duration::days(2) }
}

#[tokio::test]
async fn every_reason_code_is_kept_and_refused() {
    let card = card(CardSpec::default());
    let verified = verify(&card, &card.sign(MESSAGE)).expect("accepted");
    for reason in RevocationReason::ALL {
        let crl = root().crl(&CrlSpec {
            entries: vec![revoked_entry(card.serial(), Some(reason)), revoked_entry(&[9, 9], None)],
            ..CrlSpec::default()
        });
        let anchors = Arc::new(root().anchors());
        let source =
            CrlSource::from_crls(anchors.clone(), [Crl::from_der(&crl, &anchors).expect("crl")]);
        let refusal =
            check_revocation(&verified, &source, now(), false).await.expect_err("revoked");
        assert_eq!(refusal.code(), "revoked");
        match refusal {
            honnin_jpki::Refusal::Revoked { reason: got, time } => {
                assert_eq!(got, reason);
                let expected = now() - Duration::days(2);
                assert!((time - expected).abs() < Duration::minutes(1), "{time} vs {expected}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn superseded_means_renewal_and_missing_reason_is_unspecified() {
    assert!(RevocationReason::Superseded.is_renewal());
    assert!(!RevocationReason::KeyCompromise.is_renewal());
    let anchors = root().anchors();
    let crl = Crl::from_der(
        &root().crl(&CrlSpec { entries: vec![revoked_entry(&[7], None)], ..CrlSpec::default() }),
        &anchors,
    )
    .unwrap();
    assert!(matches!(
        crl.lookup(&[7]),
        RevocationStatus::Revoked { reason: RevocationReason::Unspecified, .. }
    ));
    assert_eq!(crl.lookup(&[8]), RevocationStatus::Good);
}

#[tokio::test]
async fn good_certificate_passes() {
    let card = card(CardSpec::default());
    let verified = verify(&card, &card.sign(MESSAGE)).unwrap();
    let anchors = Arc::new(root().anchors());
    let crl = root().crl(&CrlSpec {
        entries: vec![revoked_entry(&[1, 2, 3], Some(RevocationReason::KeyCompromise))],
        ..CrlSpec::default()
    });
    let source = CrlSource::from_crls(anchors.clone(), [Crl::from_der(&crl, &anchors).unwrap()]);
    assert_eq!(
        check_revocation(&verified, &source, now(), false).await,
        Ok(RevocationStatus::Good)
    );
}

#[tokio::test]
async fn stale_crl_is_refused_unless_within_grace() {
    let card = card(CardSpec::default());
    let verified = verify(&card, &card.sign(MESSAGE)).unwrap();
    let anchors = Arc::new(root().anchors());
    let crl = root().crl(&CrlSpec {
        this_update: now() - Duration::days(3),
        next_update: Some(now() - Duration::hours(2)),
        entries: vec![],
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.crl");
    std::fs::write(&path, &crl).unwrap();
    let source = CrlSource::new(anchors.clone(), vec![CrlOrigin::File(path.clone())]);
    let refusal = check_revocation(&verified, &source, now(), true).await.expect_err("stale");
    assert_eq!(refusal.code(), "stale_revocation_data");

    let lenient =
        CrlSource::new(anchors, vec![CrlOrigin::File(path)]).with_grace(Duration::hours(3));
    assert_eq!(
        check_revocation(&verified, &lenient, now(), false).await,
        Ok(RevocationStatus::Good)
    );
}

#[tokio::test]
async fn crl_without_next_update_is_stale() {
    let anchors = root().anchors();
    let crl =
        Crl::from_der(&root().crl(&CrlSpec { next_update: None, ..CrlSpec::default() }), &anchors)
            .unwrap();
    assert!(!crl.is_fresh(now(), Duration::ZERO));
}

#[tokio::test]
async fn stale_crl_is_reloaded_from_its_file() {
    let card = card(CardSpec::default());
    let verified = verify(&card, &card.sign(MESSAGE)).unwrap();
    let anchors = Arc::new(root().anchors());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.crl");
    std::fs::write(&path, root().crl(&CrlSpec::default())).unwrap();
    let source = CrlSource::new(anchors, vec![CrlOrigin::File(path.clone())])
        .with_retry_interval(std::time::Duration::ZERO);
    assert_eq!(
        check_revocation(&verified, &source, now(), false).await,
        Ok(RevocationStatus::Good)
    );
    // The operator drops in tomorrow's CRL, which revokes the card; the next check after the
    // first CRL's nextUpdate reloads it.
    let later = now() + Duration::days(2);
    let next = root().crl(&CrlSpec {
        this_update: later - Duration::hours(1),
        next_update: Some(later + Duration::days(1)),
        entries: vec![revoked_entry(card.serial(), Some(RevocationReason::AffiliationChanged))],
    });
    std::fs::write(&path, next).unwrap();
    let refusal = source.status(verified.cert_ref(), later).await.unwrap();
    assert!(matches!(
        refusal,
        RevocationStatus::Revoked { reason: RevocationReason::AffiliationChanged, .. }
    ));
}

#[test]
fn crl_signed_by_another_root_is_untrusted() {
    let other = SimRoot::new(OTHER_ROOT_SLOT);
    let crl = other.crl(&CrlSpec::default());
    let err = Crl::from_der(&crl, &root().anchors()).expect_err("untrusted");
    assert!(matches!(err, Error::UntrustedRevocationData { .. }), "{err}");
}

#[test]
fn tampered_crl_is_untrusted_and_truncated_crl_malformed() {
    let mut crl = root().crl(&CrlSpec {
        entries: vec![revoked_entry(&[5], Some(RevocationReason::KeyCompromise))],
        ..CrlSpec::default()
    });
    let anchors = root().anchors();
    for len in (0..crl.len()).step_by(5) {
        assert!(matches!(
            Crl::from_der(&crl[..len], &anchors),
            Err(Error::MalformedRevocationData { .. })
        ));
    }
    // Change the revoked serial 05 -> 06 (inside the signed part).
    let at = crl.windows(3).position(|w| w == [0x02, 0x01, 0x05]).expect("serial");
    crl[at + 2] = 0x06;
    assert!(matches!(Crl::from_der(&crl, &anchors), Err(Error::UntrustedRevocationData { .. })));
}

#[tokio::test]
async fn certificate_of_a_root_without_crl_is_unknown() {
    let other = SimRoot::new(OTHER_ROOT_SLOT);
    let mut anchors = root().anchors();
    anchors.add(other.anchor(), std::path::Path::new("other")).unwrap();
    let anchors = Arc::new(anchors);
    let source = CrlSource::from_crls(
        anchors.clone(),
        [Crl::from_der(&root().crl(&CrlSpec::default()), &anchors).unwrap()],
    );
    let card = other.issue(&CardSpec::default());
    let verified = honnin_jpki::Verifier::new(anchors.clone(), Default::default())
        .verify_card(card.der(), MESSAGE, &card.sign(MESSAGE), now())
        .unwrap();
    assert_eq!(
        check_revocation(&verified, &source, now(), false).await.unwrap_err().code(),
        "revocation_unknown"
    );
    assert_eq!(
        check_revocation(&verified, &source, now(), true).await,
        Ok(RevocationStatus::Unknown)
    );
}

#[test]
fn pem_crl_is_accepted() {
    let crl = root().crl(&CrlSpec::default());
    let pem = honnin_jpki::test_utils::pem("X509 CRL", &crl);
    assert_eq!(honnin_jpki::revocation::crl::crl_der(pem.as_bytes()).unwrap(), crl);
}

#[tokio::test]
async fn crl_is_fetched_from_a_url() {
    let card = card(CardSpec::default());
    let verified = verify(&card, &card.sign(MESSAGE)).unwrap();
    let crl = root().crl(&CrlSpec {
        entries: vec![revoked_entry(card.serial(), Some(RevocationReason::CessationOfOperation))],
        ..CrlSpec::default()
    });
    let server = http_server(move |head, _| {
        assert!(head.starts_with("get /auth.crl "), "{head}");
        crl.clone()
    })
    .await;
    let url = format!("{}auth.crl", server.url);
    let source = CrlSource::new(Arc::new(root().anchors()), vec![CrlOrigin::parse(&url)]);
    for _ in 0..2 {
        let refusal = check_revocation(&verified, &source, now(), false).await.unwrap_err();
        assert!(matches!(
            refusal,
            honnin_jpki::Refusal::Revoked { reason: RevocationReason::CessationOfOperation, .. }
        ));
    }
    // Fetched once, then served from memory while fresh.
    assert_eq!(server.requests.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn stale_crl_reloads_are_rate_limited() {
    let card = card(CardSpec::default());
    let verified = verify(&card, &card.sign(MESSAGE)).unwrap();
    let stale = root().crl(&CrlSpec {
        this_update: now() - Duration::days(3),
        next_update: Some(now() - Duration::days(2)),
        entries: vec![],
    });
    let server = http_server(move |_, _| stale.clone()).await;
    let source = CrlSource::new(Arc::new(root().anchors()), vec![CrlOrigin::parse(&server.url)]);
    for _ in 0..5 {
        let refusal = check_revocation(&verified, &source, now(), false).await.unwrap_err();
        assert_eq!(refusal.code(), "stale_revocation_data");
    }
    assert_eq!(server.requests.load(std::sync::atomic::Ordering::SeqCst), 1);
    source.refresh().await.unwrap();
    assert_eq!(server.requests.load(std::sync::atomic::Ordering::SeqCst), 2);
}
