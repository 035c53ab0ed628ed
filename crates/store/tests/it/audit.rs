//! The audit log: append, page, head; the chain names an edited or deleted row; concurrent
//! appenders (several tasks, two instances, the group-committing writer) keep one linear chain.

use std::sync::Arc;

use honnin_core::{
    AttestationId, AuditBreak, AuditContext, AuditEventKind, AuditLog, AuditQuery, AuditRecord,
    ChainVerifier, NewAuditEvent, Store, StoreError, audit::verify_chain,
};
use time::Duration;

use crate::harness::{TestDb, both_backends, exec, now};

both_backends!(
    appended_events_read_back_in_order,
    queries_filter_and_page,
    an_edited_or_deleted_row_is_named,
    concurrent_appenders_keep_one_chain,
    the_group_commit_writer_records_everything,
);

fn event(kind: AuditEventKind, n: usize) -> NewAuditEvent {
    NewAuditEvent::new(kind, now() + Duration::nanoseconds(123_456_789))
        .with_code(format!("code_{n}"))
        .with_context(AuditContext {
            request_id: Some(format!("req-{n}")),
            client: Some("192.0.2.7".into()),
            api_key_id: n.is_multiple_of(2).then(|| "key-1".into()),
        })
}

/// Every row, page by page.
async fn all(store: &dyn Store) -> Vec<AuditRecord> {
    let mut out: Vec<AuditRecord> = Vec::new();
    loop {
        let page =
            store.audit_page(&AuditQuery::all_after(out.last().map(|r| r.seq), 7)).await.unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

/// Verifies the stored chain as `honnin audit verify` does: page by page, then the head.
async fn verify(store: &dyn Store) -> Result<u64, AuditBreak> {
    let mut verifier = ChainVerifier::new();
    let mut after = None;
    loop {
        let page = store.audit_page(&AuditQuery::all_after(after, 3)).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.seq);
        for record in &page {
            verifier.check(record)?;
        }
    }
    verifier.finish(store.audit_head().await.unwrap())
}

async fn appended_events_read_back_in_order(db: &TestDb) {
    let store = &*db.store;
    assert_eq!(store.audit_head().await.unwrap(), None);
    assert_eq!(verify(store).await, Ok(0));
    let attestation = AttestationId::random();
    let first: Vec<_> = (0..3)
        .map(|n| event(AuditEventKind::VerificationRefused, n).with_attestation(attestation))
        .collect();
    store.append_audit(&first).await.unwrap();
    let second = vec![NewAuditEvent::new(AuditEventKind::Erasure, now())];
    store.append_audit(&second).await.unwrap();
    store.append_audit(&[]).await.unwrap();

    let records = all(store).await;
    assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    for (record, sent) in records.iter().zip(first.iter().chain(&second)) {
        // Stored as sent, with the time at microsecond precision.
        assert_eq!(record.event, sent.clone().truncated());
    }
    assert_eq!(records[0].event.attestation_id, Some(attestation));
    assert_eq!(records[3].event.code, None);
    let head = store.audit_head().await.unwrap();
    assert_eq!(head, Some((4, records[3].hash)));
    assert_eq!(verify_chain(&records, head), Ok(4));
    assert_eq!(verify(store).await, Ok(4));
}

async fn queries_filter_and_page(db: &TestDb) {
    let store = &*db.store;
    let t0 = now();
    let kinds = [AuditEventKind::ChallengeIssued, AuditEventKind::AdminAction];
    let events: Vec<_> = (0..10)
        .map(|n| NewAuditEvent::new(kinds[n % 2], t0 + Duration::minutes(n as i64)))
        .collect();
    store.append_audit(&events).await.unwrap();

    let admin = store
        .audit_page(&AuditQuery {
            kinds: vec![AuditEventKind::AdminAction],
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(admin.iter().map(|r| r.seq).collect::<Vec<_>>(), [2, 4, 6, 8, 10]);

    // [t0 + 3 min, t0 + 7 min), after seq 4, two at a time.
    let window = AuditQuery {
        from: Some(t0 + Duration::minutes(3)),
        to: Some(t0 + Duration::minutes(7)),
        after_seq: Some(4),
        limit: 2,
        ..AuditQuery::default()
    };
    let page = store.audit_page(&window).await.unwrap();
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [5, 6]);
    let next =
        store.audit_page(&AuditQuery { after_seq: Some(6), ..window.clone() }).await.unwrap();
    assert_eq!(next.iter().map(|r| r.seq).collect::<Vec<_>>(), [7]);
    let both_kinds = store
        .audit_page(&AuditQuery { kinds: kinds.to_vec(), limit: 100, ..AuditQuery::default() })
        .await
        .unwrap();
    assert_eq!(both_kinds.len(), 10);
    assert!(
        store
            .audit_page(&AuditQuery {
                kinds: vec![AuditEventKind::Erasure],
                limit: 100,
                ..AuditQuery::default()
            })
            .await
            .unwrap()
            .is_empty()
    );
}

async fn an_edited_or_deleted_row_is_named(db: &TestDb) {
    let store = &*db.store;
    let events: Vec<_> = (0..6).map(|n| event(AuditEventKind::AttestationQueued, n)).collect();
    store.append_audit(&events).await.unwrap();
    assert_eq!(verify(store).await, Ok(6));

    // Edit row 3: it no longer hashes to its stored hash.
    let edit = "UPDATE audit_log SET code = 'accepted' WHERE seq = 3";
    assert_eq!(exec(db, edit, edit).await, 1);
    assert_eq!(verify(store).await, Err(AuditBreak::Edited { seq: 3 }));
    let undo = "UPDATE audit_log SET code = 'code_2' WHERE seq = 3";
    exec(db, undo, undo).await;
    assert_eq!(verify(store).await, Ok(6));

    // Delete row 2: the gap names it.
    let delete = "DELETE FROM audit_log WHERE seq = 2";
    assert_eq!(exec(db, delete, delete).await, 1);
    assert_eq!(verify(store).await, Err(AuditBreak::Missing { expected: 2, found: 3 }));

    // Delete row 4 and renumber the rest to close the gaps: the renumbered row is named.
    let renumber = "DELETE FROM audit_log WHERE seq = 4; \
                    UPDATE audit_log SET seq = seq - 1 WHERE seq = 3; \
                    UPDATE audit_log SET seq = seq - 2 WHERE seq > 4";
    exec(db, renumber, renumber).await;
    assert!(matches!(verify(store).await, Err(AuditBreak::Edited { seq: 2 })));

    // A chain whose tail was cut is caught by the head.
    let fresh = "DELETE FROM audit_log";
    exec(db, fresh, fresh).await;
    assert_eq!(verify(store).await, Err(AuditBreak::Truncated { head_seq: 6, last_seq: 0 }));
}

async fn concurrent_appenders_keep_one_chain(db: &TestDb) {
    let stores = [Arc::clone(&db.store), db.another_instance().await];
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let store = Arc::clone(&stores[task % 2]);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                for n in 0..20 {
                    let batch =
                        vec![event(AuditEventKind::ChallengeIssued, task * 100 + n); 1 + n % 3];
                    store.append_audit(&batch).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let expected: u64 = 8 * (0..20u64).map(|n| 1 + n % 3).sum::<u64>();
    assert_eq!(verify(&*db.store).await, Ok(expected));
    let records = all(&*db.store).await;
    assert_eq!(records.len() as u64, expected);
    // Each append's rows are contiguous (one transaction each).
    assert_eq!(records.last().map(|r| r.seq), Some(expected));
}

async fn the_group_commit_writer_records_everything(db: &TestDb) {
    let (log, writer) = AuditLog::new(db.store.clone());
    let writer = tokio::spawn(writer);
    let tasks: Vec<_> = (0..50)
        .map(|n| {
            let log = log.clone();
            tokio::spawn(async move {
                log.record(vec![
                    event(AuditEventKind::VerificationAccepted, n),
                    event(AuditEventKind::AttestationQueued, n),
                ])
                .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    // Committed before `record` answered: visible now, in one chain.
    assert_eq!(verify(&*db.store).await, Ok(100));
    // A caller's events stay together and in order.
    let records = all(&*db.store).await;
    for pair in records.chunks(2) {
        assert_eq!(pair[0].event.kind, AuditEventKind::VerificationAccepted);
        assert_eq!(pair[1].event.kind, AuditEventKind::AttestationQueued);
        assert_eq!(pair[0].event.context.request_id, pair[1].event.context.request_id);
    }
    // Dropping every handle ends the writer.
    drop(log);
    writer.await.unwrap();

    // Without a running writer, recording fails loudly instead of hanging or losing events.
    let (log, writer) = AuditLog::new(db.store.clone());
    drop(writer);
    assert!(matches!(
        log.record_one(event(AuditEventKind::AdminAction, 0)).await,
        Err(StoreError::AuditLogClosed)
    ));
    assert_eq!(verify(&*db.store).await, Ok(100));
}
