//! sqlx errors as the store's errors.

use honnin_core::StoreError;

/// Maps a sqlx error to the store's error, keeping the source for the log.
pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut => StoreError::PoolTimedOut,
        e => StoreError::Database(Box::new(e)),
    }
}
