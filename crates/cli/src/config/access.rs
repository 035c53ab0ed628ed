//! Operator access and abuse settings: admin tokens, API keys, rate limits, trusted proxies.

use honnin_service::AccessConfig;

use super::{
    error::{ConfigError, invalid},
    settings::Settings,
};

/// `per_minute[/burst]`; burst defaults to a sixth of the rate (ten seconds' worth), at least 1.
fn parse_rate(key: &'static str, text: &str) -> Result<honnin_api::Rate, ConfigError> {
    let (per_minute, burst) = match text.trim().split_once('/') {
        Some((rate, burst)) => (rate, Some(burst)),
        None => (text.trim(), None),
    };
    let number = |n: &str| {
        n.trim().parse::<u32>().ok().filter(|&n| n >= 1).ok_or_else(|| {
            invalid(key, "expected `per_minute[/burst]`, both whole numbers of at least 1")
        })
    };
    let per_minute = number(per_minute)?;
    let burst = match burst {
        Some(burst) => number(burst)?,
        None => (per_minute / 6).max(1),
    };
    Ok(honnin_api::Rate { per_minute, burst })
}

/// `id:sha256hex`, the first two fields of an admin token or API key setting.
fn parse_credential(
    key: &'static str,
    text: &str,
) -> Result<(String, honnin_api::TokenDigest, Option<String>), ConfigError> {
    let mut parts = text.trim().splitn(3, ':');
    let id = parts.next().unwrap_or("").trim();
    let digest = parts.next().ok_or_else(|| {
        invalid(
            key,
            format_args!(
                "`{id}`: expected `id:sha256hex` (the SHA-256 of the token, never the token)"
            ),
        )
    })?;
    let digest = digest.parse().map_err(|error| invalid(key, format_args!("`{id}`: {error}")))?;
    Ok((id.to_owned(), digest, parts.next().map(str::to_owned)))
}

/// Admin tokens, API keys and rate limits, validated.
pub(super) fn from_settings(s: &Settings) -> Result<AccessConfig, ConfigError> {
    let mut auth = honnin_api::Auth::default();
    for entry in s.admin_tokens.iter().flatten().filter(|e| !e.trim().is_empty()) {
        let (id, sha256, rest) = parse_credential("admin_tokens", entry)?;
        if rest.is_some() {
            return Err(invalid("admin_tokens", format_args!("`{id}`: expected `id:sha256hex`")));
        }
        auth.admin_tokens.push(honnin_api::AdminToken { id, sha256 });
    }
    for entry in s.api_keys.iter().flatten().filter(|e| !e.trim().is_empty()) {
        let (id, sha256, rate) = parse_credential("api_keys", entry)?;
        let rate = rate.map(|rate| parse_rate("api_keys", &rate)).transpose()?;
        auth.api_keys.push(honnin_api::ApiKey { id, sha256, rate });
    }
    // Admin tokens alone first, so the error names the setting at fault.
    honnin_api::Auth { admin_tokens: auth.admin_tokens.clone(), api_keys: Vec::new() }
        .validate()
        .map_err(|error| invalid("admin_tokens", error))?;
    auth.validate().map_err(|error| invalid("api_keys", error))?;

    let mut rate_limits = honnin_api::RateLimits::default();
    match s.rate_limit.as_deref().map(str::trim) {
        Some("off") => rate_limits.enabled = false,
        Some(rate) => rate_limits.anonymous = parse_rate("rate_limit", rate)?,
        None => {}
    }
    if let Some(rate) = &s.api_key_rate_limit {
        rate_limits.api_key = parse_rate("api_key_rate_limit", rate)?;
    }
    rate_limits.trusted_proxies = s.trusted_proxies.clone().unwrap_or_default();
    Ok(AccessConfig { auth, rate_limits })
}
