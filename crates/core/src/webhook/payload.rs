//! The JSON body of a delivery.
//!
//! ```json
//! {
//!   "type": "attestation.revoked",
//!   "timestamp": "2026-12-02T14:00:00Z",
//!   "data": {
//!     "attestation_id": "at_0123456789abcdef0123456789abcdef",
//!     "wallet": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
//!     "scope": null,
//!     "status": "revoked",
//!     "reason": "holder",
//!     "issued_at": "2026-12-01T09:00:00Z",
//!     "expires_at": "2027-12-01T09:00:00Z"
//!   }
//! }
//! ```
//!
//! `type` is the event; `timestamp` is when the change was recorded; `data.status` is the
//! attestation's status after it (`renewed` keeps `pending` or `active`); `data.reason` is the
//! revocation reason for `attestation.revoked` (`holder`, `operator`, `certificate_revoked`,
//! `superseded`, `erasure`, `rotated`) and `null` otherwise; the wallet is EIP-55
//! checksummed; `data.scope` is the record's scope id (`0x` + 64 hex digits) for a scoped
//! (per-dApp) record and `null` for the global one; times are RFC 3339 UTC whole seconds. Nothing personal: no pseudonym, no
//! certificate data, no serial. The same delivery renders the same bytes on every attempt.

use serde::{Deserialize, Serialize};

use super::WebhookChange;
use crate::time::rfc3339;

/// A delivery's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookPayload {
    /// The event (`attestation.active`, …).
    #[serde(rename = "type")]
    pub r#type: String,
    /// When the change was recorded (RFC 3339).
    pub timestamp: String,
    /// What changed.
    pub data: WebhookData,
}

/// The `data` of a [`WebhookPayload`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookData {
    /// The attestation (`at_…`).
    pub attestation_id: String,
    /// Its wallet (EIP-55).
    pub wallet: String,
    /// Its scope id (`0x` + 64 hex digits), `null` for the global record.
    pub scope: Option<String>,
    /// Its status after the change.
    pub status: String,
    /// Why it was revoked (`attestation.revoked`), else `null`.
    pub reason: Option<String>,
    /// When it was issued (RFC 3339).
    pub issued_at: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
}

impl WebhookPayload {
    /// The payload telling `change`.
    pub fn new(change: &WebhookChange) -> Self {
        Self {
            r#type: change.event.as_str().to_owned(),
            timestamp: rfc3339(change.occurred_at),
            data: WebhookData {
                attestation_id: change.attestation_id.to_string(),
                wallet: change.wallet.to_checksum(None),
                scope: change.scope.map(|s| s.to_string()),
                status: change.status.as_str().to_owned(),
                reason: change.reason.map(|r| r.as_str().to_owned()),
                issued_at: rfc3339(change.issued_at),
                expires_at: rfc3339(change.expires_at),
            },
        }
    }

    /// The body's bytes (compact JSON, fields in the order above).
    pub fn to_body(&self) -> Vec<u8> {
        // Serialising plain strings into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::Address;
    use time::macros::datetime;

    use super::*;
    use crate::{AttestationId, AttestationStatus, RevocationReason, webhook::WebhookEvent};

    #[test]
    fn renders_the_documented_shape() {
        let change = WebhookChange {
            event: WebhookEvent::Revoked,
            attestation_id: AttestationId::from_bytes([0xab; 16]),
            wallet: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".parse::<Address>().unwrap(),
            scope: None,
            status: AttestationStatus::Revoked,
            reason: Some(RevocationReason::Holder),
            issued_at: datetime!(2026-12-01 09:00 UTC),
            expires_at: datetime!(2027-12-01 09:00 UTC),
            occurred_at: datetime!(2026-12-02 14:00 UTC),
        };
        let body = String::from_utf8(WebhookPayload::new(&change).to_body()).unwrap();
        assert_eq!(
            body,
            concat!(
                r#"{"type":"attestation.revoked","timestamp":"2026-12-02T14:00:00Z","data":{"#,
                r#""attestation_id":"at_abababababababababababababababab","#,
                r#""wallet":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","scope":null,"#,
                r#""status":"revoked","#,
                r#""reason":"holder","issued_at":"2026-12-01T09:00:00Z","#,
                r#""expires_at":"2027-12-01T09:00:00Z"}}"#
            )
        );
        // honnin's own vector for receivers' tests (the SDK's verifyWebhook checks it too): this
        // body, signed with the specification's test secret, message id and time below.
        let secret =
            crate::webhook::WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            crate::webhook::sign(
                &secret,
                "msg_0123456789abcdef0123456789abcdef",
                1_796_220_000,
                body.as_bytes()
            ),
            "v1,Bswkbvkrx8phb2eBRoRaz2mj4dlpsNprb7r72iDICog="
        );
        let active = WebhookChange {
            event: WebhookEvent::Active,
            status: AttestationStatus::Active,
            reason: None,
            ..change
        };
        let parsed: WebhookPayload =
            serde_json::from_slice(&WebhookPayload::new(&active).to_body()).unwrap();
        assert_eq!(parsed.data.reason, None);
        assert_eq!(parsed.r#type, "attestation.active");
        // A scoped record's delivery names its scope id.
        let scope = crate::ScopeName::new("kyc-drop").unwrap().id();
        let scoped = WebhookChange { scope: Some(scope), ..active };
        let parsed: WebhookPayload =
            serde_json::from_slice(&WebhookPayload::new(&scoped).to_body()).unwrap();
        let rendered = parsed.data.scope.expect("a scope");
        assert_eq!(rendered, scope.to_string());
        assert!(rendered.starts_with("0x") && rendered.len() == 66, "{rendered}");
    }
}
