//! Card evidence settings several commands need: trust anchors and the revocation source.

use honnin_service::RevocationConfig;

use super::{
    error::{ConfigError, invalid, missing},
    settings::Settings,
};

/// The revocation source setting, parsed (required).
pub(super) fn revocation(s: &Settings) -> Result<RevocationConfig, ConfigError> {
    s.revocation
        .as_deref()
        .ok_or_else(|| missing("revocation", "HONNIN_REVOCATION", "revocation"))?
        .parse()
        .map_err(|reason| invalid("revocation", reason))
}

/// The trust anchors setting (required).
pub(super) fn trust_anchors(s: &Settings) -> Result<std::path::PathBuf, ConfigError> {
    s.trust_anchors
        .clone()
        .ok_or_else(|| missing("trust_anchors", "HONNIN_TRUST_ANCHORS", "trust-anchors"))
}
