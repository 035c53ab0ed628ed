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

/// A `u64` for a `bigint` column; `what` names it when it does not fit.
pub(crate) fn u64_to_i64(v: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt { what })
}
