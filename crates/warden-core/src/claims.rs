//! The registered claims Warden reads (RFC 7519 §4.1), typed strictly.

use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

use crate::UnixTime;

/// Largest accepted NumericDate: 9999-12-31T23:59:59Z. Larger values are refused as invalid,
/// which also keeps every sum with a leeway far from overflow.
pub const MAX_NUMERIC_DATE: UnixTime = 253_402_300_799;

/// Longest accepted `sub`, `sid` and `jti`, in bytes: identifiers are revocation-store keys.
pub const MAX_ID_LEN: usize = 256;

/// The claims of a token. Registered claims are typed; the whole object is kept in `raw`.
///
/// Types are strict: `exp`, `nbf` and `iat` must be non-negative JSON integers no larger than
/// [`MAX_NUMERIC_DATE`] (strings, fractions and negatives are refused); `iss`, `sub`, `jti`,
/// `sid` and `scope` must be strings; `aud` a string or an array of strings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Claims {
    /// `iss`: the issuer.
    pub iss: Option<String>,
    /// `sub`: the subject (user).
    pub sub: Option<String>,
    /// `aud`: the audiences (a single string becomes a one-element list).
    pub aud: Vec<String>,
    /// `exp`: expiry.
    pub exp: Option<UnixTime>,
    /// `nbf`: not before.
    pub nbf: Option<UnixTime>,
    /// `iat`: issued at.
    pub iat: Option<UnixTime>,
    /// `jti`: the token id.
    pub jti: Option<String>,
    /// `sid`: the session id (OpenID Connect front-/back-channel logout).
    pub sid: Option<String>,
    /// `scope`: space-separated scopes (RFC 8693 §4.2).
    pub scope: Option<String>,
    /// The whole claims object.
    pub raw: Map<String, Value>,
}

/// The name of a claim that has the wrong type or value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClaimError(pub(crate) &'static str);

impl Claims {
    pub(crate) fn from_map(raw: Map<String, Value>) -> Result<Self, ClaimError> {
        Ok(Claims {
            iss: string(&raw, "iss", usize::MAX)?,
            sub: string(&raw, "sub", MAX_ID_LEN)?,
            aud: audience(&raw)?,
            exp: numeric_date(&raw, "exp")?,
            nbf: numeric_date(&raw, "nbf")?,
            iat: numeric_date(&raw, "iat")?,
            jti: string(&raw, "jti", MAX_ID_LEN)?,
            sid: string(&raw, "sid", MAX_ID_LEN)?,
            scope: string(&raw, "scope", usize::MAX)?,
            raw,
        })
    }

    /// Whether `scope` lists `wanted` as one of its space-separated entries.
    pub fn has_scope(&self, wanted: &str) -> bool {
        self.scope
            .as_deref()
            .is_some_and(|s| s.split(' ').any(|x| x == wanted))
    }
}

fn string(
    raw: &Map<String, Value>,
    name: &'static str,
    max: usize,
) -> Result<Option<String>, ClaimError> {
    match raw.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if s.len() <= max && !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(ClaimError(name)),
    }
}

fn numeric_date(
    raw: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<UnixTime>, ClaimError> {
    match raw.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(t) if t <= MAX_NUMERIC_DATE => Ok(Some(t)),
            _ => Err(ClaimError(name)),
        },
        Some(_) => Err(ClaimError(name)),
    }
}

fn audience(raw: &Map<String, Value>) -> Result<Vec<String>, ClaimError> {
    match raw.get("aud") {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(alloc::vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(String::from).ok_or(ClaimError("aud")))
            .collect(),
        Some(_) => Err(ClaimError("aud")),
    }
}
