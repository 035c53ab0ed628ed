//! The privacy scan: look for a person's certificate bytes, serial, subject id, public key or
//! individual number in text (a `pg_dump`, logs) and in bytes (the chain's calldata, logs and
//! storage).
//!
//! Text is searched for every encoding a leak could take there: the raw text (subject id,
//! individual number), lower- and upper-case hex, colon-separated hex (how X.509 tools print
//! serials) and standard base64 of the bytes. Chain data is searched for the raw bytes.

use alloy::{
    primitives::B256,
    providers::{DynProvider, Provider},
};
use anyhow::{Context as _, Result};
use base64::Engine as _;
use honnin_jpki::test_utils::CardKey;
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};

use crate::Person;

/// One secret to look for.
#[derive(Debug, Clone)]
pub struct Needle {
    /// What it is (for the failure message), e.g. `serial of person 3`.
    pub label: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Secrets to look for.
#[derive(Debug, Clone, Default)]
pub struct Needles(Vec<Needle>);

impl Needles {
    /// No needles yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one.
    pub fn push(&mut self, label: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.0.push(Needle { label: label.into(), bytes: bytes.into() });
    }

    /// Adds everything personal about `person`: certificate DER, serial, subject id, the card's
    /// public key (RSA modulus).
    pub fn person(&mut self, label: &str, person: &Person) {
        self.push(format!("certificate of {label}"), person.card.der());
        self.push(format!("serial of {label}"), person.card.serial());
        self.push(format!("subject id of {label}"), person.subject_id.as_bytes());
        if let CardKey::Rsa(key) = person.card.key() {
            self.push(format!("public key of {label}"), key.n().to_bytes_be());
        }
    }

    /// Adds everything personal about a signing certificate (age claims): its DER, serial, and
    /// the basic attributes in it: name, address, the birth date as written (`EYYYYMMDD`), as
    /// eight digits and as an ISO date.
    pub fn signing(
        &mut self,
        label: &str,
        card: &honnin_jpki::test_utils::SimCard,
        attributes: &honnin_jpki::test_utils::BasicAttributes,
        birth: time::Date,
    ) {
        self.push(format!("signing certificate of {label}"), card.der());
        self.push(format!("signing serial of {label}"), card.serial());
        self.push(format!("name of {label}"), attributes.name.as_bytes());
        self.push(format!("address of {label}"), attributes.address.as_bytes());
        let text = honnin_jpki::test_utils::birth_date_text(birth);
        self.push(format!("birth date of {label}"), text.as_bytes());
        self.push(format!("birth digits of {label}"), &text.as_bytes()[1..]);
        self.push(format!("birth ISO date of {label}"), birth.to_string().as_bytes());
    }

    /// The labels of the needles found in `text`, in any of the text encodings.
    pub fn find_in_text(&self, text: &str) -> Vec<String> {
        let lower = text.to_lowercase();
        self.0
            .iter()
            .filter(|needle| {
                let hex = hex::encode(&needle.bytes);
                let colon =
                    needle.bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":");
                let b64 = base64::engine::general_purpose::STANDARD.encode(&needle.bytes);
                let raw = std::str::from_utf8(&needle.bytes).ok().filter(|s| s.len() >= 8);
                lower.contains(&hex)
                    || lower.contains(&colon)
                    || text.contains(&b64)
                    || raw.is_some_and(|raw| text.contains(raw))
            })
            .map(|needle| needle.label.clone())
            .collect()
    }

    /// The labels of the needles found in `bytes`, raw.
    pub fn find_in_bytes(&self, bytes: &[u8]) -> Vec<String> {
        self.0
            .iter()
            .filter(|needle| bytes.windows(needle.bytes.len()).any(|w| w == needle.bytes))
            .map(|needle| needle.label.clone())
            .collect()
    }
}

/// Everything the chain holds that a transaction put there, concatenated: for every transaction
/// in every block, its calldata, its receipt's log topics and data, and every storage slot
/// (key and value) it wrote, from `debug_traceTransaction`'s `prestateTracer` in diff mode.
/// Every write to the registry's storage happens in some transaction, so the diffs cover its
/// whole storage.
pub async fn chain_bytes(provider: &DynProvider) -> Result<ChainData> {
    let latest = provider.get_block_number().await?;
    let mut data = ChainData::default();
    for number in 0..=latest {
        let block: Value = provider
            .raw_request("eth_getBlockByNumber".into(), (format!("{number:#x}"), true))
            .await?;
        for tx in block["transactions"].as_array().into_iter().flatten() {
            data.transactions += 1;
            data.bytes.extend(hex_field(&tx["input"])?);
            let hash: B256 = serde_json::from_value(tx["hash"].clone())?;
            let receipt: Value =
                provider.raw_request("eth_getTransactionReceipt".into(), (hash,)).await?;
            for log in receipt["logs"].as_array().into_iter().flatten() {
                for topic in log["topics"].as_array().into_iter().flatten() {
                    data.bytes.extend(hex_field(topic)?);
                }
                data.bytes.extend(hex_field(&log["data"])?);
            }
            let trace: Value = provider
                .raw_request(
                    "debug_traceTransaction".into(),
                    (
                        hash,
                        json!({ "tracer": "prestateTracer", "tracerConfig": { "diffMode": true } }),
                    ),
                )
                .await
                .context("debug_traceTransaction (prestateTracer, diffMode)")?;
            let post = trace["post"].as_object().context("a prestate diff")?;
            for account in post.values() {
                for (slot, value) in account["storage"].as_object().into_iter().flatten() {
                    data.storage_slots += 1;
                    data.bytes.extend(hex::decode(slot.trim_start_matches("0x"))?);
                    data.bytes.extend(hex_field(value)?);
                }
            }
        }
    }
    Ok(data)
}

/// What [`chain_bytes`] collected.
#[derive(Debug, Default)]
pub struct ChainData {
    /// Calldata, log topics and data, written storage keys and values.
    pub bytes: Vec<u8>,
    /// Transactions looked at.
    pub transactions: usize,
    /// Storage slot writes looked at.
    pub storage_slots: usize,
}

fn hex_field(value: &Value) -> Result<Vec<u8>> {
    let text = value.as_str().unwrap_or("0x");
    Ok(hex::decode(text.trim_start_matches("0x"))?)
}

/// A 12-digit individual number with a valid check digit (the first eleven digits from `seed`).
pub fn individual_number(seed: u64) -> String {
    let first: Vec<u8> =
        format!("{:011}", seed % 100_000_000_000).bytes().map(|b| b - b'0').collect();
    let check = honnin_core::individual_number::check_digit(&first).expect("eleven digits");
    let mut text: String = first.iter().map(|d| char::from(b'0' + d)).collect();
    text.push(char::from(b'0' + check));
    text
}
