//! The admin API's request parsing and authentication (pure; the handler does the I/O).

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use warden_core::{UnixTime, MAX_ID_LEN, MAX_NUMERIC_DATE};

/// Largest admin request body, in bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// Whether `presented` (the request's `Authorization` value) carries exactly `Bearer <secret>`.
/// Compares SHA-256 digests in constant time, so neither content nor length leaks.
pub fn authorized(presented: Option<&str>, secret: &str) -> bool {
    let Some(token) = presented.and_then(|v| v.strip_prefix("Bearer ")) else {
        return false;
    };
    let a = Sha256::digest(token.as_bytes());
    let b = Sha256::digest(secret.as_bytes());
    a.ct_eq(&b).into()
}

/// A parsed revocation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoke {
    /// Revoke one token by its `jti`. `exp`, when given, bounds how long the record is kept;
    /// otherwise it is kept as long as any token may live (the lifetime cap).
    Jti {
        /// The token id.
        jti: String,
        /// The token's expiry, if the caller knows it.
        exp: Option<UnixTime>,
    },
}

/// Parses a `POST /_warden/revoke` body, with a message naming the offending field.
pub fn parse_revoke(body: &[u8]) -> Result<Revoke, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("request body is not valid JSON: {e}"))?;
    let Value::Object(map) = value else {
        return Err("request body must be a JSON object".into());
    };
    if let Some(unknown) = map.keys().find(|k| !["jti", "exp"].contains(&k.as_str())) {
        return Err(format!(
            "unknown field `{unknown}`; expected `jti` and optionally `exp`"
        ));
    }
    let jti = id(&map, "jti")?.ok_or("field `jti` is required")?;
    let exp = match map.get("exp") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|t| *t <= MAX_NUMERIC_DATE)
                .ok_or("field `exp` must be a Unix time in seconds (a non-negative integer)")?,
        ),
    };
    Ok(Revoke::Jti { jti, exp })
}

fn id(map: &Map<String, Value>, field: &'static str) -> Result<Option<String>, String> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_ID_LEN => Ok(Some(s.clone())),
        Some(_) => Err(format!(
            "field `{field}` must be a non-empty string of at most {MAX_ID_LEN} bytes"
        )),
    }
}

/// KV expiration (absolute Unix seconds) for a revocation record: it must outlive every token
/// it kills (valid while `now < exp + leeway`), and KV needs at least `now + 60`.
pub fn record_expiration(
    exp: Option<UnixTime>,
    now: UnixTime,
    leeway: u64,
    max_lifetime: u64,
) -> UnixTime {
    let until = exp.unwrap_or(now + max_lifetime) + leeway;
    until.max(now + 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_is_exact() {
        assert!(authorized(Some("Bearer s3cret"), "s3cret"));
        assert!(!authorized(Some("Bearer s3cret2"), "s3cret"));
        assert!(!authorized(Some("Bearer s3cre"), "s3cret"));
        assert!(!authorized(Some("bearer s3cret"), "s3cret"));
        assert!(!authorized(Some("s3cret"), "s3cret"));
        assert!(!authorized(None, "s3cret"));
    }

    #[test]
    fn revoke_bodies() {
        assert_eq!(
            parse_revoke(br#"{"jti":"t-1","exp":1700000600}"#),
            Ok(Revoke::Jti {
                jti: "t-1".into(),
                exp: Some(1_700_000_600)
            })
        );
        assert_eq!(
            parse_revoke(br#"{"jti":"t-1"}"#),
            Ok(Revoke::Jti {
                jti: "t-1".into(),
                exp: None
            })
        );
        assert!(parse_revoke(b"{")
            .unwrap_err()
            .starts_with("request body is not valid JSON"));
        assert_eq!(
            parse_revoke(b"[]").unwrap_err(),
            "request body must be a JSON object"
        );
        assert_eq!(parse_revoke(b"{}").unwrap_err(), "field `jti` is required");
        assert!(parse_revoke(br#"{"jti":5}"#)
            .unwrap_err()
            .starts_with("field `jti` must be"));
        assert!(parse_revoke(br#"{"jti":""}"#)
            .unwrap_err()
            .starts_with("field `jti` must be"));
        let long = format!(r#"{{"jti":"{}"}}"#, "x".repeat(257));
        assert!(parse_revoke(long.as_bytes())
            .unwrap_err()
            .starts_with("field `jti` must be"));
        assert!(parse_revoke(br#"{"jti":"a","exp":"soon"}"#)
            .unwrap_err()
            .starts_with("field `exp` must be"));
        assert!(parse_revoke(br#"{"jti":"a","exp":-1}"#)
            .unwrap_err()
            .starts_with("field `exp` must be"));
        assert!(parse_revoke(br#"{"jti":"a","jtl":1}"#)
            .unwrap_err()
            .starts_with("unknown field `jtl`"));
    }

    #[test]
    fn records_outlive_their_tokens() {
        assert_eq!(record_expiration(Some(2_000), 1_000, 30, 86_400), 2_030);
        assert_eq!(record_expiration(Some(900), 1_000, 30, 86_400), 1_060);
        assert_eq!(record_expiration(None, 1_000, 30, 86_400), 87_430);
    }
}
