use std::num::NonZeroU32;

use honnin_core::{
    AtLimit, Attestation, AttestationId, AttestationStatus, Claims, Level, Policy,
    RevocationReason, StoreError,
};
use time::{Duration, macros::datetime};

#[test]
fn expiry_is_the_earlier_of_not_after_and_max_age() {
    let policy = Policy::new(NonZeroU32::MIN, AtLimit::Refuse, Duration::days(30)).unwrap();
    let issued = datetime!(2026-01-01 00:00:00 UTC);
    let far = datetime!(2030-01-01 14:59:59 UTC);
    assert_eq!(policy.expires_at(issued, far), issued + Duration::days(30));
    let near = datetime!(2026-01-10 14:59:59.9 UTC);
    assert_eq!(
        policy.expires_at(issued, near),
        datetime!(2026-01-10 14:59:59 UTC),
        "never after notAfter"
    );
}

#[test]
fn policy_defaults_and_parsing() {
    let p = Policy::default();
    assert_eq!(p.max_active_wallets.get(), 1);
    assert_eq!(p.at_limit, AtLimit::Refuse);
    assert_eq!("rotate".parse::<AtLimit>().unwrap(), AtLimit::Rotate);
    assert!("drop".parse::<AtLimit>().is_err());
    assert!(Policy::new(NonZeroU32::MIN, AtLimit::Refuse, Duration::seconds(5)).is_err());
}

#[test]
fn revocation_codes_match_the_contract() {
    let expected = [
        (1, RevocationReason::Holder),
        (2, RevocationReason::Operator),
        (3, RevocationReason::CertificateRevoked),
        (4, RevocationReason::Superseded),
        (5, RevocationReason::Erasure),
        (6, RevocationReason::Rotated),
    ];
    for (code, reason) in expected {
        assert_eq!(reason.code(), code);
        assert_eq!(RevocationReason::try_from(code).unwrap(), reason);
    }
    assert!(RevocationReason::try_from(0).is_err());
    assert!(RevocationReason::try_from(7).is_err());
}

#[test]
fn expired_is_derived_from_time() {
    let a = Attestation {
        id: AttestationId::random(),
        wallet: Default::default(),
        scope: None,
        status: AttestationStatus::Active,
        level: Level::JPKI_USER_AUTH,
        claims: Claims::UNIQUE_PERSON,
        issued_at: datetime!(2026-01-01 00:00:00 UTC),
        expires_at: datetime!(2026-02-01 00:00:00 UTC),
        tx_hash: None,
        block_number: None,
        revocation_reason: None,
        revoked_at: None,
    };
    assert_eq!(a.status_at(datetime!(2026-01-31 23:59:59 UTC)), AttestationStatus::Active);
    assert_eq!(a.status_at(datetime!(2026-02-01 00:00:00 UTC)), AttestationStatus::Expired);
    let revoked = Attestation { status: AttestationStatus::Revoked, ..a };
    assert_eq!(revoked.status_at(datetime!(2027-01-01 00:00:00 UTC)), AttestationStatus::Revoked);
}

#[test]
fn making_room_refuses_or_rotates_the_oldest_at_the_limit() {
    let two = NonZeroU32::new(2).unwrap();
    let refuse = Policy::new(two, AtLimit::Refuse, Duration::days(30)).unwrap();
    let rotate = Policy::new(two, AtLimit::Rotate, Duration::days(30)).unwrap();
    assert_eq!(refuse.make_room(1).unwrap(), 0);
    assert!(matches!(refuse.make_room(2), Err(StoreError::WalletLimitReached { limit: 2 })));
    assert_eq!(rotate.make_room(1).unwrap(), 0);
    assert_eq!(rotate.make_room(2).unwrap(), 1);
    // Lowered since: as many go as it takes to be one under the limit.
    assert_eq!(rotate.make_room(4).unwrap(), 3);
}
