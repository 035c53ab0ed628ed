//! The API's error type and its RFC 9457 `application/problem+json` rendering.
//!
//! Every refusal and failure is an [`Error`]. Its HTTP status is chosen in one exhaustive
//! `match` ([`Error::status`], no `_ =>` arm: a new variant does not compile until someone
//! decides its status), its stable snake_case [`code`](Error::code) in another. The body is a
//! [`Problem`]:
//!
//! ```json
//! {
//!   "type": "https://honnin.dev/problems/challenge_used",
//!   "title": "Challenge already used",
//!   "status": 409,
//!   "detail": "challenge already used",
//!   "code": "challenge_used"
//! }
//! ```
//!
//! A 5xx says only what kind of failure it was (`internal`, `unavailable`, …); the cause goes
//! to the log through `tracing`. No message ever carries request contents: certificate bytes,
//! serials, subjects or anything that looked like an individual number.

use std::borrow::Cow;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use honnin_core::{ContractWalletError, IndividualNumberForbidden, StoreError};
use honnin_jpki::Refusal;
use serde::Serialize;
use utoipa::ToSchema;

/// The prefix of every problem `type` URI; the code follows it.
pub const PROBLEM_TYPE_BASE: &str = "https://honnin.dev/problems/";

/// Why a request was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The body is not JSON of the expected shape, or a field is malformed. The detail names the
    /// field and what was expected, never the value.
    #[error("{detail}")]
    MalformedRequest {
        /// What was wrong.
        detail: Cow<'static, str>,
    },
    /// A body was sent without `Content-Type: application/json`.
    #[error("expected content type application/json")]
    UnsupportedMediaType,
    /// The body is larger than the configured limit.
    #[error("request body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body carries something that looks like an individual number (My Number).
    #[error(transparent)]
    IndividualNumberForbidden(#[from] IndividualNumberForbidden),
    /// No challenge with that id.
    #[error("challenge not found")]
    ChallengeNotFound,
    /// The challenge expired before it was used: ask for a new one.
    #[error("challenge expired")]
    ChallengeExpired,
    /// The challenge was already used (by another request, or this one still in progress).
    #[error("challenge already used")]
    ChallengeUsed,
    /// The challenge was issued for another purpose.
    #[error("challenge was issued for another purpose")]
    ChallengePurposeMismatch,
    /// The card's evidence was refused (`honnin-jpki` refusal; its code is the problem code).
    #[error("{0}")]
    CardRefused(Refusal),
    /// Revocation status could not be established (source unreachable, stale or unknown); the
    /// challenge is used up, so retry with a new one later.
    #[error("{0}")]
    RevocationUnavailable(Refusal),
    /// The certificate is marked revoked in honnin's records.
    #[error("certificate revoked")]
    CertificateRevoked,
    /// The wallet signature proves neither the challenge's wallet (EIP-191) nor a contract
    /// wallet's acceptance (ERC-1271).
    #[error("the wallet signature does not prove control of the challenge's wallet")]
    WalletMismatch,
    /// The contract wallet could not be asked (chain node unreachable).
    #[error("the contract wallet could not be asked to check the signature")]
    ContractWalletUnavailable(#[source] ContractWalletError),
    /// The wallet already has a live attestation.
    #[error("wallet already has a live attestation")]
    WalletAlreadyAttested,
    /// The person holds the maximum number of live attestations and the policy refuses more.
    #[error("the person already holds {limit} live attestation(s)")]
    WalletLimitReached {
        /// The policy's limit.
        limit: u32,
    },
    /// No attestation for the wallet.
    #[error("no attestation for this wallet")]
    AttestationNotFound,
    /// The wallet has no live (pending or active) attestation to revoke.
    #[error("this wallet has no live attestation")]
    NoLiveAttestation,
    /// The card is not known to honnin: there is nothing to erase.
    #[error("nothing is kept about this card")]
    PersonNotFound,
    /// An admin endpoint was called without a bearer token, or with one that is not configured.
    #[error("a valid admin bearer token is required")]
    Unauthorized,
    /// An `x-api-key` was sent that matches no configured API key.
    #[error("unknown API key")]
    InvalidApiKey,
    /// The client sent more requests than its rate allows; retry after `retry_after` seconds.
    #[error("too many requests: retry in {retry_after} s")]
    RateLimited {
        /// Seconds until the next request is allowed (at least 1; the `Retry-After` header).
        retry_after: u64,
    },
    /// No route matches the path.
    #[error("no such resource")]
    NotFound,
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request took longer than the configured timeout.
    #[error("request timed out")]
    Timeout,
    /// The database has no free connection, or is not answering; retry later.
    #[error("service unavailable")]
    Unavailable(#[source] StoreError),
    /// Something went wrong inside the service; the cause is logged, never returned.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// `Result` with this crate's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A malformed-request error with a detail naming the field, never its value.
    pub fn malformed(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::MalformedRequest { detail: detail.into() }
    }

    /// An internal error wrapping `cause` (logged, never returned).
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::Internal(cause.into())
    }

    /// The HTTP status. One exhaustive match, no `_ =>` arm.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedRequest { .. }
            | Self::IndividualNumberForbidden(_)
            | Self::ChallengePurposeMismatch => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::ChallengeNotFound
            | Self::AttestationNotFound
            | Self::NoLiveAttestation
            | Self::PersonNotFound
            | Self::NotFound => StatusCode::NOT_FOUND,
            Self::ChallengeExpired => StatusCode::GONE,
            Self::ChallengeUsed | Self::WalletAlreadyAttested | Self::WalletLimitReached { .. } => {
                StatusCode::CONFLICT
            }
            Self::CardRefused(_) | Self::CertificateRevoked | Self::WalletMismatch => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unauthorized | Self::InvalidApiKey => StatusCode::UNAUTHORIZED,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::RevocationUnavailable(_)
            | Self::ContractWalletUnavailable(_)
            | Self::Timeout
            | Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable snake_case code (the last segment of the problem `type`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedRequest { .. } => "malformed_request",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::IndividualNumberForbidden(_) => "individual_number_forbidden",
            Self::ChallengeNotFound => "challenge_not_found",
            Self::ChallengeExpired => "challenge_expired",
            Self::ChallengeUsed => "challenge_used",
            Self::ChallengePurposeMismatch => "challenge_purpose_mismatch",
            Self::CardRefused(refusal) | Self::RevocationUnavailable(refusal) => refusal.code(),
            Self::CertificateRevoked => "revoked",
            Self::WalletMismatch => "wallet_mismatch",
            Self::ContractWalletUnavailable(_) => "contract_wallet_unavailable",
            Self::WalletAlreadyAttested => "wallet_already_attested",
            Self::WalletLimitReached { .. } => "wallet_limit_reached",
            Self::AttestationNotFound => "attestation_not_found",
            Self::NoLiveAttestation => "no_live_attestation",
            Self::PersonNotFound => "person_not_found",
            Self::Unauthorized => "unauthorized",
            Self::InvalidApiKey => "invalid_api_key",
            Self::RateLimited { .. } => "rate_limited",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Timeout => "timeout",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The problem body for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let code = self.code();
        // A 5xx says only what kind of failure it was; the cause goes to the log.
        let detail = if status.is_server_error() {
            match self {
                Self::RevocationUnavailable(_) => {
                    "revocation status could not be established; retry later with a new challenge"
                        .to_owned()
                }
                Self::ContractWalletUnavailable(_) => {
                    "the contract wallet could not be asked; retry later with a new challenge"
                        .to_owned()
                }
                Self::Timeout => "request timed out".to_owned(),
                _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
            }
        } else {
            self.to_string()
        };
        Problem {
            r#type: format!("{PROBLEM_TYPE_BASE}{code}"),
            title: title(code),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
        }
    }

    /// Sorts a refusal from `honnin-jpki`: revocation that cannot be established is a 503
    /// (retry later), everything else is a refusal of the evidence (422).
    pub fn from_refusal(refusal: Refusal) -> Self {
        match refusal {
            Refusal::RevocationUnknown | Refusal::StaleRevocationData => {
                Self::RevocationUnavailable(refusal)
            }
            other => Self::CardRefused(other),
        }
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::ChallengeNotFound => Self::ChallengeNotFound,
            StoreError::ChallengeExpired => Self::ChallengeExpired,
            StoreError::ChallengeUsed | StoreError::ChallengeAlreadyAnswered => Self::ChallengeUsed,
            StoreError::ChallengePurposeMismatch => Self::ChallengePurposeMismatch,
            StoreError::WalletLimitReached { limit } => Self::WalletLimitReached { limit },
            StoreError::WalletAlreadyAttested => Self::WalletAlreadyAttested,
            StoreError::CertificateRevoked => Self::CertificateRevoked,
            StoreError::PersonNotFound => Self::PersonNotFound,
            StoreError::PoolTimedOut => Self::Unavailable(StoreError::PoolTimedOut),
            StoreError::AuditLogClosed => Self::Unavailable(StoreError::AuditLogClosed),
            // Internal failures: the cause is logged, the client learns only that it failed.
            other @ (StoreError::DuplicateChallenge
            | StoreError::OutboxItemNotFound { .. }
            | StoreError::Corrupt { .. }
            | StoreError::AuditHeadContended { .. }
            | StoreError::Database(_)
            | StoreError::Migrate(_)) => Self::Internal(Box::new(other)),
        }
    }
}

/// The title of a problem code: a short, fixed sentence per code.
fn title(code: &str) -> String {
    let title = match code {
        "malformed_request" => "Malformed request",
        "unsupported_media_type" => "Unsupported media type",
        "body_too_large" => "Request body too large",
        "individual_number_forbidden" => "Individual number forbidden",
        "challenge_not_found" => "Challenge not found",
        "challenge_expired" => "Challenge expired",
        "challenge_used" => "Challenge already used",
        "challenge_purpose_mismatch" => "Challenge issued for another purpose",
        "wallet_mismatch" => "Wallet signature does not match",
        "contract_wallet_unavailable" => "Contract wallet unavailable",
        "wallet_already_attested" => "Wallet already attested",
        "wallet_limit_reached" => "Wallet limit reached",
        "attestation_not_found" => "Attestation not found",
        "no_live_attestation" => "No live attestation",
        "person_not_found" => "Nothing to erase",
        "unauthorized" => "Unauthorized",
        "invalid_api_key" => "Unknown API key",
        "rate_limited" => "Too many requests",
        "not_found" => "Not found",
        "method_not_allowed" => "Method not allowed",
        "timeout" => "Request timed out",
        "unavailable" => "Service unavailable",
        "internal" => "Internal error",
        "revocation_unknown" | "stale_revocation_data" => "Revocation status unavailable",
        // The remaining codes are the card refusals of honnin-jpki.
        _ => "Card evidence refused",
    };
    title.to_owned()
}

/// An RFC 9457 problem details object, as every error response carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem: `https://honnin.dev/problems/{code}`.
    #[serde(rename = "type")]
    pub r#type: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence (never repeats request contents).
    pub detail: String,
    /// The stable snake_case code to branch on.
    pub code: String,
}

/// A problem's code, attached to the response's extensions for the metrics middleware.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProblemCode(pub(crate) &'static str);

/// The `application/problem+json` media type.
pub const PROBLEM_JSON: &str = "application/problem+json";

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.code();
        let challenge = match &self {
            Self::Unauthorized => Some(HeaderValue::from_static(r#"Bearer realm="honnin-admin""#)),
            Self::InvalidApiKey => {
                Some(HeaderValue::from_static(r#"ApiKey realm="honnin", header="x-api-key""#))
            }
            _ => None,
        };
        let retry_after = match &self {
            Self::RateLimited { retry_after } => Some(HeaderValue::from(*retry_after)),
            _ => None,
        };
        if status.is_server_error() {
            // The full cause chain goes to the log; none of these carry request contents.
            let mut cause = String::new();
            let mut source = std::error::Error::source(&self);
            while let Some(error) = source {
                cause.push_str(": ");
                cause.push_str(&error.to_string());
                source = error.source();
            }
            tracing::error!(target: "honnin_api::error", code, status = status.as_u16(), cause = %cause, "request failed");
        } else {
            tracing::info!(target: "honnin_api::error", code, status = status.as_u16(), "request refused");
        }
        let mut response = (status, Json(self.problem())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(challenge) = challenge {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, seconds);
        }
        // For the metrics middleware, which counts problems by code.
        response.extensions_mut().insert(ProblemCode(code));
        response
    }
}
