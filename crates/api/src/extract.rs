//! The JSON body extractor: owns every rejection, and refuses individual numbers before any
//! typed parsing.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{StatusCode, header},
};
use honnin_core::individual_number;
use serde::de::DeserializeOwned;

use crate::Error;

/// A JSON request body of type `T`.
///
/// In order: the content type must be JSON; the body must fit the limit
/// ([`axum::extract::DefaultBodyLimit`]); the raw bytes, then every key and string of the parsed
/// JSON (which catches `\u0031…` escapes), must carry nothing that looks like an individual
/// number; only then is `T` deserialised. Every failure is an [`Error`] (problem+json), and
/// none repeats what the body held.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        if !is_json(req.headers()) {
            return Err(Error::UnsupportedMediaType);
        }
        let limit = req.extensions().get::<BodyLimit>().map_or(0, |l| l.0);
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::BodyTooLarge { limit }
            } else {
                Error::malformed("the request body could not be read")
            }
        })?;
        individual_number::ensure_absent_in_bytes(&bytes)?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|error| {
            // Syntax errors name a line and column, never the content.
            Error::malformed(format!("the request body is not valid JSON: {error}"))
        })?;
        individual_number::ensure_absent(&value)?;
        let typed = T::deserialize(value).map_err(|error| {
            // Missing or unknown fields and wrong types; the body held no individual number.
            Error::malformed(format!("the request body does not match the schema: {error}"))
        })?;
        Ok(Self(typed))
    }
}

/// The configured body limit, put in request extensions so rejections can name it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit(pub(crate) usize);

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}
