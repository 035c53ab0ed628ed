//! After real use, no table holds a certificate, serial, subject or public key: only keyed
//! hashes. The dump is checked for the raw values and their hex forms, and must contain the
//! keyed hashes (so the scan provably sees the data).

use honnin_core::{AtLimit, B256, Pepper};
use honnin_store::Backend;
use sqlx::{AssertSqlSafe, Row};
use time::Duration;

use crate::harness::{Person, TestDb, attest, both_backends, now, pepper, policy, random_wallet};

both_backends!(database_holds_only_keyed_hashes);

/// The subject CN a real certificate would carry (23 characters, personal data).
const SUBJECT_CN: &str = "JPKIUSER0123456789ABCDE";

async fn database_holds_only_keyed_hashes(db: &TestDb) {
    let store = &*db.store;
    let persons: Vec<Person> = (0..5).map(|_| Person::random()).collect();
    for person in &persons {
        attest(store, person, random_wallet(), &policy(1, AtLimit::Rotate)).await.unwrap();
        attest(store, person, random_wallet(), &policy(1, AtLimit::Rotate)).await.unwrap();
    }
    let items = store.claim_outbox(100, Duration::minutes(1), now()).await.unwrap();
    let ids: Vec<_> = items.iter().map(|i| i.id).collect();
    store.mark_confirmed(&ids, B256::repeat_byte(9), 42, now()).await.unwrap();

    let (text, raw) = dump(db).await;
    let text = text.to_lowercase();
    assert!(text.len() > 1000, "the dump is empty: {} bytes", text.len());

    let pepper: Pepper = pepper();
    for person in &persons {
        // The keyed hashes are there...
        let pseudonym =
            hex::encode(pepper.pseudonym(&person.root_key_id, &person.serial).as_bytes());
        let cert_hash =
            hex::encode(pepper.cert_hash(&person.root_key_id, &person.serial).as_bytes());
        assert!(text.contains(&pseudonym), "pseudonym missing: the scan sees nothing");
        assert!(text.contains(&cert_hash), "certificate hash missing: the scan sees nothing");
        // ...and nothing they were derived from.
        let serial = hex::encode(&person.serial);
        assert!(!text.contains(&serial), "serial (hex) stored");
        assert!(!contains(&raw, &person.serial), "serial (raw bytes) stored");
        // The store never sees the certificate (only hashes derived from it); a few windows of
        // it suffice to show none of it leaked.
        for window in person.certificate.chunks(16).step_by(16) {
            assert!(!text.contains(&hex::encode(window)), "certificate bytes (hex) stored");
            assert!(!contains(&raw, window), "certificate bytes (raw) stored");
        }
    }
    assert!(!text.contains(&SUBJECT_CN.to_lowercase()));
    assert!(!contains(&raw, SUBJECT_CN.as_bytes()));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every row of every table as text (blobs as hex), and for SQLite also the raw database files.
pub(crate) async fn dump(db: &TestDb) -> (String, Vec<u8>) {
    let mut text = String::new();
    let mut raw = Vec::new();
    match db.backend {
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            assert!(tables.len() >= 5, "{tables:?}");
            for table in tables {
                // row_to_json renders bytea as "\x<hex>".
                let rows: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT row_to_json(t)::text FROM \"{table}\" t"
                )))
                .fetch_all(&pool)
                .await
                .unwrap();
                text.push_str(&rows.join("\n"));
            }
            // Also the bytes as Postgres stores them: a plain pg_dump of the database.
            let bin = std::env::var("HONNIN_PG_BIN")
                .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into());
            let out =
                std::process::Command::new(format!("{bin}/pg_dump")).arg(&db.url).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            raw.extend_from_slice(&out.stdout);
            text.push_str(&String::from_utf8_lossy(&out.stdout));
        }
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            let tables: Vec<String> =
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            assert!(tables.len() >= 5, "{tables:?}");
            for table in tables {
                let columns: Vec<String> =
                    sqlx::query(AssertSqlSafe(format!("PRAGMA table_info(\"{table}\")")))
                        .fetch_all(&pool)
                        .await
                        .unwrap()
                        .iter()
                        .map(|row| row.get::<String, _>("name"))
                        .collect();
                // quote() renders blobs as X'<hex>'.
                let select = columns
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || ',' || ");
                let rows: Vec<String> =
                    sqlx::query_scalar(AssertSqlSafe(format!("SELECT {select} FROM \"{table}\"")))
                        .fetch_all(&pool)
                        .await
                        .unwrap();
                text.push_str(&rows.join("\n"));
            }
            // The files themselves: main database and write-ahead log.
            let path = db.url.trim_start_matches("sqlite://");
            for file in [path.to_string(), format!("{path}-wal")] {
                if let Ok(bytes) = std::fs::read(&file) {
                    raw.extend_from_slice(&bytes);
                }
            }
            assert!(!raw.is_empty());
        }
    }
    (text, raw)
}
