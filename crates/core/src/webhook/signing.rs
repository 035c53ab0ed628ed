//! Standard Webhooks signatures: the secret, the signed content, the headers.
//!
//! The signed content is `{webhook-id}.{webhook-timestamp}.{body}` (the body's exact bytes);
//! the signature is `v1,` + standard base64 (with padding) of HMAC-SHA256 over it, keyed with
//! the secret's bytes (the base64 after `whsec_`). A header may carry several signatures
//! separated by spaces; a receiver accepts the request when one of them matches.

use std::fmt;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::Error;

/// The `webhook-id` header.
pub const ID_HEADER: &str = "webhook-id";
/// The `webhook-timestamp` header (Unix seconds).
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The `webhook-signature` header.
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// The secret's prefix.
const PREFIX: &str = "whsec_";
/// The fewest secret bytes accepted (Standard Webhooks: 24 to 64).
const MIN_BYTES: usize = 24;
/// The most secret bytes accepted.
const MAX_BYTES: usize = 64;
/// The bytes of a generated secret.
const GENERATED_BYTES: usize = 32;

/// A signing secret, written `whsec_` + base64 of its 24 to 64 bytes. Its `Debug` is
/// redacted; its bytes are wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Zeroizing<Vec<u8>>);

impl WebhookSecret {
    /// A fresh secret: 32 bytes from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new(vec![0u8; GENERATED_BYTES]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        Self(bytes)
    }

    /// Parses `whsec_<base64>` (24 to 64 bytes).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let encoded = text.strip_prefix(PREFIX).ok_or(Error::InvalidWebhookSecret)?;
        let bytes =
            Zeroizing::new(STANDARD.decode(encoded).map_err(|_| Error::InvalidWebhookSecret)?);
        if !(MIN_BYTES..=MAX_BYTES).contains(&bytes.len()) {
            return Err(Error::InvalidWebhookSecret);
        }
        Ok(Self(bytes))
    }

    /// The secret as it is shown once and stored: `whsec_` + base64.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&*self.0))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        Hmac::<Sha256>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// The `webhook-signature` value for message `id`, sent at `timestamp` (Unix seconds), with
/// `body`: `v1,<base64 HMAC-SHA256>`.
pub fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = secret.mac();
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Whether `header` (a `webhook-signature` value: space-separated `v1,<base64>` entries)
/// holds a valid signature of `id`, `timestamp` and `body` under `secret`, compared in
/// constant time. Receivers also check that `timestamp` is recent; this does not.
pub fn verify(secret: &WebhookSecret, header: &str, id: &str, timestamp: i64, body: &[u8]) -> bool {
    let mut content = Vec::with_capacity(id.len() + body.len() + 24);
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.to_string().as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    header.split(' ').filter_map(|entry| entry.strip_prefix("v1,")).any(|signature| {
        let Ok(signature) = STANDARD.decode(signature) else { return false };
        let mut mac = secret.mac();
        mac.update(&content);
        mac.verify_slice(&signature).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector the Standard Webhooks specification publishes (and its reference
    /// libraries test against).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1_614_265_330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_the_specification_test_vector() {
        let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
        assert_eq!(sign(&secret, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY), SPEC_SIGNATURE);
        assert!(verify(&secret, SPEC_SIGNATURE, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY));
        // One of several signatures is enough; a changed body, time or id is not.
        assert!(verify(
            &secret,
            &format!("v1,bm9wZQ== {SPEC_SIGNATURE}"),
            SPEC_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY
        ));
        assert!(!verify(&secret, SPEC_SIGNATURE, SPEC_ID, SPEC_TIMESTAMP + 1, SPEC_BODY));
        assert!(!verify(&secret, SPEC_SIGNATURE, "msg_other", SPEC_TIMESTAMP, SPEC_BODY));
        assert!(!verify(
            &secret,
            SPEC_SIGNATURE,
            SPEC_ID,
            SPEC_TIMESTAMP,
            br#"{"test": 2432232315}"#
        ));
        assert!(!verify(
            &WebhookSecret::generate(),
            SPEC_SIGNATURE,
            SPEC_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY
        ));
    }

    #[test]
    fn secrets_are_whsec_and_24_to_64_bytes() {
        let secret = WebhookSecret::generate();
        let text = secret.expose();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text), Ok(secret.clone()));
        assert_ne!(WebhookSecret::generate(), secret);
        assert!(!format!("{secret:?}").contains(&text[6..]));
        for bad in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_",
            "whsec_not base64!",
            &format!("whsec_{}", STANDARD.encode([1u8; 23])),
            &format!("whsec_{}", STANDARD.encode([1u8; 65])),
        ] {
            assert!(WebhookSecret::parse(bad).is_err(), "{bad}");
        }
    }
}
