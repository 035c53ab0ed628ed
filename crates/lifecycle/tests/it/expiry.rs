//! The expiry sweep against real stores.

use honnin_core::{AttestationStatus, AuditEventKind};
use honnin_lifecycle::ExpirySweep;
use time::Duration;

use crate::harness::{TestDb, both_backends, now, policy, random_serial, random_wallet};

both_backends!(lapsed_attestations_expire_once_and_are_audited);

async fn lapsed_attestations_expire_once_and_are_audited(db: &TestDb) {
    // Issued 400 days ago under a 365-day policy: lapsed 35 days ago.
    let mut lapsed = Vec::new();
    for _ in 0..3 {
        let id = db
            .attest_at(&random_serial(), random_wallet(), &policy(), now() - Duration::days(400))
            .await
            .unwrap();
        lapsed.push(id);
    }
    let live = db.attest_at(&random_serial(), random_wallet(), &policy(), now()).await.unwrap();

    let sweep = ExpirySweep::new(db.store.clone(), db.audit.clone()).with_batch(2);
    assert_eq!(sweep.sweep(now()).await.unwrap(), 3);
    for id in &lapsed {
        assert_eq!(db.status(*id).await, AttestationStatus::Expired);
    }
    assert_eq!(db.status(live).await, AttestationStatus::Pending);
    assert_eq!(sweep.sweep(now()).await.unwrap(), 0, "expired once");

    let expired: Vec<_> = db
        .audit_rows()
        .await
        .into_iter()
        .filter(|r| r.event.kind == AuditEventKind::AttestationExpired)
        .filter_map(|r| r.event.attestation_id)
        .collect();
    assert_eq!(expired.len(), 3);
    assert!(lapsed.iter().all(|id| expired.contains(id)));

    // A year later the live one lapses too.
    assert_eq!(sweep.sweep(now() + Duration::days(366)).await.unwrap(), 1);
}
