//! Shared test settings.

use std::time::Duration;

/// How long a test waits for the chain writer to confirm an attestation.
pub(crate) const CONFIRM: Duration = Duration::from_secs(60);
