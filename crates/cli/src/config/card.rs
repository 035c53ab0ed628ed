//! Card evidence settings several commands need: trust anchors and the revocation source.

use honnin_service::{RevocationConfig, SigningConfig};

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

/// The signing certificate's roots and revocation source (age claims), when configured: both
/// settings or neither; `none` revocation only in dev mode.
pub(super) fn signing(s: &Settings, dev: bool) -> Result<Option<SigningConfig>, ConfigError> {
    let (trust_anchors, revocation) = match (&s.signing_trust_anchors, &s.signing_revocation) {
        (None, None) => return Ok(None),
        (Some(anchors), Some(revocation)) => (anchors.clone(), revocation),
        (Some(_), None) => {
            return Err(missing(
                "signing_revocation",
                "HONNIN_SIGNING_REVOCATION",
                "signing-revocation",
            ));
        }
        (None, Some(_)) => {
            return Err(missing(
                "signing_trust_anchors",
                "HONNIN_SIGNING_TRUST_ANCHORS",
                "signing-trust-anchors",
            ));
        }
    };
    let revocation: RevocationConfig =
        revocation.parse().map_err(|reason| invalid("signing_revocation", reason))?;
    if revocation == RevocationConfig::None && !dev {
        return Err(invalid(
            "signing_revocation",
            "`none` is allowed only in dev mode (HONNIN_DEV)",
        ));
    }
    Ok(Some(SigningConfig { trust_anchors, revocation }))
}
