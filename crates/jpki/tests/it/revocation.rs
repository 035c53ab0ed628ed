//! The revocation decision, the cache wrapper and the fake.

use honnin_jpki::{
    CachedSource, RevocationReason, RevocationStatus, check_revocation,
    test_utils::{CardSpec, FakeAnswer, FakeRevocation},
};
use time::Duration;

use crate::support::*;

#[tokio::test]
async fn decisions_fail_closed() {
    let card = card(CardSpec::default());
    let verified = verify(&card, &card.sign(MESSAGE)).unwrap();
    let revoked = RevocationStatus::Revoked { reason: RevocationReason::Superseded, time: now() };
    let cases = [
        (FakeAnswer::Status(RevocationStatus::Good), false, Ok(RevocationStatus::Good)),
        (FakeAnswer::Status(revoked), true, Err("revoked")),
        (FakeAnswer::Status(RevocationStatus::Unknown), false, Err("revocation_unknown")),
        (FakeAnswer::Status(RevocationStatus::Unknown), true, Ok(RevocationStatus::Unknown)),
        (FakeAnswer::Stale, true, Err("stale_revocation_data")),
        (FakeAnswer::Unreachable, false, Err("revocation_unknown")),
        (FakeAnswer::Unreachable, true, Err("revocation_unknown")),
    ];
    for (answer, allow_unknown, expected) in cases {
        let fake = FakeRevocation::new(answer);
        let got =
            check_revocation(&verified, &fake, now(), allow_unknown).await.map_err(|r| r.code());
        assert_eq!(got, expected, "{answer:?} allow_unknown={allow_unknown}");
        assert_eq!(fake.calls(), 1);
    }
}

#[tokio::test]
async fn fake_answers_per_serial() {
    let good = card(CardSpec::default());
    let bad = card(CardSpec { serial: vec![0x66], ..CardSpec::default() });
    let fake = FakeRevocation::new(FakeAnswer::Status(RevocationStatus::Good));
    fake.set(
        bad.serial(),
        FakeAnswer::Status(RevocationStatus::Revoked {
            reason: RevocationReason::KeyCompromise,
            time: now(),
        }),
    );
    let v_good = verify(&good, &good.sign(MESSAGE)).unwrap();
    let v_bad = verify(&bad, &bad.sign(MESSAGE)).unwrap();
    assert!(check_revocation(&v_good, &fake, now(), false).await.is_ok());
    assert_eq!(check_revocation(&v_bad, &fake, now(), false).await.unwrap_err().code(), "revoked");
}

#[tokio::test]
async fn cache_keeps_answers_for_its_ttl_and_never_caches_unknown() {
    let card = card(CardSpec::default());
    let verified = verify(&card, &card.sign(MESSAGE)).unwrap();
    let cache = CachedSource::new(
        FakeRevocation::new(FakeAnswer::Status(RevocationStatus::Good)),
        Duration::minutes(5),
    );
    let t0 = now();
    for _ in 0..3 {
        assert_eq!(
            check_revocation(&verified, &cache, t0, false).await,
            Ok(RevocationStatus::Good)
        );
    }
    assert_eq!(cache.inner().calls(), 1);
    check_revocation(&verified, &cache, t0 + Duration::minutes(6), false).await.unwrap();
    assert_eq!(cache.inner().calls(), 2);

    let unknown = CachedSource::new(
        FakeRevocation::new(FakeAnswer::Status(RevocationStatus::Unknown)),
        Duration::minutes(5),
    );
    for _ in 0..2 {
        check_revocation(&verified, &unknown, t0, true).await.unwrap();
    }
    assert_eq!(unknown.inner().calls(), 2);

    let failing =
        CachedSource::new(FakeRevocation::new(FakeAnswer::Unreachable), Duration::minutes(5));
    for _ in 0..2 {
        check_revocation(&verified, &failing, t0, true).await.unwrap_err();
    }
    assert_eq!(failing.inner().calls(), 2);
}

#[tokio::test]
async fn cache_is_bounded() {
    let fake = FakeRevocation::new(FakeAnswer::Status(RevocationStatus::Good));
    let cache = CachedSource::new(fake, Duration::minutes(5)).with_max_entries(2);
    let t = now();
    for serial in [[1u8], [2], [3], [1]] {
        honnin_jpki::RevocationSource::status(&cache, &root().cert_ref(&serial), t).await.unwrap();
    }
    // 1, 2 cached; 3 overflowed (all dropped, 3 stored); 1 again is a miss.
    assert_eq!(cache.inner().calls(), 4);
}
