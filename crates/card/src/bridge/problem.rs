//! The bridge's refusals as RFC 9457 problem+json: `{type,title,status,code,detail,detail_ja}`,
//! the code being the card's ([`crate::Error::code`], with `pin_tries_left` for a wrong PIN and
//! `signing_password_tries_left` for a wrong signing password) or one of the bridge's own
//! ([`CODES`]).

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::Error;

/// The prefix of every problem `type`, as the API's.
pub const PROBLEM_TYPE_BASE: &str = "https://honnin.dev/problems/";

/// The bridge's own codes (the card's are [`crate::Error::code`]).
pub const CODES: [&str; 6] = [
    "busy",
    "declined",
    "malformed_request",
    "origin_not_trusted",
    "host_not_allowed",
    "not_found",
];

/// Why a request was refused.
#[derive(Debug)]
pub enum Refusal {
    /// The card or the reader (or the PIN's shape, or the last try not confirmed).
    Card(Error),
    /// The person at the terminal said no (or the terminal gave no answer).
    Declined,
    /// Another request is being served.
    Busy,
    /// Not JSON, too large, no `message`, or a message with control characters.
    Malformed(&'static str),
    /// The `Origin` is not a trusted one.
    OriginNotTrusted,
    /// The `Host` is not the bridge's loopback address (DNS rebinding).
    HostNotAllowed,
    /// No such route.
    NotFound,
}

/// A problem document.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: Value,
}

const fn card_status(error: &Error) -> StatusCode {
    match error {
        Error::NoService
        | Error::NoReader
        | Error::ReaderNotFound { .. }
        | Error::NoCard { .. } => StatusCode::SERVICE_UNAVAILABLE,
        Error::CardBusy => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl Refusal {
    /// The stable code.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Card(error) => error.code(),
            Self::Declined => "declined",
            Self::Busy => "busy",
            Self::Malformed(_) => "malformed_request",
            Self::OriginNotTrusted => "origin_not_trusted",
            Self::HostNotAllowed => "host_not_allowed",
            Self::NotFound => "not_found",
        }
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        let (status, title, detail, detail_ja): (StatusCode, &str, String, String) = match self {
            Self::Card(error) => {
                (card_status(error), "Card error", error.to_string(), error.message_ja())
            }
            Self::Declined => (
                StatusCode::FORBIDDEN,
                "Declined at the bridge",
                "the person at the bridge's terminal did not confirm: nothing was sent to the card"
                    .into(),
                "ブリッジのターミナルで確認されなかったため、カードには何も送っていません。".into(),
            ),
            Self::Busy => (
                StatusCode::CONFLICT,
                "Bridge busy",
                "the bridge is serving another request: finish it in the bridge's terminal, then try again"
                    .into(),
                "ブリッジは別の依頼を処理中です。ブリッジのターミナルでそれを終えてから、もう一度お試しください。"
                    .into(),
            ),
            Self::Malformed(why) => (
                StatusCode::BAD_REQUEST,
                "Malformed request",
                format!("the request is not one the bridge accepts: {why}"),
                format!("ブリッジが受け付けられない依頼です ({why})。"),
            ),
            Self::OriginNotTrusted => (
                StatusCode::FORBIDDEN,
                "Origin not trusted",
                "this site is not one the bridge trusts: start it with --trust-origin for this site's origin"
                    .into(),
                "このサイトはブリッジに信頼されていません。このサイトのオリジンを --trust-origin に指定してブリッジを起動してください。"
                    .into(),
            ),
            Self::HostNotAllowed => (
                StatusCode::FORBIDDEN,
                "Host not allowed",
                "the bridge answers only requests to 127.0.0.1 or localhost".into(),
                "ブリッジは 127.0.0.1 または localhost 宛ての依頼にのみ応答します。".into(),
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "the bridge has GET /v1/bridge and POST /v1/sign only".into(),
                "ブリッジにあるのは GET /v1/bridge と POST /v1/sign だけです。".into(),
            ),
        };
        let code = self.code();
        let mut body = json!({
            "type": format!("{PROBLEM_TYPE_BASE}{code}"),
            "title": title,
            "status": status.as_u16(),
            "code": code,
            "detail": detail,
            "detail_ja": detail_ja,
        });
        match self {
            Self::Card(Error::WrongPin { tries_left }) => {
                body["pin_tries_left"] = json!(tries_left)
            }
            Self::Card(Error::WrongPassword { tries_left }) => {
                body["signing_password_tries_left"] = json!(tries_left);
            }
            _ => {}
        }
        Problem { status, body }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        self.problem().into_response()
    }
}
