//! # honnin-core
//!
//! The domain of honnin: what a challenge is and how its message reads, how a wallet proves
//! control, how a person becomes a keyed pseudonym, the uniqueness policy, the attestation
//! life cycle, the chain outbox, and the store traits the persistence adapters implement ([`Store`] is their union).
//! No I/O happens here: the crate is pure functions, value types and traits.
//!
//! | module | concern |
//! |---|---|
//! | [`challenge`] | challenges, their purposes, audiences, nonces and the signed message |
//! | [`wallet`] | EIP-191 `personal_sign` recovery; the EOA-then-ERC-1271 wallet proof |
//! | [`individual_number`] | refusing anything that looks like a 12-digit individual number |
//! | [`keyed`] | the operator [`Pepper`] and the keyed hashes derived with it |
//! | [`policy`] | wallets per person, what happens at the limit, attestation lifetime |
//! | [`attestation`] | attestations, their status, levels, claims and revocation reasons |
//! | [`claims`] | claims beyond the unique person: the age claims and their bits |
//! | [`scope`] | scopes (per-dApp attestations): names, ids, what keeps them unlinkable |
//! | [`outbox`] | work queued for the chain writer |
//! | [`cert_status`] | certificate revocations (CRL, OCSP), renewal links, live certificates for re-checks |
//! | [`audit`] | the hash-chained audit log and its group-committing writer |
//! | [`store`] | the store's role traits ([`ChallengeStore`], [`OutboxStore`], …), their union [`Store`], [`Lease`] and the store's error type |
//! | [`stored`] | reading stored rows back into domain values, shared by every backend |
//! | [`webhook`] | signed webhooks: events, payloads, Standard Webhooks signatures, endpoint address policy |
//!
//! ## The challenge message
//!
//! The person signs one message twice: with the card's user-authentication key
//! (RSASSA-PKCS1-v1_5 over SHA-256 of the message's UTF-8 bytes) and with the wallet (EIP-191
//! `personal_sign` of the same bytes). [`Challenge::message`] renders it deterministically from
//! the challenge's fields, so the service never stores the text: it re-renders it from the
//! consumed challenge to check both signatures. Lines are separated by a single `\n`, there is
//! no trailing newline, and every field is ASCII (domains and audiences are validated, so no
//! field can inject a line):
//!
//! ```text
//! {domain} asks you to {statement}
//!
//! Sign this message with your My Number card and with your wallet. Your individual number is never asked for.
//!
//! Purpose: {attest|revoke|erase}
//! Wallet: {EIP-55 checksummed address}
//! Audience: {audience}                       (this line only when an audience was given)
//! Scope: {scope name} ({0x + 64 hex: the scope id})   (this line only for a scoped record)
//! Chain ID: {decimal chain id}
//! Registry: {EIP-55 checksummed registry address}
//! Nonce: {64 lowercase hex digits: 256 random bits}
//! Issued At: {RFC 3339 UTC, whole seconds, e.g. 2026-11-23T11:20:00Z}
//! Expiration Time: {RFC 3339 UTC, whole seconds}
//! Challenge ID: {ch_ + 32 lowercase hex digits}
//! ```
//!
//! The statement depends on the purpose:
//!
//! | purpose | statement |
//! |---|---|
//! | `attest` | `prove that you hold a My Number card and control this wallet, so that it can be attested as a verified, unique person.` |
//! | `revoke` | `confirm that you want to revoke the attestation of this wallet.` |
//! | `erase` | `confirm that you want honnin to revoke your attestations and erase everything it keeps about your card.` |
//!
//! The layout follows the spirit of EIP-4361 (Sign-In with Ethereum): a domain line a wallet
//! can show, then `Key: value` fields. It is *not* a SIWE message and must not be parsed as one.
//!
//! ## Keyed hashes
//!
//! Nothing in the database identifies a certificate except through the operator's
//! [`Pepper`]: HMAC-SHA256 over a domain-separation label and length-prefixed fields
//! (see [`keyed`]). Without the pepper the stored values link to nothing.
//!
//! ## The store
//!
//! The domain owns the store's traits, one per role (see [`store`]); `honnin-store` implements
//! them for Postgres and SQLite. They are object safe (through `async-trait`): services hold an
//! `Arc<dyn Store>` and hand each user the part it takes (`Arc<dyn OutboxStore>`, …).

pub mod attestation;
pub mod audit;
pub mod cert_status;
pub mod chain;
pub mod challenge;
pub mod claims;
mod error;
mod id;
pub mod individual_number;
pub mod keyed;
pub mod outbox;
pub mod policy;
pub mod scope;
pub mod store;
pub mod stored;
pub mod time;
pub mod wallet;
pub mod webhook;

pub use alloy_primitives::{Address, B256};
pub use attestation::{
    Attestation, AttestationId, AttestationReceipt, AttestationStatus, AttestationWallet, Claims,
    Level, NewAttestation, RevocationReason, VerifiedRequest,
};
pub use audit::{
    AuditBreak, AuditContext, AuditEventKind, AuditLog, AuditQuery, AuditRecord, ChainVerifier,
    NewAuditEvent,
};
pub use cert_status::{
    CertRevocationOutcome, LinkOutcome, LiveCertificate, RenewalLink, RevokedCertificate,
};
pub use chain::{ContractWalletError, ContractWallets, ERC1271_MAGIC_VALUE};
pub use challenge::{
    Audience, Challenge, ChallengeId, ChallengeSettings, Nonce, Purpose, ServiceDomain,
};
pub use claims::AgeClaim;
pub use error::{Error, Result};
pub use individual_number::IndividualNumberForbidden;
pub use keyed::{CertHash, Pepper, PersonPseudonym, RequestDigest, SealedCert};
pub use outbox::{OutboxAction, OutboxId, OutboxItem, OutboxState};
pub use policy::{AtLimit, Policy};
pub use scope::{Scope, ScopeName, ScopeRef};
pub use store::{
    AttestationStore, AuditStore, CertStatusStore, ChallengeStore, ErasureStore, ExpiryStore,
    Lease, LeaseName, LeaseStore, OutboxStore, Recorded, RevocationStore, SchemaStore, ScopeStore,
    Store, StoreError, WebhookStore,
};
pub use wallet::{EoaCheck, WalletProof, WalletSignature};
