//! sqlx errors as the store's errors.

use honnin_core::StoreError;

/// Maps a sqlx error to the store's error, keeping the source for the log.
pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut => StoreError::PoolTimedOut,
        e => StoreError::Database(Box::new(e)),
    }
}

/// Whether Postgres aborted the transaction to break a deadlock or a serialization conflict.
pub(crate) fn is_deadlock(e: &StoreError) -> bool {
    let StoreError::Database(source) = e else { return false };
    source
        .downcast_ref::<sqlx::Error>()
        .and_then(sqlx::Error::as_database_error)
        .and_then(|d| d.code())
        .is_some_and(|code| code == "40P01" || code == "40001")
}
