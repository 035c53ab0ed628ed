//! A revocation source that answers what the test told it, and counts calls.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use time::OffsetDateTime;

use crate::{CertRef, Error, RevocationSource, RevocationStatus, revocation::BoxFuture};

/// What [`FakeRevocation`] answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FakeAnswer {
    /// A status.
    Status(RevocationStatus),
    /// [`Error::StaleRevocationData`].
    Stale,
    /// A transport failure ([`Error::Http`]).
    Unreachable,
}

/// A revocation source that answers what the test told it, and counts calls.
#[derive(Debug)]
pub struct FakeRevocation {
    answers: Mutex<HashMap<Vec<u8>, FakeAnswer>>,
    default: FakeAnswer,
    calls: AtomicUsize,
}

impl FakeRevocation {
    /// Answers `default` for every certificate not set otherwise.
    pub fn new(default: FakeAnswer) -> Self {
        Self { answers: Mutex::new(HashMap::new()), default, calls: AtomicUsize::new(0) }
    }

    /// Sets the answer for the certificate with `serial`.
    pub fn set(&self, serial: &[u8], answer: FakeAnswer) {
        self.answers.lock().unwrap_or_else(|e| e.into_inner()).insert(serial.to_vec(), answer);
    }

    /// How many times it was asked.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl RevocationSource for FakeRevocation {
    fn status<'a>(
        &'a self,
        cert: &'a CertRef,
        _at: OffsetDateTime,
    ) -> BoxFuture<'a, crate::Result<RevocationStatus>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = self
            .answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(cert.serial())
            .copied()
            .unwrap_or(self.default);
        Box::pin(async move {
            match answer {
                FakeAnswer::Status(status) => Ok(status),
                FakeAnswer::Stale => Err(Error::StaleRevocationData { what: "fake" }),
                FakeAnswer::Unreachable => {
                    Err(Error::Http { url: "fake://".into(), reason: "unreachable".into() })
                }
            }
        })
    }
}
