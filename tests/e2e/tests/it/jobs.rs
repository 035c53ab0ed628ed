//! The background jobs a production `honnin serve` runs (revocation sync, expiry sweep,
//! challenge purge) run in the harness too: honnin-service starts them for every instance.
//! Nothing here runs a cycle by hand; each job's effect is observed from outside.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use honnin_api::ChallengeResponse;
use honnin_core::{AuditEventKind, AuditQuery, Purpose};
use honnin_e2e::{Deployment, JobIntervals, Options, Person};
use honnin_jpki::RevocationReason as CardReason;

use crate::support::CONFIRM;

/// Polls `check` every 100 ms until it answers true, for at most [`CONFIRM`].
async fn until<F, Fut>(what: &str, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let deadline = Instant::now() + CONFIRM;
    loop {
        if check().await? {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{what}: not after {CONFIRM:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_jobs_run_in_the_harness() -> Result<()> {
    let every_second = Some(Duration::from_secs(1));
    let jobs = JobIntervals { sync: every_second, sweep: every_second, purge: every_second };
    let d = Deployment::start(Options { jobs, ..Options::default() }).await?;
    let d = &d;
    let client = &d.client();

    // Challenge purge: a challenge that expired two days ago is deleted (its id is then
    // unknown, 404, where it was expired, 410).
    let person = Person::new("jobs-purge", 1);
    let issued = time::OffsetDateTime::now_utc() - time::Duration::days(2);
    let old = d.settings.issue(Purpose::Attest, person.address(), None, issued);
    d.instance().store.insert_challenge(&old).await?;
    let old = ChallengeResponse {
        id: old.id.to_string(),
        message: old.message(),
        expires_at: honnin_core::time::rfc3339(old.expires_at),
        scope_id: None,
    };
    let request = &person.request(&old);
    until("the expired challenge purged", || async move {
        let reply = client.submit(request).await?;
        Ok(reply.body["code"] == "challenge_not_found")
    })
    .await?;

    // Revocation sync: a certificate revoked in the CRL is revoked on chain, no cycle by hand.
    let revoked = Person::new("jobs-crl", 2);
    // Expiry sweep: an attestation whose certificate ends in 20 s is expired in the store.
    let not_after =
        time::OffsetDateTime::now_utc().replace_nanosecond(0)? + time::Duration::seconds(20);
    let expiring = Person::with_spec("jobs-expiry", 3, |spec| spec.not_after = not_after);
    let revoked_id = client.flow(&revoked).await?.attestation_id;
    let expiring_id = client.flow(&expiring).await?.attestation_id;
    client.wait_for(revoked.address(), "active", CONFIRM).await?;
    client.wait_for(expiring.address(), "active", CONFIRM).await?;

    d.publish_crl(&[(revoked.card.serial().to_vec(), CardReason::KeyCompromise)])?;
    let revoked = &revoked;
    until("isVerified false after the CRL", || async move {
        Ok(!d.chain.is_verified(revoked.address()).await?)
    })
    .await?;
    client.wait_for(revoked.address(), "revoked", CONFIRM).await?;
    let audited = |kind: AuditEventKind, id: String| {
        let store = d.instance().store.clone();
        async move {
            let rows = store
                .audit_page(&AuditQuery {
                    kinds: vec![kind],
                    limit: 1_000,
                    ..AuditQuery::default()
                })
                .await?;
            Ok(rows.iter().any(|r| r.event.attestation_id.is_some_and(|a| a.to_string() == id)))
        }
    };
    until("the sync's revocation audited", || {
        audited(AuditEventKind::AttestationRevoked, revoked_id.clone())
    })
    .await?;

    // The sweep writes `expired` into the row (the API derives it from `expires_at` before
    // that) and audits it.
    let pool = &d.pool().await?;
    let expiring = &expiring;
    until("the attestation expired in the store", || async move {
        let (status,): (String,) =
            sqlx::query_as("SELECT status FROM attestations WHERE wallet = $1")
                .bind(expiring.address().as_slice())
                .fetch_one(pool)
                .await?;
        Ok(status == "expired")
    })
    .await?;
    until("the sweep's expiry audited", || {
        audited(AuditEventKind::AttestationExpired, expiring_id.clone())
    })
    .await?;
    Ok(())
}
