//! The API's error type and its RFC 9457 `application/problem+json` rendering.
//!
//! Every refusal and failure is an [`Error`]. Its HTTP status, stable snake_case
//! [`code`](Error::code), title and (for a 5xx) fixed detail come from one table, `Kind::row`,
//! keyed by the error's kind (`Error::kind`): two exhaustive matches with no `_ =>` arm, so a
//! new variant does not compile until someone writes its row. The OpenAPI document's error
//! responses are generated from the same table. The body is a [`Problem`]:
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
    /// No scope is registered under the name or id given (the operator registers scopes).
    #[error("no scope is registered under this name or id")]
    UnknownScope,
    /// A webhook endpoint URL the address policy refuses.
    #[error("webhook URL refused: {0}")]
    WebhookUrlRefused(honnin_core::webhook::UrlRefusal),
    /// No webhook endpoint with that id.
    #[error("no webhook endpoint with this id")]
    WebhookEndpointNotFound,
    /// No webhook delivery with that id.
    #[error("no webhook delivery with this id")]
    WebhookDeliveryNotFound,
    /// Only a dead delivery can be redelivered.
    #[error("the webhook delivery is not dead (pending ones are sent anyway, delivered ones were)")]
    WebhookDeliveryNotDead,
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

    /// Which row of the problem table this error is. One exhaustive match, no `_ =>` arm.
    pub(crate) const fn kind(&self) -> Kind {
        match self {
            Self::MalformedRequest { .. } => Kind::MalformedRequest,
            Self::UnsupportedMediaType => Kind::UnsupportedMediaType,
            Self::BodyTooLarge { .. } => Kind::BodyTooLarge,
            Self::IndividualNumberForbidden(_) => Kind::IndividualNumberForbidden,
            Self::ChallengeNotFound => Kind::ChallengeNotFound,
            Self::ChallengeExpired => Kind::ChallengeExpired,
            Self::ChallengeUsed => Kind::ChallengeUsed,
            Self::ChallengePurposeMismatch => Kind::ChallengePurposeMismatch,
            Self::CardRefused(_) => Kind::CardRefused,
            Self::RevocationUnavailable(_) => Kind::RevocationUnavailable,
            Self::CertificateRevoked => Kind::CertificateRevoked,
            Self::WalletMismatch => Kind::WalletMismatch,
            Self::ContractWalletUnavailable(_) => Kind::ContractWalletUnavailable,
            Self::WalletAlreadyAttested => Kind::WalletAlreadyAttested,
            Self::WalletLimitReached { .. } => Kind::WalletLimitReached,
            Self::AttestationNotFound => Kind::AttestationNotFound,
            Self::NoLiveAttestation => Kind::NoLiveAttestation,
            Self::PersonNotFound => Kind::PersonNotFound,
            Self::UnknownScope => Kind::UnknownScope,
            Self::WebhookUrlRefused(_) => Kind::WebhookUrlRefused,
            Self::WebhookEndpointNotFound => Kind::WebhookEndpointNotFound,
            Self::WebhookDeliveryNotFound => Kind::WebhookDeliveryNotFound,
            Self::WebhookDeliveryNotDead => Kind::WebhookDeliveryNotDead,
            Self::Unauthorized => Kind::Unauthorized,
            Self::InvalidApiKey => Kind::InvalidApiKey,
            Self::RateLimited { .. } => Kind::RateLimited,
            Self::NotFound => Kind::NotFound,
            Self::MethodNotAllowed => Kind::MethodNotAllowed,
            Self::Timeout => Kind::Timeout,
            Self::Unavailable(_) => Kind::Unavailable,
            Self::Internal(_) => Kind::Internal,
        }
    }

    /// The HTTP status (from the [problem table](Kind)).
    pub fn status(&self) -> StatusCode {
        self.kind().row().status
    }

    /// The stable snake_case code (the last segment of the problem `type`): the refusal's own
    /// code for card refusals, else the [problem table](Kind)'s.
    pub fn code(&self) -> &'static str {
        if let Self::CardRefused(refusal) | Self::RevocationUnavailable(refusal) = self {
            return refusal.code();
        }
        self.kind().row().codes[0]
    }

    /// The problem body for this error.
    pub fn problem(&self) -> Problem {
        let row = self.kind().row();
        let code = self.code();
        // A 5xx says only what kind of failure it was (the table's fixed text); the cause goes
        // to the log.
        let detail = row.detail.map_or_else(|| self.to_string(), str::to_owned);
        Problem {
            r#type: format!("{PROBLEM_TYPE_BASE}{code}"),
            title: row.title.to_owned(),
            status: row.status.as_u16(),
            detail,
            code: code.to_owned(),
        }
    }

    /// Sorts a refusal from `honnin-jpki`: revocation that cannot be established is a 503
    /// (retry later), everything else is a refusal of the evidence (422).
    pub fn from_refusal(refusal: Refusal) -> Self {
        // `Refusal` is `#[non_exhaustive]` (another crate): no exhaustive match is possible, so
        // the two 503 codes are named and everything else is a refusal of the evidence.
        if matches!(refusal, Refusal::RevocationUnknown | Refusal::StaleRevocationData) {
            Self::RevocationUnavailable(refusal)
        } else {
            Self::CardRefused(refusal)
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

/// The card refusal codes of `honnin-jpki` answered 422 (all but the revocation-unknown ones).
const CARD_REFUSALS: &[&str] = &[
    "malformed_certificate",
    "untrusted_issuer",
    "expired",
    "not_yet_valid",
    "wrong_key_usage",
    "wrong_extended_key_usage",
    "wrong_policy",
    "unsupported_critical_extension",
    "unsupported_key",
    "unsupported_signature_algorithm",
    "weak_hash",
    "malformed_signature",
    "bad_signature",
    "revoked",
];

/// The refusal codes of `honnin-jpki` that mean revocation status is unknown (503).
const REVOCATION_UNAVAILABLE: &[&str] = &["revocation_unknown", "stale_revocation_data"];

/// One row of the problem table: what an [`Error`] of a [`Kind`] answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    /// The HTTP status.
    pub(crate) status: StatusCode,
    /// The codes it answers with (one, except for card refusals).
    pub(crate) codes: &'static [&'static str],
    /// The problem's title.
    pub(crate) title: &'static str,
    /// A fixed detail (every 5xx: it says only what kind of failure it was); `None`: the
    /// error's own message, which never repeats request contents.
    pub(crate) detail: Option<&'static str>,
}

/// The kind of an [`Error`], one per variant: the key of the problem table ([`Kind::row`]).
/// Statuses, codes, titles and the OpenAPI document's error responses are all read from it,
/// so a new variant is described once, in `row`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    MalformedRequest,
    UnsupportedMediaType,
    BodyTooLarge,
    IndividualNumberForbidden,
    ChallengeNotFound,
    ChallengeExpired,
    ChallengeUsed,
    ChallengePurposeMismatch,
    CardRefused,
    RevocationUnavailable,
    CertificateRevoked,
    WalletMismatch,
    ContractWalletUnavailable,
    WalletAlreadyAttested,
    WalletLimitReached,
    AttestationNotFound,
    NoLiveAttestation,
    PersonNotFound,
    UnknownScope,
    WebhookUrlRefused,
    WebhookEndpointNotFound,
    WebhookDeliveryNotFound,
    WebhookDeliveryNotDead,
    Unauthorized,
    InvalidApiKey,
    RateLimited,
    NotFound,
    MethodNotAllowed,
    Timeout,
    Unavailable,
    Internal,
}

impl Kind {
    /// The problem table. One exhaustive match, no `_ =>` arm.
    pub(crate) const fn row(self) -> Row {
        const fn row(
            status: StatusCode,
            codes: &'static [&'static str],
            title: &'static str,
        ) -> Row {
            Row { status, codes, title, detail: None }
        }
        const fn fixed(
            status: StatusCode,
            code: &'static [&'static str],
            title: &'static str,
            detail: &'static str,
        ) -> Row {
            Row { status, codes: code, title, detail: Some(detail) }
        }
        use StatusCode as S;
        match self {
            Self::MalformedRequest => {
                row(S::BAD_REQUEST, &["malformed_request"], "Malformed request")
            }
            Self::UnsupportedMediaType => row(
                S::UNSUPPORTED_MEDIA_TYPE,
                &["unsupported_media_type"],
                "Unsupported media type",
            ),
            Self::BodyTooLarge => {
                row(S::PAYLOAD_TOO_LARGE, &["body_too_large"], "Request body too large")
            }
            Self::IndividualNumberForbidden => {
                row(S::BAD_REQUEST, &["individual_number_forbidden"], "Individual number forbidden")
            }
            Self::ChallengeNotFound => {
                row(S::NOT_FOUND, &["challenge_not_found"], "Challenge not found")
            }
            Self::ChallengeExpired => row(S::GONE, &["challenge_expired"], "Challenge expired"),
            Self::ChallengeUsed => row(S::CONFLICT, &["challenge_used"], "Challenge already used"),
            Self::ChallengePurposeMismatch => row(
                S::BAD_REQUEST,
                &["challenge_purpose_mismatch"],
                "Challenge issued for another purpose",
            ),
            Self::CardRefused => {
                row(S::UNPROCESSABLE_ENTITY, CARD_REFUSALS, "Card evidence refused")
            }
            Self::RevocationUnavailable => fixed(
                S::SERVICE_UNAVAILABLE,
                REVOCATION_UNAVAILABLE,
                "Revocation status unavailable",
                "revocation status could not be established; retry later with a new challenge",
            ),
            Self::CertificateRevoked => {
                row(S::UNPROCESSABLE_ENTITY, &["revoked"], "Card evidence refused")
            }
            Self::WalletMismatch => row(
                S::UNPROCESSABLE_ENTITY,
                &["wallet_mismatch"],
                "Wallet signature does not match",
            ),
            Self::ContractWalletUnavailable => fixed(
                S::SERVICE_UNAVAILABLE,
                &["contract_wallet_unavailable"],
                "Contract wallet unavailable",
                "the contract wallet could not be asked; retry later with a new challenge",
            ),
            Self::WalletAlreadyAttested => {
                row(S::CONFLICT, &["wallet_already_attested"], "Wallet already attested")
            }
            Self::WalletLimitReached => {
                row(S::CONFLICT, &["wallet_limit_reached"], "Wallet limit reached")
            }
            Self::AttestationNotFound => {
                row(S::NOT_FOUND, &["attestation_not_found"], "Attestation not found")
            }
            Self::NoLiveAttestation => {
                row(S::NOT_FOUND, &["no_live_attestation"], "No live attestation")
            }
            Self::PersonNotFound => row(S::NOT_FOUND, &["person_not_found"], "Nothing to erase"),
            Self::UnknownScope => row(S::UNPROCESSABLE_ENTITY, &["unknown_scope"], "Unknown scope"),
            Self::WebhookUrlRefused => {
                row(S::UNPROCESSABLE_ENTITY, &["webhook_url_refused"], "Webhook URL refused")
            }
            Self::WebhookEndpointNotFound => {
                row(S::NOT_FOUND, &["webhook_endpoint_not_found"], "Webhook endpoint not found")
            }
            Self::WebhookDeliveryNotFound => {
                row(S::NOT_FOUND, &["webhook_delivery_not_found"], "Webhook delivery not found")
            }
            Self::WebhookDeliveryNotDead => {
                row(S::CONFLICT, &["webhook_delivery_not_dead"], "Webhook delivery not dead")
            }
            Self::Unauthorized => row(S::UNAUTHORIZED, &["unauthorized"], "Unauthorized"),
            Self::InvalidApiKey => row(S::UNAUTHORIZED, &["invalid_api_key"], "Unknown API key"),
            Self::RateLimited => row(S::TOO_MANY_REQUESTS, &["rate_limited"], "Too many requests"),
            Self::NotFound => row(S::NOT_FOUND, &["not_found"], "Not found"),
            Self::MethodNotAllowed => {
                row(S::METHOD_NOT_ALLOWED, &["method_not_allowed"], "Method not allowed")
            }
            Self::Timeout => fixed(
                S::SERVICE_UNAVAILABLE,
                &["timeout"],
                "Request timed out",
                "request timed out",
            ),
            Self::Unavailable => fixed(
                S::SERVICE_UNAVAILABLE,
                &["unavailable"],
                "Service unavailable",
                "service unavailable",
            ),
            Self::Internal => fixed(
                S::INTERNAL_SERVER_ERROR,
                &["internal"],
                "Internal error",
                "internal server error",
            ),
        }
    }
}

/// The methods the API's routes take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The lowercase name, as OpenAPI keys operations.
    #[cfg(test)]
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
            Self::Delete => "delete",
        }
    }
}

/// The problems an operation can answer, as groups of [`Kind`]s: the OpenAPI document's error
/// responses are generated from these and the problem table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Operation {
    /// The method.
    pub(crate) method: Method,
    /// The route template.
    pub(crate) path: &'static str,
    /// Its problems, besides [`EVERY_ROUTE`]'s.
    pub(crate) errors: &'static [&'static [Kind]],
}

/// What any route can answer: an oversized `Content-Length` (refused before routing), another
/// method on its path, the request timeout, an internal error.
pub(crate) const EVERY_ROUTE: &[Kind] =
    &[Kind::BodyTooLarge, Kind::MethodNotAllowed, Kind::Timeout, Kind::Internal];
/// What a route with a JSON body can answer before its handler runs.
pub(crate) const JSON_BODY: &[Kind] =
    &[Kind::MalformedRequest, Kind::IndividualNumberForbidden, Kind::UnsupportedMediaType];
/// What the rate-limited public routes can answer before their handler runs.
pub(crate) const PUBLIC: &[Kind] = &[Kind::InvalidApiKey, Kind::RateLimited];
/// What the admin routes can answer before their handler runs.
pub(crate) const ADMIN: &[Kind] = &[Kind::Unauthorized, Kind::RateLimited];

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
        let challenge = if matches!(self, Self::Unauthorized) {
            Some(HeaderValue::from_static(r#"Bearer realm="honnin-admin""#))
        } else if matches!(self, Self::InvalidApiKey) {
            Some(HeaderValue::from_static(r#"ApiKey realm="honnin", header="x-api-key""#))
        } else {
            None
        };
        let retry_after = if let Self::RateLimited { retry_after } = &self {
            Some(HeaderValue::from(*retry_after))
        } else {
            None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_covers_every_refusal_code_once() {
        let mut ours: Vec<&str> =
            CARD_REFUSALS.iter().chain(REVOCATION_UNAVAILABLE).copied().collect();
        // `malformed_birth_date` refuses a claim (`claims_refused`), never a request.
        let mut theirs: Vec<&str> =
            Refusal::ALL_CODES.iter().copied().filter(|c| *c != "malformed_birth_date").collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs);
        // Each refusal lands in the row that lists its code.
        assert_eq!(
            Error::from_refusal(Refusal::WeakHash).status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        for refusal in [Refusal::RevocationUnknown, Refusal::StaleRevocationData] {
            let error = Error::from_refusal(refusal);
            assert!(error.kind().row().codes.contains(&error.code()));
        }
    }

    #[test]
    fn server_errors_have_a_fixed_detail() {
        for error in [
            Error::Timeout,
            Error::internal(std::io::Error::other("disk on fire at /var/x")),
            Error::Unavailable(StoreError::PoolTimedOut),
        ] {
            let problem = error.problem();
            assert!(error.status().is_server_error());
            assert!(!problem.detail.contains("disk"), "{problem:?}");
            assert_eq!(Some(problem.detail.as_str()), error.kind().row().detail);
        }
    }
}
