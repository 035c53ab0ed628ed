//! The JSON body extractor: owns every rejection, refuses individual numbers before any typed
//! parsing, and accepts only bodies of the documented shape.
//!
//! In order:
//!
//! 1. `Content-Type` must be JSON (415), the body must fit the limit (413);
//! 2. the raw bytes carry no standalone individual number (400 `individual_number_forbidden`);
//! 3. the body is a JSON object without duplicate keys (400 `malformed_request`);
//! 4. every object key, number and string of the parsed JSON (escapes decoded, so `\u0031…`
//!    hides nothing) carries no individual number: the short-text rule (anywhere, any
//!    separators) for all of them except the values of the body's binary fields (certificate,
//!    signatures, wallet address), which keep the standalone rule;
//! 5. the object has only the documented fields, each a string (or `null` where
//!    optional), the required ones present (400 `malformed_request`);
//! 6. only then is the typed body built.
//!
//! A detail names the field and what was expected, never a value, and never an unknown key's
//! name (serde's messages repeat both, so none of them is passed on).

use std::{cell::Cell, collections::HashSet, fmt};

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{HeaderMap, StatusCode, header},
};
use honnin_core::individual_number;
use serde::{
    Deserializer as _,
    de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor},
};
use serde_json::{Map, Value};

use crate::error::Error;

/// How a field's text is checked for individual numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    /// Short text (ids, names, audiences): refused if twelve digits with a valid check digit
    /// sit anywhere in it.
    Short,
    /// Binary data as text (base64, hex): only a standalone number is refused (random digit
    /// runs are common in long blobs).
    Binary,
}

/// One field of a request body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    /// Its name.
    pub(crate) name: &'static str,
    /// Whether it must be present (optional fields may also be `null`).
    pub(crate) required: bool,
    /// The individual-number rule for its value.
    pub(crate) text: Text,
}

impl Field {
    /// A required field.
    pub(crate) const fn required(name: &'static str, text: Text) -> Self {
        Self { name, required: true, text }
    }

    /// An optional field.
    pub(crate) const fn optional(name: &'static str, text: Text) -> Self {
        Self { name, required: false, text }
    }
}

/// A request body: a flat JSON object of string fields.
pub(crate) trait Body: DeserializeOwned {
    /// Its fields (every field is a string).
    const FIELDS: &'static [Field];
}

/// A JSON request body of type `T` (see the [module docs](self) for the order of checks).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: Body,
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
        parse(&bytes).map(Self)
    }
}

/// Steps 2 to 6 over a body's bytes.
pub(crate) fn parse<T: Body>(bytes: &[u8]) -> Result<T, Error> {
    individual_number::ensure_absent_in_bytes(bytes)?;
    let Value::Object(object) = strict_value(bytes)? else {
        return Err(Error::malformed("the request body must be a JSON object"));
    };
    ensure_no_number(&object, T::FIELDS)?;
    check_shape(&object, T::FIELDS)?;
    // Every field is a string or null by now; a failure here would be a bug in FIELDS, and its
    // message (which may repeat the body) is not passed on.
    T::deserialize(Value::Object(object))
        .map_err(|_| Error::malformed("the request body does not match the schema"))
}

/// Parses JSON, refusing duplicate keys at any depth. Errors say where, never what.
fn strict_value(bytes: &[u8]) -> Result<Value, Error> {
    let duplicate = Cell::new(false);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = deserializer.deserialize_any(StrictVisitor(&duplicate)).and_then(|value| {
        deserializer.end()?;
        Ok(value)
    });
    parsed.map_err(|error| {
        if duplicate.get() {
            // A repeated key (never named).
            Error::malformed("the request body has a duplicate key")
        } else {
            Error::malformed(format!(
                "the request body is not valid JSON (line {}, column {})",
                error.line(),
                error.column()
            ))
        }
    })
}

/// Builds a [`Value`] like serde_json's own, but refuses an object with a repeated key (and
/// says so in the cell).
struct StrictVisitor<'a>(&'a Cell<bool>);

impl<'de> Visitor<'de> for StrictVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict(self.0))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                self.0.set(true);
                return Err(de::Error::custom("duplicate key"));
            }
            let value = map.next_value_seed(Strict(self.0))?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// [`StrictVisitor`] as a seed, for nested values.
struct Strict<'a>(&'a Cell<bool>);

impl<'de> de::DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictVisitor(self.0))
    }
}

/// Step 4: no individual number in any key, number or string; the short-text rule except for
/// the values of the top-level binary fields.
fn ensure_no_number(object: &Map<String, Value>, fields: &[Field]) -> Result<(), Error> {
    let found = object.iter().any(|(key, value)| {
        let binary = fields.iter().any(|f| f.name == key && f.text == Text::Binary);
        individual_number::contains_in_short_text(key)
            || match value {
                Value::String(text) if binary => individual_number::contains_in_text(text),
                other => carries_number(other),
            }
    });
    if found { Err(individual_number::IndividualNumberForbidden.into()) } else { Ok(()) }
}

/// The short-text rule over every key, number and string of `value`, at any depth.
fn carries_number(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(_) => false,
        Value::Number(n) => individual_number::contains_in_short_text(&n.to_string()),
        Value::String(s) => individual_number::contains_in_short_text(s),
        Value::Array(items) => items.iter().any(carries_number),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| individual_number::contains_in_short_text(k) || carries_number(v)),
    }
}

/// Step 5: only the documented fields, each a string (or `null` when optional), the required
/// ones present.
fn check_shape(object: &Map<String, Value>, fields: &[Field]) -> Result<(), Error> {
    if object.keys().any(|key| !fields.iter().any(|f| f.name == key)) {
        return Err(Error::malformed("the request body has a field the schema does not define"));
    }
    for field in fields {
        match object.get(field.name) {
            Some(Value::String(_)) => {}
            Some(Value::Null) | None if !field.required => {}
            None => {
                return Err(Error::malformed(format!("`{}` is required", field.name)));
            }
            Some(_) => {
                let expected = if field.required { "a string" } else { "a string or null" };
                return Err(Error::malformed(format!("`{}` must be {expected}", field.name)));
            }
        }
    }
    Ok(())
}

/// The configured body limit, put in request extensions so rejections can name it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit(pub(crate) usize);

fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}
