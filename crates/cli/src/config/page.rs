//! The page settings (`[page]` in the file, `--page-*` flags, `HONNIN_PAGE_*` variables): what
//! the person's page is told about the card bridge and the block explorer.

use honnin_web::{DEFAULT_BRIDGE_URL, PageConfig, origin_of};
use serde::Deserialize;

use super::error::{ConfigError, invalid};

/// The `[page]` table as given.
#[derive(Debug, Default, Clone, clap::Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageSettings {
    /// The card bridge (`honnin card bridge`) the page asks for card signatures; its origin is
    /// the one other origin the page's CSP lets it connect to. `none`: no bridge, the manual
    /// path only. [default: http://127.0.0.1:48620]
    #[arg(long = "page-bridge-url", env = "HONNIN_PAGE_BRIDGE_URL", value_name = "URL|none")]
    pub(crate) bridge_url: Option<String>,
    /// A block explorer's transaction URL, `{tx}` standing for the hash (the page links the
    /// attestation's transaction to it). [default: none]
    #[arg(long = "page-explorer-tx-url", env = "HONNIN_PAGE_EXPLORER_TX_URL", value_name = "URL")]
    pub(crate) explorer_tx_url: Option<String>,
}

impl PageSettings {
    /// These settings, with gaps filled from `file`.
    pub(crate) fn or(self, file: Self) -> Self {
        Self {
            bridge_url: self.bridge_url.or(file.bridge_url),
            explorer_tx_url: self.explorer_tx_url.or(file.explorer_tx_url),
        }
    }
}

/// The page's configuration, checked.
pub(crate) fn from_settings(s: &PageSettings) -> Result<PageConfig, ConfigError> {
    let bridge_url = match s.bridge_url.as_deref().map(str::trim) {
        None => Some(DEFAULT_BRIDGE_URL.to_owned()),
        Some("" | "none") => None,
        Some(url) => {
            if origin_of(url).is_none() {
                return Err(invalid("page.bridge_url", "must be an http:// or https:// URL"));
            }
            Some(url.to_owned())
        }
    };
    let explorer_tx_url = match s.explorer_tx_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(url) => {
            if origin_of(url).is_none() || !url.contains("{tx}") {
                return Err(invalid(
                    "page.explorer_tx_url",
                    "must be an http:// or https:// URL holding {tx}",
                ));
            }
            Some(url.to_owned())
        }
    };
    Ok(PageConfig { bridge_url, explorer_tx_url })
}
